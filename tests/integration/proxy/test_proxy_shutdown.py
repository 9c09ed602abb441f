"""Graceful shutdown: in-flight requests finish, new connections are refused."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
from proxykit import StartProxy, Upstream, eventually, publish, routed, url
from redis.asyncio import Redis
from redis_server import RedisServer, free_port

from proxy.app import HANDLER


async def test_stopping_lets_in_flight_requests_finish(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """A request in progress when shutdown starts completes; new connections are refused."""
    proxy = await start_proxy()
    port = proxy.port
    await routed(proxy, redis, "iris-abc12", upstream.address)
    in_flight = asyncio.create_task(http.get(url(port, "/deployment/iris-abc12/hang")))
    await eventually(lambda: upstream.hanging == 1)
    stopping = asyncio.create_task(proxy.stop())
    await eventually(lambda: _refuses(port))
    assert not stopping.done()
    upstream.release.set()
    response = await in_flight
    assert response.status == 200
    assert await response.json() == {"released": True}
    await stopping
    assert HANDLER in proxy.app  # stopped through its own cleanup, not torn down early


async def _refuses(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


async def test_sigterm_stops_the_process_gracefully(
        redis_server: RedisServer, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession, tmp_path: Path) -> None:
    """`python -m proxy` finishes the in-flight request after SIGTERM, then exits 0; with
    MODEL_GATEWAY_LOG_FORMAT=json every line it wrote is a JSON object."""
    port = free_port()
    env = os.environ | {
        "MODEL_GATEWAY_REDIS_URL": redis_server.url, "MODEL_GATEWAY_PROXY_PORT": str(port),
        "MODEL_GATEWAY_PROXY_METRICS_PORT": str(free_port()), "MODEL_GATEWAY_LOG_FORMAT": "json",
    }
    log = (tmp_path / "proxy.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "proxy", env=env, stdout=log, stderr=log)
    try:
        await publish(redis, "iris-abc12", upstream.address)
        await eventually(lambda: _answers(http, port), within=20)
        in_flight = asyncio.create_task(http.get(url(port, "/deployment/iris-abc12/hang")))
        await eventually(lambda: upstream.hanging == 1)
        process.send_signal(signal.SIGTERM)
        await eventually(lambda: _refuses(port))
        upstream.release.set()
        assert (await in_flight).status == 200
        assert await asyncio.wait_for(process.wait(), timeout=20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log.close()
    lines = [json.loads(line) for line in (tmp_path / "proxy.log").read_text().splitlines()]
    assert "proxy shutting down" in {line["message"] for line in lines}
    assert any(line.get("path") == "/deployment/iris-abc12/hang" for line in lines)


async def _answers(http: aiohttp.ClientSession, port: int) -> bool:
    try:
        async with http.get(url(port, "/deployment/iris-abc12/x")) as response:
            return response.status == 200
    except aiohttp.ClientConnectionError:
        return False


async def test_several_workers_share_the_port_and_stop_together(
        redis_server: RedisServer, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession, tmp_path: Path) -> None:
    """With two workers, both serve (metrics on port and port+1, each address logged at
    start) and SIGTERM stops both."""
    port, metrics = free_port(), free_port()
    env = os.environ | {
        "MODEL_GATEWAY_REDIS_URL": redis_server.url, "MODEL_GATEWAY_PROXY_PORT": str(port),
        "MODEL_GATEWAY_PROXY_METRICS_PORT": str(metrics), "MODEL_GATEWAY_PROXY_WORKERS": "2",
    }
    await publish(redis, "iris-abc12", upstream.address)
    with (tmp_path / "proxy.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "proxy", env=env, stdout=log, stderr=log)
        try:
            for metrics_port in (metrics, metrics + 1):
                await eventually(lambda p=metrics_port: _ready(http, p), within=20)
            assert await _answers(http, port)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=20) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    printed = (tmp_path / "proxy.log").read_text()
    for metrics_port in (metrics, metrics + 1):
        assert f"metrics=http://127.0.0.1:{metrics_port}/metrics" in printed


async def _ready(http: aiohttp.ClientSession, metrics_port: int) -> bool:
    try:
        async with http.get(f"http://127.0.0.1:{metrics_port}/readyz") as response:
            return response.status == 200
    except aiohttp.ClientConnectionError:
        return False
