"""Redis losing its data under traffic: the whole data plane (local cluster running the demo
model, controller, real proxy) keeps a steady client at 200 or 503 with Retry-After, never
401, 404 or 429, and is whole again within a couple of seconds."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from controllerkit import NAMESPACE, StartController, create_deployment, eventually, wait_phase
from redis.asyncio import Redis
from redis_server import RedisServer

from gateway.dev.model import DemoModelRuntime
from gateway.kube import clientsecrets, phdeployments
from gateway.kube.client import Kube
from gateway.kube.phdeployments import PHDEPLOYMENTS
from gateway.localcluster import LocalCluster, LocalClusterSettings
from proxy.hashing import make_context
from proxy.serving import RunningProxy, start
from proxy.settings import ProxySettings

TOKEN = "mgc_steady-client-token-with-enough-entropy-for-a-test"
BODY = {"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}}


@pytest.fixture
async def cluster() -> AsyncIterator[LocalCluster]:
    """A local cluster whose pods really run the demo model behind their Services."""
    runtime = DemoModelRuntime(lambda namespace, pod, line: None)
    settings = LocalClusterSettings(pod_start_delay=0.05, bookmark_interval=0.2,
                                    serve_services=True)
    async with LocalCluster.running(settings, runtime=runtime) as running:
        yield running
    await runtime.close()


@pytest.fixture
async def proxy(redis_server: RedisServer) -> AsyncIterator[RunningProxy]:
    """The proxy with a short cache TTL, so the client is verified against Redis often."""
    running = await start(ProxySettings(host="127.0.0.1", port=0, metrics_port=0,
                                        redis_url=redis_server.url, cache_ttl=0.1,
                                        retry_after=1, shutdown_timeout=2))
    yield running
    await running.stop()


@dataclass
class SteadyClient:
    """Calls the model back to back and keeps every answer: (status, Retry-After)."""

    url: str
    answers: list[tuple[int, str | None]] = field(default_factory=list)

    async def run(self, http: aiohttp.ClientSession) -> None:
        auth = "Basic " + base64.b64encode(f"app:{TOKEN}".encode()).decode()
        while True:
            async with http.post(self.url, json=BODY,
                                 headers={"Authorization": auth}) as response:
                await response.read()
                self.answers.append((response.status, response.headers.get("Retry-After")))
            await asyncio.sleep(0.005)


async def _serving(http: aiohttp.ClientSession, url: str) -> None:
    auth = "Basic " + base64.b64encode(f"app:{TOKEN}".encode()).decode()
    async with http.post(url, json=BODY, headers={"Authorization": auth}) as response:
        assert response.status == 200, await response.text()


@pytest.mark.parametrize("loss", ["flushall", "restart-empty"])
async def test_a_steady_client_sees_only_200_or_503_and_recovers(
        api: Kube, redis: Redis, redis_server: RedisServer, start_controller: StartController,
        proxy: RunningProxy, loss: str) -> None:
    """Through FLUSHALL or a restart without data: no 401/404/429, every 503 says when to
    retry, and 200s again within a couple of seconds."""
    await start_controller(resync_period=60)
    await create_deployment(api, "iris", access="private", clients=("app",))
    view = phdeployments.parse(await api.get(PHDEPLOYMENTS, namespace=NAMESPACE, name="iris"))
    await clientsecrets.put_client(api, deployment=view, client="app",
                                   hash_=make_context().hash(TOKEN))
    await wait_phase(api, "iris", "Deployed")
    url = f"http://127.0.0.1:{proxy.port}/deployment/iris/api/v1.0/predictions"
    async with aiohttp.ClientSession() as http:
        await eventually(lambda: _serving(http, url), deadline=20)
        client = SteadyClient(url)
        task = asyncio.create_task(client.run(http))
        try:
            await eventually(_answered(client, 5))
            if loss == "flushall":
                await redis.flushall()
            else:
                redis_server.restart()
            loop = asyncio.get_running_loop()
            lost_at, before = loop.time(), len(client.answers)

            async def recovered() -> None:
                assert len(client.answers) > before + 20
                assert [status for status, _ in client.answers[-10:]] == [200] * 10

            await eventually(recovered, deadline=10)
            took = loop.time() - lost_at
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    statuses = {status for status, _ in client.answers}
    assert statuses <= {200, 503}, client.answers
    assert all(retry for status, retry in client.answers if status == 503)
    assert took < 3.0


def _answered(client: SteadyClient, count: int) -> object:
    async def probe() -> None:
        assert len(client.answers) >= count
    return probe
