"""Failures reported honestly: every runtime failure class injected through pod status (as a
kubelet or scheduler writes it), the availability deadline and recovery, and configuration
problems (group missing or disabled, instance type missing) that scale pods away."""

from __future__ import annotations

from typing import Any

from controllerkit import (
    GROUP,
    IMAGE,
    NAMESPACE,
    StartController,
    create_deployment,
    eventually,
    inject_pod_status,
    pods_of,
    route_of,
    status_of,
    update_deployment,
    wait_phase,
)
from redis.asyncio import Redis

from gateway.kube import groups, instancetypes
from gateway.kube.client import DEPLOYMENTS, Kube, Object
from gateway.kube.groups import GroupSpec

NOT_READY = [{"type": "PodScheduled", "status": "True"},
             {"type": "Initialized", "status": "True"},
             {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady"},
             {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]


def model_status(state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "model", "image": IMAGE, "imageID": "", "ready": False, "started": False,
            "restartCount": 0, "state": state, "lastState": {}, **extra}


async def one_pod(api: Kube, name: str) -> Object:
    async def probe() -> Object:
        pods = await pods_of(api, name)
        assert len(pods) == 1, pods
        return pods[0]

    return await eventually(probe)


async def failed_with(api: Kube, name: str, message: str, *, deadline: float = 5.0) -> None:
    async def probe() -> None:
        status = await status_of(api, name)
        assert (status.get("phase"), status.get("message")) == ("Failed", message)

    await eventually(probe, deadline=deadline)


async def test_image_pull_errors_fail_naming_the_pod(
        api: Kube, redis: Redis, start_controller: StartController) -> None:
    """ImagePullBackOff: Failed within a second, PrimeHub's sentence, pod and reason."""
    await start_controller()
    await create_deployment(api, "iris")
    await wait_phase(api, "iris", "Deployed")
    pod = await one_pod(api, "iris")
    await inject_pod_status(api, pod, {"phase": "Pending", "conditions": NOT_READY,
                                       "containerStatuses": [model_status({"waiting": {
                                           "reason": "ImagePullBackOff",
                                           "message": f'Back-off pulling image "{IMAGE}"'}})]})
    await failed_with(api, "iris", "Failed because of wrong image settings. Pod "
                      f"{pod['metadata']['name']}: container model: ImagePullBackOff: "
                      f'Back-off pulling image "{IMAGE}".', deadline=1.0)

    async def unready_route() -> None:
        route = await route_of(redis, "iris")
        assert route is not None
        assert not route.ready

    await eventually(unready_route)


async def test_crash_loops_report_exit_code_and_oom(api: Kube,
                                                    start_controller: StartController) -> None:
    """CrashLoopBackOff after OOMKilled: exit code 137, the reason and the restarts."""
    await start_controller()
    await create_deployment(api, "iris")
    pod = await one_pod(api, "iris")
    await inject_pod_status(api, pod, {"phase": "Running", "conditions": NOT_READY,
                                       "containerStatuses": [model_status(
                                           {"waiting": {"reason": "CrashLoopBackOff"}},
                                           restartCount=4, lastState={"terminated": {
                                               "exitCode": 137, "reason": "OOMKilled"}})]})
    await failed_with(api, "iris", "Failed because the model container keeps crashing. Pod "
                      f"{pod['metadata']['name']}: container model: exit code 137, "
                      "OOMKilled, restarted 4 times.")


async def test_model_download_failure_is_reported(api: Kube,
                                                  start_controller: StartController) -> None:
    """A failed storage initializer: PrimeHub's copy sentence with the exit and message."""
    await start_controller()
    await create_deployment(api, "iris", model_uri="gs://models/missing")
    pod = await one_pod(api, "iris")
    await inject_pod_status(api, pod, {
        "phase": "Pending", "conditions": NOT_READY,
        "initContainerStatuses": [{
            "name": "storage-initializer", "image": "init", "imageID": "", "ready": False,
            "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                         "message": "404 No such object: models/missing"}}}],
        "containerStatuses": [model_status({"waiting": {"reason": "PodInitializing"}})]})
    await failed_with(api, "iris", "Failed because cannot successfully copy the model from the "
                      f"model URI. Pod {pod['metadata']['name']}: container storage-initializer: "
                      "exit code 1, Error, restarted 2 times: 404 No such object: "
                      "models/missing.")


async def test_unschedulable_then_deadline_then_recovery(
        api: Kube, start_controller: StartController) -> None:
    """Unschedulable explains Deploying; past the deadline Failed; ready pods recover it."""
    await start_controller(available_deadline=1.0)
    await create_deployment(api, "iris")
    pod = await one_pod(api, "iris")
    scheduler = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    await inject_pod_status(api, pod, {"phase": "Pending", "conditions": [{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
        "message": scheduler}]})
    detail = f"Certain pods unschedulable. Pod {pod['metadata']['name']}: {scheduler}"

    async def explained() -> None:
        status = await status_of(api, "iris")
        assert (status.get("phase"), status.get("message")) == ("Deploying", detail)

    await eventually(explained, deadline=1.0)
    await failed_with(api, "iris", "Failed because the deployment is not available for over "
                      f"1 s. {detail}", deadline=3.0)
    await inject_pod_status(api, pod, {
        "phase": "Running", "podIP": "127.1.2.3",
        "conditions": [{"type": kind, "status": "True"} for kind in (
            "PodScheduled", "Initialized", "ContainersReady", "Ready")],
        "containerStatuses": [model_status({"running": {"startedAt": "2024-05-01T10:00:00Z"}},
                                           ready=True, started=True)]})
    await wait_phase(api, "iris", "Deployed", deadline=1.0)


async def test_slow_pods_fail_at_the_deadline(api: Kube,
                                              start_controller: StartController) -> None:
    """A pod that never becomes ready, with no error to show, fails at the deadline."""
    await start_controller(available_deadline=0.5)
    await create_deployment(api, "iris")
    pod = await one_pod(api, "iris")
    await inject_pod_status(api, pod, {"phase": "Running", "conditions": NOT_READY,
                                       "containerStatuses": [model_status(
                                           {"running": {"startedAt": "2024-05-01T10:00:00Z"}},
                                           started=True)]})
    await failed_with(api, "iris",
                      "Failed because the deployment is not available for over 0.5 s")


async def test_disabled_group_fails_and_scales_pods_away(
        api: Kube, start_controller: StartController) -> None:
    """Disabling the group: Failed with PrimeHub's text and no pods; enabling recovers."""
    await start_controller()
    await create_deployment(api, "iris")
    await wait_phase(api, "iris", "Deployed")

    def enabled(flag: bool) -> Any:
        def change(group: groups.Group) -> GroupSpec:
            return GroupSpec(**{**vars(group.spec), "enabled_deployment": flag})
        return change

    await groups.update(api, namespace=NAMESPACE, name=GROUP, change=enabled(False))
    await failed_with(api, "iris", "The model deployment is not enabled for the selected group")

    async def no_pods() -> None:
        assert await pods_of(api, "iris") == []

    await eventually(no_pods)
    await groups.update(api, namespace=NAMESPACE, name=GROUP, change=enabled(True))
    await wait_phase(api, "iris", "Deployed")


async def test_missing_group_and_instance_type(api: Kube,
                                               start_controller: StartController) -> None:
    """Unknown group: "Group Not Found"; unknown instance type: "InstanceType not found"."""
    await start_controller()
    await create_deployment(api, "lost", group="nobody")
    await failed_with(api, "lost", "Group Not Found")
    await create_deployment(api, "iris")
    await wait_phase(api, "iris", "Deployed")
    await update_deployment(api, "iris", predictor={"instance_type": "gpu-8"})
    await failed_with(api, "iris", "InstanceType not found: gpu-8")
    await eventually(lambda: _no_pods(api, "iris"))
    await instancetypes.create(api, namespace=NAMESPACE, name="gpu-8",
                               spec=instancetypes.InstanceTypeSpec(cpu_limit=1.0, memory_limit=1e9))
    await wait_phase(api, "iris", "Deployed")


async def _no_pods(api: Kube, name: str) -> None:
    assert await pods_of(api, name) == []


async def test_quota_rejection_fails_quoting_the_refusal(
        api: Kube, start_controller: StartController) -> None:
    """Pods refused at admission (ReplicaFailure on the Deployment): Failed, quoting why."""
    await start_controller()
    await create_deployment(api, "iris")
    pod = await one_pod(api, "iris")
    await inject_pod_status(api, pod, {"phase": "Pending", "conditions": NOT_READY})
    refusal = ('pods "deploy-iris-x" is forbidden: exceeded quota: compute-resources, '
               "requested: limits.cpu=1, used: limits.cpu=2, limited: limits.cpu=2")
    await api.patch(DEPLOYMENTS, namespace=NAMESPACE, name="deploy-iris", subresource="status",
                    body={"status": {"conditions": [{
                        "type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                        "message": refusal}]}})
    await failed_with(api, "iris", f"Failed because the pods were refused by a quota: {refusal}")
