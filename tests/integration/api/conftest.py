"""Fixtures for the API's integration tests: the local cluster with our CRDs, the real API.

The ``cluster`` and ``kube`` fixtures come from ``tests/conftest.py`` (a fresh in-process local
cluster per test). CRDs are installed from the chart, their single source
(:func:`gateway.kube.crds.install`).
``start_api`` runs the real server (``gateway.api.server.running``) on a free port; ``world``
seeds instance types, groups and users through the admin GraphQL API itself.

A test that issues client tokens for private deployments asks for ``data_plane`` too: a real
controller publishing to a real Redis, which the API then reads, since such a mutation returns
only once the token's hash is published (:mod:`gateway.api.dataplane`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import aiohttp
import pytest
from apikit import BOOTSTRAP, PUBLIC, PUBLIC_API, Api, StartApi, World, eventually, seed
from kubernetes_asyncio.client import ApiClient
from redis.asyncio import Redis
from redis_server import RedisServer

from gateway.api.server import running
from gateway.api.settings import ApiSettings
from gateway.controller.running import ControllerProcess
from gateway.controller.settings import ControllerSettings
from gateway.kube import crds
from gateway.kube.client import Kube
from gateway.localcluster import LocalCluster


@pytest.fixture
async def kubeclient(kube: ApiClient) -> Kube:
    """The project's raw-JSON client on the local cluster, with the chart's CRDs installed."""
    client = Kube(kube)
    await crds.install(client)
    return client


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def data_plane(cluster: LocalCluster, kubeclient: Kube,
                     redis_server: RedisServer) -> AsyncIterator[str]:
    """A real controller (leading at once) publishing to a real Redis; yields Redis's URL."""
    settings = ControllerSettings(
        namespace="default", kubernetes_url=cluster.url, redis_url=redis_server.url,
        public_url=PUBLIC, identity="api-tests-controller", health_port=0, workers=4,
        retry_base=0.01, retry_cap=0.5, lease_duration=1.0, renew_deadline=0.6,
        retry_period=0.1)
    redis = Redis.from_url(redis_server.url)
    process = ControllerProcess(kube=kubeclient, redis=redis, settings=settings)
    task = asyncio.create_task(process.run(), name="api-tests-controller")

    async def leading() -> None:
        assert not task.done(), task
        assert process.controller is not None
        assert process.controller.synced

    await eventually(leading)
    yield redis_server.url
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await redis.aclose()


@pytest.fixture
async def start_api(request: pytest.FixtureRequest, cluster: LocalCluster, kubeclient: Kube,
                    http: aiohttp.ClientSession) -> AsyncIterator[StartApi]:
    """Start real API servers against the local cluster; each ready (caches loaded), and
    reading the data plane's Redis when the test asked for ``data_plane``."""
    redis: dict[str, Any] = {}
    if "data_plane" in request.fixturenames:
        redis["redis_url"] = request.getfixturevalue("data_plane")
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Api:
            options: dict[str, Any] = {
                "port": 0, "kubernetes_url": cluster.url, "namespace": "default",
                "bootstrap_token": BOOTSTRAP, "api_public_url": PUBLIC_API,
                "public_url": PUBLIC, "hash_scheme": "pbkdf2_sha256", **redis,
            } | overrides
            url = await stack.enter_async_context(running(ApiSettings(**options)))

            async def ready() -> None:
                async with http.get(f"{url}/readyz") as response:
                    assert response.status == 200

            await eventually(ready)
            return Api(http, url)

        yield start


@pytest.fixture
async def api(start_api: StartApi) -> Api:
    """One API server with the default test settings."""
    return await start_api()


@pytest.fixture
async def world(api: Api) -> World:
    """The seeded users (see :class:`apikit.World`)."""
    return await seed(api)
