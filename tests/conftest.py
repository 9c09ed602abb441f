"""Fixtures shared by every test: a local Kubernetes API server and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from kubernetes_asyncio.client import ApiClient, Configuration

from gateway.localcluster import LocalCluster, LocalClusterSettings


@pytest.fixture
async def cluster() -> AsyncIterator[LocalCluster]:
    """A local cluster on 127.0.0.1:<free port>, started in-process, fast timings."""
    settings = LocalClusterSettings(pod_start_delay=0.05, bookmark_interval=0.2)
    async with LocalCluster.running(settings) as running:
        yield running


def client_for(url: str) -> ApiClient:
    """A kubernetes-asyncio ApiClient talking plain HTTP to ``url``."""
    configuration = Configuration(host=url)
    return ApiClient(configuration)


@pytest.fixture
async def kube(cluster: LocalCluster) -> AsyncIterator[ApiClient]:
    """A kubernetes_asyncio ApiClient whose configuration host is ``cluster.url``."""
    async with client_for(cluster.url) as client:
        yield client
