"""Fixtures for the controller's integration tests: the local cluster with the product's CRDs,
a real redis-server, and real controller replicas started in this process.

``cluster`` and ``kube`` (the kubernetes-asyncio ``ApiClient``) come from ``tests/conftest.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from controllerkit import (
    Replica,
    StartController,
    create_group,
    create_instance_type,
    eventually,
    settings_for,
)
from kubernetes_asyncio.client import ApiClient
from redis.asyncio import Redis
from redis_server import RedisServer

from gateway.controller.running import ControllerProcess
from gateway.kube import crds
from gateway.kube.client import Kube
from gateway.localcluster import LocalCluster


@pytest.fixture
async def api(kube: ApiClient) -> Kube:
    """The project's JSON client on the test's cluster, with the CRDs, a group enabled for
    deployment and one instance type installed."""
    client = Kube(kube)
    await crds.install(client)
    await create_instance_type(client)
    await create_group(client)
    return client


@pytest.fixture
async def start_controller(cluster: LocalCluster, kube: ApiClient, redis_server: RedisServer,
                           api: Kube) -> AsyncIterator[StartController]:
    """Start controller replicas (each with its own Redis pool); all stopped at the end.

    ``leader=True`` waits until the replica leads and its caches are synced.
    """
    replicas: list[Replica] = []

    async def start(*, leader: bool = True, **overrides: Any) -> Replica:
        settings = settings_for(cluster_url=cluster.url, redis_url=redis_server.url,
                                 **overrides)
        client = Redis.from_url(settings.redis_url)
        process = ControllerProcess(kube=Kube(kube), redis=client, settings=settings)
        replica = Replica(process, asyncio.create_task(process.run(), name=settings.identity),
                          client)
        replicas.append(replica)
        if leader:
            async def synced() -> None:
                assert not replica.task.done(), replica.task
                assert process.controller is not None
                assert process.controller.synced

            await eventually(synced)
        return replica

    yield start
    for replica in replicas:
        await replica.stop()
