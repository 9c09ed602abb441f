"""Several worker processes: each labels its metrics, and an eviction reaches every one."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from proxykit import Upstream, eventually, new_token, publish, url
from redis.asyncio import Redis
from redis_server import RedisServer, free_port

from proxy.publishing import replace_everything
from proxy.records import Access

pytestmark = pytest.mark.timeout(180)  # two spawned processes start slowly on a loaded machine

WORKERS = 2
TOKEN = new_token()
AUTH = {"Authorization": "Basic " + base64.b64encode(f"app:{TOKEN}".encode()).decode()}


async def _samples(metrics_port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{metrics_port}/metrics") as response:
        text = await response.text()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


async def _counted(metrics_port: int, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples carrying ``labels`` on one worker's port."""
    wanted = set(labels.items())
    return sum(value for (sample, sample_labels), value in (await _samples(metrics_port)).items()
               if sample == name and wanted <= sample_labels)


async def _status(port: int) -> int:
    """One request on a new connection, so the kernel may pick either worker."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http, \
            http.get(url(port, "/deployment/iris-abc12/x"), headers=AUTH) as response:
        return response.status


async def _ready(metrics_port: int) -> bool:
    try:
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{metrics_port}/readyz") as response:
            return response.status == 200
    except aiohttp.ClientConnectionError:
        return False


@pytest.fixture
async def workers(redis_server: RedisServer, redis: Redis,
                  tmp_path: Path) -> AsyncIterator[tuple[int, int]]:
    """``model-gateway proxy --workers 2``: its port and its first metrics port."""
    await replace_everything(redis, deployments=[], epoch="tests")  # as a controller would
    port, metrics = free_port(), free_port()
    env = os.environ | {
        "MODEL_GATEWAY_REDIS_URL": redis_server.url, "MODEL_GATEWAY_PROXY_PORT": str(port),
        "MODEL_GATEWAY_PROXY_METRICS_PORT": str(metrics),
        "MODEL_GATEWAY_PROXY_FAILED_LOGIN_LIMIT": "1000",
        "MODEL_GATEWAY_PROXY_FAILED_LOGIN_ADDRESS_LIMIT": "1000",
        "MODEL_GATEWAY_PROXY_FAILED_LOGIN_BACKOFF_AFTER": "1000",
    }
    with (tmp_path / "proxy.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main())",
            "proxy", "--workers", str(WORKERS), env=env, stdout=log, stderr=log)
        try:
            for worker in range(WORKERS):
                await eventually(lambda worker=worker: _ready(metrics + worker), within=60)
            yield port, metrics
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), timeout=60)
            assert code == 0, (tmp_path / "proxy.log").read_text()[-3000:]
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_a_removed_client_is_refused_by_every_worker(
        workers: tuple[int, int], redis: Redis, upstream: Upstream) -> None:
    """Once both workers have the client cached, removing it makes both refuse it at once."""
    port, metrics = workers
    await publish(redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                  clients={"app": TOKEN})

    async def both_verified() -> bool:
        with_status = [await _status(port) for _ in range(4)]
        assert set(with_status) <= {200, 404}  # 404 until a worker has heard of the route
        verified = [await _counted(metrics + worker, "proxy_auth_total", outcome="verified",
                                   worker=str(worker)) for worker in range(WORKERS)]
        return all(count >= 1 for count in verified)

    await eventually(both_verified, within=60, interval=0.05)
    refused_before = [await _counted(metrics + worker, "proxy_requests_total", status_class="4xx")
                      for worker in range(WORKERS)]
    await publish(redis, "iris-abc12", upstream.address, access=Access.PRIVATE, clients={})

    async def refused_everywhere() -> bool:
        return {await _status(port) for _ in range(10)} == {401}

    await eventually(refused_everywhere, within=15, interval=0.05)
    refused_after = [await _counted(metrics + worker, "proxy_requests_total", status_class="4xx")
                     for worker in range(WORKERS)]
    assert all(after > before for before, after in zip(refused_before, refused_after,
                                                         strict=True))
