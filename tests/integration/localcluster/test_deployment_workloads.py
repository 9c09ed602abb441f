"""Simulated workloads: Deployments own ready Pods, scale, roll out and report status."""

from __future__ import annotations

import asyncio
import re

from kubekit import (
    MERGE_PATCH,
    Manifest,
    client_for,
    container,
    deployment,
    eventually,
    is_ready,
    loopback,
    pod,
)
from kubernetes_asyncio.client import AppsV1Api, CoreV1Api, V1Deployment, V1Pod
from kubernetes_asyncio.watch import Watch

from gateway.localcluster import LocalCluster, LocalClusterSettings

POD_CONDITIONS = {"PodScheduled", "Initialized", "ContainersReady", "Ready"}


async def exactly_ready(core: CoreV1Api, app: str, count: int, *, ns: str) -> list[V1Pod]:
    """Assert that exactly ``count`` pods of ``app`` exist, none terminating, all Ready."""
    pods: list[V1Pod] = (
        await core.list_namespaced_pod(ns, label_selector=f"app={app}")
    ).items
    assert len(pods) == count, [p.metadata.name for p in pods]
    assert all(p.metadata.deletion_timestamp is None for p in pods)
    assert all(is_ready(p) for p in pods), [p.status.phase for p in pods]
    return pods


async def ready_pods(core: CoreV1Api, app: str, count: int, *, ns: str) -> list[V1Pod]:
    """Wait until :func:`exactly_ready` holds."""
    return await eventually(lambda: exactly_ready(core, app, count, ns=ns))


async def settled(apps: AppsV1Api, name: str, replicas: int, *, ns: str) -> V1Deployment:
    """Wait until the Deployment's status reports ``replicas`` ready for its latest spec."""

    async def probe() -> V1Deployment:
        current = await apps.read_namespaced_deployment(name, ns)
        status = current.status
        assert status.observed_generation == current.metadata.generation
        assert (status.replicas or 0) == replicas, status
        assert (status.ready_replicas or 0) == replicas, status
        assert (status.available_replicas or 0) == replicas, status
        assert (status.updated_replicas or 0) == replicas, status
        return current

    return await eventually(probe)


def template_hash(p: V1Pod) -> str:
    value: str = p.metadata.labels["pod-template-hash"]
    return value


async def test_deployment_creates_ready_pods_named_after_the_template_hash(
    apps: AppsV1Api, core: CoreV1Api, ns: str
) -> None:
    """replicas=2 yields two Ready pods named <deployment>-<pod-template-hash>-<5 chars>."""
    await apps.create_namespaced_deployment(
        ns, deployment("web", replicas=2, labels={"tier": "front"})
    )
    pods = await ready_pods(core, "web", 2, ns=ns)
    hashes = {template_hash(p) for p in pods}
    assert len(hashes) == 1
    for p in pods:
        assert re.fullmatch(rf"web-{template_hash(p)}-[a-z0-9]{{5}}", p.metadata.name)
        assert p.metadata.labels["tier"] == "front"
        controllers = [o for o in p.metadata.owner_references or [] if o.controller]
        assert len(controllers) == 1
    assert len({p.metadata.name for p in pods}) == 2


async def test_deployment_status_and_conditions_follow_its_pods(
    apps: AppsV1Api, core: CoreV1Api, ns: str
) -> None:
    """Status counts ready pods and reports Available and Progressing as a real controller does."""
    await apps.create_namespaced_deployment(ns, deployment("web", replicas=2))
    current = await settled(apps, "web", 2, ns=ns)
    conditions = {c.type: c for c in current.status.conditions}
    assert conditions["Available"].status == "True"
    assert conditions["Available"].reason == "MinimumReplicasAvailable"
    assert conditions["Progressing"].status == "True"
    assert conditions["Progressing"].reason == "NewReplicaSetAvailable"


async def test_scale_subresource_changes_the_pod_count(
        apps: AppsV1Api, core: CoreV1Api, ns: str) -> None:
    """Writing deployments/scale adds and removes pods and the Scale reports replicas."""
    await apps.create_namespaced_deployment(ns, deployment("web", replicas=1))
    await ready_pods(core, "web", 1, ns=ns)

    await apps.patch_namespaced_deployment_scale(
        "web", ns, {"spec": {"replicas": 3}}, **MERGE_PATCH
    )
    await ready_pods(core, "web", 3, ns=ns)
    await settled(apps, "web", 3, ns=ns)
    scale = await apps.read_namespaced_deployment_scale("web", ns)
    assert scale.spec.replicas == 3
    assert scale.status.replicas == 3
    assert scale.status.selector == "app=web"

    scale_down: Manifest = {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"replicas": 1},
    }
    await apps.replace_namespaced_deployment_scale("web", ns, scale_down)
    await ready_pods(core, "web", 1, ns=ns)
    assert (await apps.read_namespaced_deployment("web", ns)).spec.replicas == 1


async def test_template_change_replaces_every_pod(
        apps: AppsV1Api, core: CoreV1Api, ns: str) -> None:
    """A new pod template rolls out: all pods end up with a new hash and the new image."""
    await apps.create_namespaced_deployment(ns, deployment("web", replicas=2))
    old = {template_hash(p) for p in await ready_pods(core, "web", 2, ns=ns)}

    await apps.patch_namespaced_deployment(
        "web", ns,
        {"spec": {"template": {"spec": {"containers": [{"name": "model", "image": "model:2"}]}}}},
    )

    async def rolled_out() -> list[V1Pod]:
        pods = await exactly_ready(core, "web", 2, ns=ns)
        assert {template_hash(p) for p in pods}.isdisjoint(old)
        assert {p.spec.containers[0].image for p in pods} == {"model:2"}
        return pods

    await eventually(rolled_out)
    rolled = await settled(apps, "web", 2, ns=ns)
    assert rolled.metadata.generation == 2


async def test_scale_to_zero_removes_every_pod(apps: AppsV1Api, core: CoreV1Api, ns: str) -> None:
    """replicas=0 removes the pods and the status counts fall to zero."""
    await apps.create_namespaced_deployment(ns, deployment("web", replicas=2))
    await ready_pods(core, "web", 2, ns=ns)
    await apps.patch_namespaced_deployment(
        "web", ns, {"spec": {"replicas": 0}}, **MERGE_PATCH
    )

    async def no_pods() -> None:
        assert (await core.list_namespaced_pod(ns, label_selector="app=web")).items == []

    await eventually(no_pods)
    await settled(apps, "web", 0, ns=ns)
    scale = await apps.read_namespaced_deployment_scale("web", ns)
    assert scale.status.replicas == 0


async def test_pod_becomes_running_and_ready_with_realistic_status(
        core: CoreV1Api, ns: str) -> None:
    """A pod is scheduled, gets a loopback IP and reports kubelet-shaped conditions and statuses."""
    await core.create_namespaced_pod(
        ns, pod("solo", containers=[container("model"), container("proxy")])
    )

    async def running() -> V1Pod:
        current = await core.read_namespaced_pod("solo", ns)
        assert current.status.phase == "Running"
        assert is_ready(current)
        return current

    current = await eventually(running)
    assert current.spec.node_name
    conditions = {c.type: c.status for c in current.status.conditions}
    assert set(conditions) >= POD_CONDITIONS
    assert all(conditions[t] == "True" for t in POD_CONDITIONS)

    ip = loopback(current.status.pod_ip)
    assert [entry.ip for entry in current.status.pod_ips] == [str(ip)]
    assert current.status.host_ip
    assert current.status.start_time is not None

    statuses = {s.name: s for s in current.status.container_statuses}
    assert set(statuses) == {"model", "proxy"}
    for s in statuses.values():
        assert s.ready is True
        assert s.started is True
        assert s.restart_count == 0
        assert s.image
        assert s.state.running.started_at is not None


async def test_init_containers_complete_before_the_pod_is_ready(core: CoreV1Api, ns: str) -> None:
    """Init containers report terminated Completed (exit 0) once the pod is Ready."""
    await core.create_namespaced_pod(
        ns, pod("init", init_containers=[container("fetch", "fetcher:1")])
    )

    async def ready() -> V1Pod:
        current = await core.read_namespaced_pod("init", ns)
        assert is_ready(current)
        return current

    current = await eventually(ready)
    (fetch,) = current.status.init_container_statuses
    assert fetch.name == "fetch"
    assert fetch.state.terminated.reason == "Completed"
    assert fetch.state.terminated.exit_code == 0


async def test_every_pod_gets_a_distinct_loopback_ip(
        apps: AppsV1Api, core: CoreV1Api, ns: str) -> None:
    """Pod IPs are distinct 127.0.0.0/8 addresses."""
    await apps.create_namespaced_deployment(ns, deployment("web", replicas=3))
    pods = await ready_pods(core, "web", 3, ns=ns)
    ips = {loopback(p.status.pod_ip) for p in pods}
    assert len(ips) == 3


async def test_pod_readiness_reaches_watchers(core: CoreV1Api, ns: str) -> None:
    """The simulated kubelet's status writes arrive as MODIFIED watch events."""
    since = (await core.list_namespaced_pod(ns)).metadata.resource_version
    await core.create_namespaced_pod(ns, pod("watched"))
    async with Watch() as watch, asyncio.timeout(5):
        async for event in watch.stream(
            core.list_namespaced_pod, ns,
            resource_version=since, field_selector="metadata.name=watched", timeout_seconds=10,
        ):
            if event["type"] == "MODIFIED" and is_ready(event["object"]):
                break
    assert event["type"] == "MODIFIED"
    assert is_ready(event["object"])


async def test_pods_become_ready_after_the_configured_delay() -> None:
    """pod_start_delay holds a new pod Pending and not Ready for that long."""
    settings = LocalClusterSettings(pod_start_delay=1.0)
    async with LocalCluster.running(settings) as cluster, client_for(cluster.url) as api:
        core = CoreV1Api(api)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await core.create_namespaced_pod("default", pod("slow"))
        early = await core.read_namespaced_pod("slow", "default")
        assert not is_ready(early)
        assert early.status.phase == "Pending"

        async def ready() -> None:
            assert is_ready(await core.read_namespaced_pod("slow", "default"))

        await eventually(ready)
        assert loop.time() - started >= 1.0
