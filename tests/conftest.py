"""Fixtures shared by every test: a local Kubernetes API server and a client pointed at it,
a real redis-server with a client, and the real Kubernetes control plane (started once per
session, only when a test asks for it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from kubernetes_asyncio.client import ApiClient, Configuration
from realcluster.binaries import BUILD_COMMAND, find_binaries
from realcluster.controlplane import ControlPlane, ControlPlaneFailed
from redis.asyncio import Redis

from gateway.dev.redisserver import RedisServer
from gateway.localcluster import LocalCluster, LocalClusterSettings

# Property tests check what is accepted, never how fast: CI machines are shared and loaded, so
# hypothesis' per-example deadline would turn a slow moment into a failure.
settings.register_profile("model-gateway", deadline=None)
settings.load_profile("model-gateway")


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


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free port, for this test only (stop/restart it to test
    Redis going away)."""
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A client to ``redis_server`` for the test's own reads and writes (text, not bytes)."""
    client = Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


CONTROL_PLANE_START_TIMEOUT = 300


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """The real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok),
    started once for the session from the cached binaries and stopped at its end."""
    binaries = find_binaries()
    if binaries is None:
        pytest.fail("the real Kubernetes control plane is not built for this checkout; build "
                    f"it with `{BUILD_COMMAND}` (the first build takes many minutes)",
                    pytrace=False)
    try:
        with ControlPlane.started(binaries, tmp_path_factory.mktemp("controlplane")) as plane:
            yield plane
    except ControlPlaneFailed as error:
        pytest.fail(f"the real control plane did not start: {error}", pytrace=False)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The first test to use the control plane also pays for starting it: give it time."""
    for item in session.items:
        if "control_plane" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(CONTROL_PLANE_START_TIMEOUT))
            return
