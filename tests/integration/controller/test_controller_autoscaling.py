"""Autoscaling end to end on the local cluster: real pods running a slow model behind their
Services, the real proxy reporting load, the controller deciding with short windows."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from controllerkit import (
    NAMESPACE,
    StartController,
    create_deployment,
    eventually,
    pods_of,
    status_of,
    wait_phase,
)
from redis.asyncio import Redis
from redis_server import RedisServer

from gateway.controller.status import WAKEABLE
from gateway.kube import clientsecrets, phdeployments
from gateway.kube.autoscaling import Autoscaling
from gateway.kube.client import DEPLOYMENTS, HPAS, Kube
from gateway.kube.errors import NotFound
from gateway.kube.phdeployments import PHDEPLOYMENTS
from gateway.localcluster import LocalCluster, LocalClusterSettings
from proxy.app import ROUTES
from proxy.hashing import make_context
from proxy.records import WAKES_KEY
from proxy.serving import RunningProxy, start
from proxy.settings import ProxySettings

TOKEN = "mgc_autoscaling-client-token-with-enough-entropy-for-a-test"
BODY = {"data": {"ndarray": [[1]]}}
MODEL_SECONDS = 0.2
FAST = {"autoscale_period": 0.2, "autoscale_stable_window": 3.0,
        "autoscale_panic_window": 0.6}


class SlowModel:
    """A container runtime whose model takes MODEL_SECONDS per request (load builds up), and
    which, like any server told to stop, closes connections after answering while it drains."""

    def __init__(self) -> None:
        self._runners: dict[tuple[str, str], web.AppRunner] = {}
        self._draining: set[tuple[str, str]] = set()

    async def start(self, pod: dict[str, Any], address: str) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])

        async def predict(request: web.Request) -> web.Response:
            await request.read()
            await asyncio.sleep(MODEL_SECONDS)
            response = web.json_response({"pod": key[1]})
            if key in self._draining:
                response.force_close()
            return response

        app = web.Application()
        app.router.add_post("/api/v1.0/predictions", predict)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5)
        await runner.setup()
        port = pod["spec"]["containers"][0]["ports"][0]["containerPort"]
        await web.TCPSite(runner, address, port).start()
        self._runners[key] = runner

    async def drain(self, namespace: str, name: str) -> None:
        self._draining.add((namespace, name))

    async def stop(self, namespace: str, name: str) -> None:
        runner = self._runners.pop((namespace, name), None)
        if runner is not None:
            await runner.cleanup()

    async def close(self) -> None:
        for namespace, name in list(self._runners):
            await self.stop(namespace, name)


@pytest.fixture
async def cluster() -> AsyncIterator[LocalCluster]:
    """A local cluster whose pods run the slow model behind their Services."""
    runtime = SlowModel()
    settings = LocalClusterSettings(pod_start_delay=0.05, bookmark_interval=0.2,
                                    serve_services=True)
    async with LocalCluster.running(settings, runtime=runtime) as running:
        yield running
    await runtime.close()


@pytest.fixture
async def proxy(redis_server: RedisServer) -> AsyncIterator[RunningProxy]:
    running = await start(ProxySettings(host="127.0.0.1", port=0, metrics_port=0,
                                        redis_url=redis_server.url, retry_after=1,
                                        shutdown_timeout=2, load_report_interval=0.2,
                                        wake_timeout=20))
    yield running
    await running.stop()


@dataclass
class Load:
    """``clients`` callers calling back to back; every answer's status is kept."""

    url: str
    clients: int
    auth: str | None = None
    statuses: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, http: aiohttp.ClientSession) -> None:
        self._tasks = [asyncio.create_task(self._one(http)) for _ in range(self.clients)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _one(self, http: aiohttp.ClientSession) -> None:
        headers = {"Authorization": self.auth} if self.auth else {}
        while True:
            async with http.post(self.url, json=BODY, headers=headers) as response:
                body = await response.read()
                self.statuses.append(response.status)
                if response.status != 200:
                    self.failures.append(body.decode(errors="replace")[:200])


async def replicas_of(api: Kube, name: str) -> int:
    found = await api.get(DEPLOYMENTS, namespace=NAMESPACE, name=f"deploy-{name}")
    return int(found["spec"].get("replicas") or 0)


async def autoscaled(api: Kube, name: str, autoscaling: Autoscaling, **changes: Any) -> None:
    await create_deployment(api, name, **changes)
    await set_autoscaling(api, name, autoscaling)


async def set_autoscaling(api: Kube, name: str, autoscaling: Autoscaling) -> None:
    def change(current: phdeployments.PhDeployment) -> phdeployments.DeploymentSpec:
        predictor = current.spec.predictor
        return phdeployments.DeploymentSpec(**{
            **vars(current.spec), "predictor": type(predictor)(**{
                **vars(predictor), "autoscaling": autoscaling})})

    await phdeployments.change_spec(api, namespace=NAMESPACE, name=name, change=change)


async def test_a_step_load_scales_up_then_down_without_losing_a_request(
        api: Kube, start_controller: StartController, proxy: RunningProxy) -> None:
    """1 -> 50 concurrent callers raise replicas to the maximum within seconds; after the
    load stops they fall back to the minimum while a steady caller gets only 200s."""
    await start_controller(**FAST)
    await autoscaled(api, "iris", Autoscaling(min_replicas=1, max_replicas=4,
                                              target_concurrency=4))
    await wait_phase(api, "iris", "Deployed")
    await eventually(lambda: _routed(proxy, "iris"))  # the status is written before the route
    url = f"http://127.0.0.1:{proxy.port}/deployment/iris/api/v1.0/predictions"
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as http:
        steady = Load(url, clients=1)
        steady.start(http)
        burst = Load(url, clients=50)
        try:
            await eventually(lambda: _statuses(steady, 3), deadline=20)
            burst.start(http)

            async def at_most() -> None:
                # The decision is recorded in the status after the Deployment is written.
                assert await replicas_of(api, "iris") == 4
                status = await status_of(api, "iris")
                assert status["autoscaling"]["predictor1"]["desiredReplicas"] == 4

            await eventually(at_most, deadline=30)
            await burst.stop()

            async def back_to_one() -> None:
                assert await replicas_of(api, "iris") == 1
                assert len(await pods_of(api, "iris")) == 1

            await eventually(back_to_one, deadline=30)
            settled = len(steady.statuses)
            await eventually(lambda: _statuses(steady, settled + 3), deadline=10)
        finally:
            await burst.stop()
            await steady.stop()
    assert set(burst.statuses) == {200}, burst.failures[:5]
    assert set(steady.statuses) == {200}, steady.failures[:5]
    assert (await status_of(api, "iris"))["phase"] == "Deployed"


async def _routed(proxy: RunningProxy, name: str) -> None:
    route = proxy.app[ROUTES].get(name)
    assert route is not None
    assert route.ready


async def _statuses(load: Load, count: int) -> None:
    assert len(load.statuses) >= count


async def test_idle_goes_to_zero_and_only_a_right_token_wakes_it(
        api: Kube, redis: Redis, start_controller: StartController,
        proxy: RunningProxy) -> None:
    """Idle past scaleToZeroAfterSeconds: zero pods, still Deployed, the route wakeable; a
    wrong token gets 401 and starts no pod; the right one is held, wakes it and gets 200."""
    await start_controller(**FAST)
    await autoscaled(api, "iris", Autoscaling(min_replicas=0, max_replicas=2,
                                              target_concurrency=1,
                                              scale_to_zero_after_seconds=1),
                     access="private", clients=("app",))
    view = phdeployments.parse(await api.get(PHDEPLOYMENTS, namespace=NAMESPACE, name="iris"))
    await clientsecrets.put_client(api, deployment=view, client="app",
                                   hash_=make_context().hash(TOKEN))

    async def asleep() -> dict[str, Any]:
        status = await status_of(api, "iris")
        assert (status["phase"], status["message"], status["availableReplicas"]) == (
            "Deployed", WAKEABLE, 0)
        assert await pods_of(api, "iris") == []
        route = proxy.app[ROUTES].get("iris")
        assert route is not None
        assert route.predictors[0].wakeable
        return status

    await eventually(asleep, deadline=30)
    url = f"http://127.0.0.1:{proxy.port}/deployment/iris/api/v1.0/predictions"
    wrong = "Basic " + base64.b64encode(b"app:mgc_not-the-token").decode()
    right = "Basic " + base64.b64encode(f"app:{TOKEN}".encode()).decode()
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            async with http.post(url, json=BODY, headers={"Authorization": wrong}) as answer:
                assert answer.status == 401
        await asyncio.sleep(1.0)  # five autoscaler periods: time enough to start a pod
        assert await redis.xlen(WAKES_KEY) == 0
        assert await replicas_of(api, "iris") == 0
        assert await pods_of(api, "iris") == []
        async with http.post(url, json=BODY, headers={"Authorization": right}) as answer:
            assert answer.status == 200, await answer.text()
    assert await replicas_of(api, "iris") >= 1


async def test_a_cpu_target_is_a_horizontal_pod_autoscaler_the_controller_follows(
        api: Kube, start_controller: StartController) -> None:
    """targetCPUPercent: an autoscaling/v2 HPA aims at the Deployment within the bounds; the
    replicas it sets are kept; a concurrency target instead deletes it."""
    await start_controller(**FAST)
    await autoscaled(api, "iris", Autoscaling(min_replicas=1, max_replicas=3,
                                              target_cpu_percent=60))

    async def hpa() -> dict[str, Any]:
        try:
            return await api.get(HPAS, namespace=NAMESPACE, name="deploy-iris")
        except NotFound as error:
            raise AssertionError("no HPA yet") from error

    found = (await eventually(hpa))["spec"]
    assert found["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                       "name": "deploy-iris"}
    assert (found["minReplicas"], found["maxReplicas"]) == (1, 3)
    assert found["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 60}}}]
    await wait_phase(api, "iris", "Deployed")
    await api.patch(DEPLOYMENTS, namespace=NAMESPACE, name="deploy-iris",
                    body={"spec": {"replicas": 3}}, patch_type="merge")  # as the HPA would

    async def three() -> None:
        assert len(await pods_of(api, "iris")) == 3

    await eventually(three)
    await asyncio.sleep(1.0)  # five autoscaler periods: the controller must not undo it
    assert await replicas_of(api, "iris") == 3
    await set_autoscaling(api, "iris", Autoscaling(min_replicas=1, max_replicas=3,
                                                   target_concurrency=5))

    async def gone() -> None:
        try:
            await api.get(HPAS, namespace=NAMESPACE, name="deploy-iris")
        except NotFound:
            return
        raise AssertionError("the HPA is still there")

    await eventually(gone)
