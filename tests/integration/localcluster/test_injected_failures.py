"""Failures injected the way a kubelet or scheduler reports them stay put.

A test writes a pod's status (strategic merge, JSON merge or a full PUT to ``pods/status``),
then proves the simulation has run since by waiting for a fresh control pod to become Ready,
and only then checks that the injected state is still there.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from kubekit import IMAGE, MERGE_PATCH, container, deployment, eventually, is_ready, pod
from kubernetes_asyncio.client import ApiClient, AppsV1Api, CoreV1Api, V1Pod

_controls = itertools.count()
FINISHED = {"startedAt": "2024-05-01T10:00:00Z", "finishedAt": "2024-05-01T10:01:00Z"}


async def simulation_has_moved_on(core: CoreV1Api, *, ns: str) -> None:
    """Create a pod and wait until it is Ready: the simulation ran after the injection."""
    name = f"control-{next(_controls)}"
    await core.create_namespaced_pod(ns, pod(name))

    async def ready() -> None:
        assert is_ready(await core.read_namespaced_pod(name, ns))

    await eventually(ready)


def conditions(*, initialized: bool = True) -> list[dict[str, Any]]:
    """Pod conditions of a pod whose containers are not ready."""
    unready = {"status": "False", "reason": "ContainersNotReady",
               "message": "containers with unready status: [model]"}
    init: dict[str, Any] = {"type": "Initialized", "status": "True"}
    if not initialized:
        init = {"type": "Initialized", "status": "False", "reason": "ContainersNotInitialized",
                "message": "containers with incomplete status: [copy-model]"}
    return [
        {"type": "PodScheduled", "status": "True"},
        init,
        {"type": "ContainersReady", **unready},
        {"type": "Ready", **unready},
    ]


def container_status(name: str, *, state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A kubelet-shaped container status for a container that is not ready."""
    return {
        "name": name,
        "image": IMAGE,
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": 0,
        "state": state,
        **extra,
    }


async def kubelet_reported(core: CoreV1Api, name: str, *, ns: str) -> None:
    """Wait until the pod is Ready: injecting earlier would race the (simulated) kubelet's own
    first report, which a real cluster's kubelet would win as often as not."""

    async def ready() -> None:
        assert is_ready(await core.read_namespaced_pod(name, ns))

    await eventually(ready)


async def read(core: CoreV1Api, name: str, *, ns: str) -> V1Pod:
    current: V1Pod = await core.read_namespaced_pod(name, ns)
    return current


async def test_image_pull_back_off_sticks_and_counts_against_the_deployment(
    apps: AppsV1Api, core: CoreV1Api, ns: str
) -> None:
    """ImagePullBackOff written to a Deployment's pod stays, and the Deployment reports it."""
    await apps.create_namespaced_deployment(ns, deployment("broken", replicas=1))

    async def the_pod() -> str:
        pods = (await core.list_namespaced_pod(ns, label_selector="app=broken")).items
        assert len(pods) == 1
        assert is_ready(pods[0])  # the kubelet has reported it: it will not race the injection
        name: str = pods[0].metadata.name
        return name

    victim = await eventually(the_pod)
    waiting = {"waiting": {"reason": "ImagePullBackOff",
                           "message": f'Back-off pulling image "{IMAGE}"'}}
    await core.patch_namespaced_pod_status(
        victim, ns,
        {"status": {"phase": "Pending", "conditions": conditions(),
                    "containerStatuses": [container_status("model", state=waiting)]}},
    )

    async def deployment_unavailable() -> None:
        status = (await apps.read_namespaced_deployment("broken", ns)).status
        assert not status.ready_replicas
        assert not status.available_replicas
        assert status.unavailable_replicas == 1
        available = {c.type: c for c in status.conditions}["Available"]
        assert (available.status, available.reason) == ("False", "MinimumReplicasUnavailable")

    await eventually(deployment_unavailable)
    await simulation_has_moved_on(core, ns=ns)

    current = await read(core, victim, ns=ns)
    assert current.status.phase == "Pending"
    assert not is_ready(current)
    assert current.status.container_statuses[0].state.waiting.reason == "ImagePullBackOff"
    pods = (await core.list_namespaced_pod(ns, label_selector="app=broken")).items
    assert [p.metadata.name for p in pods] == [victim]


async def test_oom_killed_container_sticks(core: CoreV1Api, ns: str) -> None:
    """A container restarted after OOMKilled (CrashLoopBackOff, lastState OOMKilled) stays so."""
    await core.create_namespaced_pod(ns, pod("oom"))
    await kubelet_reported(core, "oom", ns=ns)
    crash_looping = container_status(
        "model",
        state={"waiting": {"reason": "CrashLoopBackOff",
                           "message": "back-off 10s restarting failed container=model"}},
        lastState={"terminated": {"reason": "OOMKilled", "exitCode": 137, **FINISHED}},
        restartCount=1,
    )
    await core.patch_namespaced_pod_status(
        "oom", ns,
        {"status": {"phase": "Running", "conditions": conditions(),
                    "containerStatuses": [crash_looping]}},
        **MERGE_PATCH,
    )
    await simulation_has_moved_on(core, ns=ns)

    current = await read(core, "oom", ns=ns)
    assert not is_ready(current)
    (status,) = current.status.container_statuses
    assert status.restart_count == 1
    assert status.state.waiting.reason == "CrashLoopBackOff"
    assert status.last_state.terminated.reason == "OOMKilled"
    assert status.last_state.terminated.exit_code == 137


@pytest.mark.local_only(
    "a real scheduler places the pod before the test can say it is unschedulable, and a "
    "kubelet then runs it; the realcluster tier makes a pod truly unschedulable instead")
async def test_unschedulable_pod_sticks(kube: ApiClient, core: CoreV1Api, ns: str) -> None:
    """PodScheduled=False/Unschedulable written with a full status PUT stays, with no pod IP."""
    await core.create_namespaced_pod(ns, pod("pending"))

    async def inject() -> None:
        current = await read(core, "pending", ns=ns)
        body = kube.sanitize_for_serialization(current)
        body["status"] = {
            "phase": "Pending",
            "conditions": [{
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.",
            }],
        }
        await core.replace_namespaced_pod_status("pending", ns, body)

    await eventually(inject)
    await simulation_has_moved_on(core, ns=ns)

    current = await read(core, "pending", ns=ns)
    assert current.status.phase == "Pending"
    assert [(c.type, c.status, c.reason) for c in current.status.conditions] == [
        ("PodScheduled", "False", "Unschedulable")
    ]
    assert not current.status.pod_ip
    assert not current.status.container_statuses


async def test_failing_init_container_sticks(core: CoreV1Api, ns: str) -> None:
    """An init container in CrashLoopBackOff after exit 1 keeps the pod Pending, uninitialized."""
    await core.create_namespaced_pod(
        ns, pod("init", init_containers=[container("copy-model", IMAGE)])
    )
    await kubelet_reported(core, "init", ns=ns)
    failing = container_status(
        "copy-model",
        state={"waiting": {"reason": "CrashLoopBackOff"}},
        lastState={"terminated": {"reason": "Error", "exitCode": 1, **FINISHED}},
        restartCount=2,
    )
    initializing = container_status("model", state={"waiting": {"reason": "PodInitializing"}})
    await core.patch_namespaced_pod_status(
        "init", ns,
        {"status": {"phase": "Pending", "conditions": conditions(initialized=False),
                    "initContainerStatuses": [failing],
                    "containerStatuses": [initializing]}},
        **MERGE_PATCH,
    )
    await simulation_has_moved_on(core, ns=ns)

    current = await read(core, "init", ns=ns)
    assert current.status.phase == "Pending"
    initialized = {c.type: c for c in current.status.conditions}["Initialized"]
    assert (initialized.status, initialized.reason) == ("False", "ContainersNotInitialized")
    (init,) = current.status.init_container_statuses
    assert init.state.waiting.reason == "CrashLoopBackOff"
    assert init.last_state.terminated.exit_code == 1
    assert init.restart_count == 2
    assert current.status.container_statuses[0].state.waiting.reason == "PodInitializing"


@pytest.mark.local_only(
    "a real deployment controller owns Deployment status and rewrites it; the realcluster "
    "tier makes a real ResourceQuota refuse the pods instead")
async def test_injected_deployment_condition_sticks(
        core: CoreV1Api, apps: AppsV1Api, ns: str) -> None:
    """A ReplicaFailure condition written to a Deployment's status is never overwritten."""
    await apps.create_namespaced_deployment(ns, deployment("quota", replicas=1))
    failure = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
               "message": 'pods "quota-x" is forbidden: exceeded quota: compute'}
    await apps.patch_namespaced_deployment_status(
        "quota", ns, {"status": {"conditions": [failure]}}, **MERGE_PATCH)
    await apps.patch_namespaced_deployment_scale("quota", ns, {"spec": {"replicas": 2}})

    async def two_pods() -> None:
        pods = await core.list_namespaced_pod(ns, label_selector="app=quota")
        assert len([p for p in pods.items if is_ready(p)]) == 2

    await eventually(two_pods)
    await simulation_has_moved_on(core, ns=ns)
    status = (await apps.read_namespaced_deployment_status("quota", ns)).status
    assert [c.type for c in status.conditions] == ["ReplicaFailure"]
