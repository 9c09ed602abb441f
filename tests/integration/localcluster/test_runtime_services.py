"""Dev mode's real pods: a container runtime started on the pod IP, Services forwarding to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from kubekit import Manifest, client_for, deployment, eventually
from kubernetes_asyncio.client import AppsV1Api, CoreV1Api

from gateway.localcluster import LocalCluster, LocalClusterSettings

PORT = 9000
GRACE = 0.5


class EchoRuntime:
    """Runs one small HTTP server per pod that answers with the pod's name."""

    def __init__(self, *, refuse: set[str] | None = None) -> None:
        self.runners: dict[tuple[str, str], web.AppRunner] = {}
        self.stopped: list[str] = []
        self.drained: list[str] = []
        self._refuse = refuse or set()

    async def start(self, pod: dict[str, Any], address: str) -> None:
        metadata = pod["metadata"]
        if metadata["labels"].get("app") in self._refuse:
            raise RuntimeError("model failed to load: out of memory")

        async def answer(request: web.Request) -> web.Response:
            return web.Response(text=metadata["name"])

        app = web.Application()
        app.router.add_get("/", answer)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, address, PORT).start()
        self.runners[(metadata["namespace"], metadata["name"])] = runner

    async def drain(self, namespace: str, name: str) -> None:
        self.drained.append(name)

    async def stop(self, namespace: str, name: str) -> None:
        runner = self.runners.pop((namespace, name), None)
        if runner is not None:
            self.stopped.append(name)
            await runner.cleanup()


@pytest.fixture
async def runtime() -> AsyncIterator[EchoRuntime]:
    """A runtime that refuses pods labelled app=broken."""
    echo = EchoRuntime(refuse={"broken"})
    yield echo
    for namespace, name in list(echo.runners):
        await echo.stop(namespace, name)


@pytest.fixture
async def live(runtime: EchoRuntime) -> AsyncIterator[LocalCluster]:
    """A local cluster running pods in ``runtime`` and forwarding Service traffic."""
    settings = LocalClusterSettings(pod_start_delay=0.02, serve_services=True,
                                    pod_termination_grace=GRACE)
    async with LocalCluster.running(settings, runtime=runtime) as running:
        yield running


def _service(name: str, app: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": app},
                     "ports": [{"port": 8000, "targetPort": PORT}]}}


async def test_a_service_reaches_the_pods_the_runtime_started(live: LocalCluster,
                                                                runtime: EchoRuntime) -> None:
    """Requests to the Service's cluster IP are answered by the pods' real servers."""
    async with client_for(live.url) as kube:
        core, apps = CoreV1Api(kube), AppsV1Api(kube)
        await apps.create_namespaced_deployment("default", deployment("web", replicas=2))
        service = await core.create_namespaced_service("default", _service("web", "web"))

        async def both_ready() -> list[str]:
            pods = await core.list_namespaced_pod("default", label_selector="app=web")
            assert [p.status.pod_ip for p in pods.items if p.status.pod_ip]
            assert all(c.type != "Ready" or c.status == "True"
                       for p in pods.items for c in p.status.conditions or [])
            assert len(runtime.runners) == 2
            return [p.metadata.name for p in pods.items]

        names = await eventually(both_ready)
        url = f"http://{service.spec.cluster_ip}:8000/"
        # Like kube-proxy, balancing is per connection: open a new one per request.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            answers = set()
            for _ in range(6):
                async with session.get(url) as response:
                    answers.add(await response.text())
        assert answers == set(names)


async def test_a_runtime_failure_leaves_the_pod_not_ready_with_the_reason(
        live: LocalCluster) -> None:
    """A pod whose runtime refuses to start is CrashLoopBackOff with the error as message."""
    async with client_for(live.url) as kube:
        core, apps = CoreV1Api(kube), AppsV1Api(kube)
        await apps.create_namespaced_deployment("default", deployment("broken", replicas=1))

        async def crashing() -> None:
            pods = await core.list_namespaced_pod("default", label_selector="app=broken")
            waiting = pods.items[0].status.container_statuses[0].state.waiting
            assert waiting.reason == "CrashLoopBackOff"
            assert "out of memory" in waiting.message
            ready = [c for c in pods.items[0].status.conditions if c.type == "Ready"]
            assert ready[0].status == "False"

        await eventually(crashing)


async def test_deleting_pods_stops_their_runtime_and_empties_the_service(
        live: LocalCluster, runtime: EchoRuntime) -> None:
    """Scaling to zero stops every pod's server; the Service then refuses connections."""
    async with client_for(live.url) as kube:
        core, apps = CoreV1Api(kube), AppsV1Api(kube)
        await apps.create_namespaced_deployment("default", deployment("web", replicas=1))
        service = await core.create_namespaced_service("default", _service("web", "web"))
        await eventually(lambda: _has(runtime, 1))
        await apps.patch_namespaced_deployment_scale("web", "default",
                                                     {"spec": {"replicas": 0}})
        await eventually(lambda: _has(runtime, 0))
        assert len(runtime.stopped) == 1
        with pytest.raises(aiohttp.ClientError):
            async with aiohttp.ClientSession() as session, session.get(
                    f"http://{service.spec.cluster_ip}:8000/") as response:
                await response.read()


async def _has(runtime: EchoRuntime, count: int) -> None:
    await asyncio.sleep(0)
    assert len(runtime.runners) == count


async def test_a_pod_removed_by_a_scale_down_drains_before_it_stops(
        live: LocalCluster, runtime: EchoRuntime) -> None:
    """Scaling 2 -> 1: the removed pod is marked for deletion and told to drain at once (so
    the Service sends it nothing new), and its server stops only after the grace period."""
    async with client_for(live.url) as kube:
        core, apps = CoreV1Api(kube), AppsV1Api(kube)
        await apps.create_namespaced_deployment("default", deployment("web", replicas=2))
        service = await core.create_namespaced_service("default", _service("web", "web"))
        await eventually(lambda: _has(runtime, 2))
        await apps.patch_namespaced_deployment_scale("web", "default",
                                                     {"spec": {"replicas": 1}})

        async def terminating() -> str:
            pods = await core.list_namespaced_pod("default", label_selector="app=web")
            going = [pod.metadata.name for pod in pods.items
                     if pod.metadata.deletion_timestamp is not None]
            assert len(going) == 1
            assert runtime.drained == going
            return going[0]

        going = await eventually(terminating)
        assert len(runtime.runners) == 2  # still answering on its open connections
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            for _ in range(4):
                async with session.get(f"http://{service.spec.cluster_ip}:8000/") as response:
                    assert await response.text() != going
        await eventually(lambda: _has(runtime, 1))
        assert runtime.stopped == [going]
