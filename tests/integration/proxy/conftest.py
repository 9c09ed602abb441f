"""Fixtures for the proxy's integration tests: real Redis, real upstreams, the real proxy.

``redis_server`` is self-contained and generic (start, stop, restart on the same port) so it
can move to the top-level conftest for other components' tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from proxykit import StartProxy, Upstream, eventually
from redis.asyncio import Redis
from redis_server import RedisServer

from proxy.app import ROUTES
from proxy.publishing import replace_everything
from proxy.serving import RunningProxy, start
from proxy.settings import ProxySettings


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    """A model-server stand-in on 127.0.0.1."""
    server = await Upstream().start()
    yield server
    await server.stop()


@pytest.fixture
async def start_proxy(redis_server: RedisServer, redis: Redis) -> AsyncIterator[StartProxy]:
    """Start real proxies on free ports against ``redis_server``, whose data plane a first
    (empty) resync has marked complete, as a controller would; all stopped at the end."""
    await replace_everything(redis, deployments=[], epoch="tests")
    started: list[RunningProxy] = []

    async def start_one(*, wait_loaded: bool = True, **overrides: Any) -> RunningProxy:
        options: dict[str, Any] = {
            "host": "127.0.0.1", "port": 0, "metrics_port": 0, "redis_url": redis_server.url,
            "shutdown_timeout": 5.0, "usage_flush_interval": 0.1, "read_timeout": 5.0,
        } | overrides
        running = await start(ProxySettings(**options))
        started.append(running)
        if wait_loaded:
            await eventually(lambda: running.app[ROUTES].loaded)
        return running

    yield start_one
    for running in started:
        await running.stop()


@pytest.fixture
async def proxy(start_proxy: StartProxy) -> RunningProxy:
    """One proxy with default settings, its route table loaded."""
    return await start_proxy()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client, no cookies, no automatic decompression."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(),
                                     auto_decompress=False) as session:
        yield session
