"""What the simulated scheduler and kubelet write into a pod's status, shaped as theirs.

Each function returns a whole ``status`` for one step of a pod's start: placed and creating
its containers, running (or crash-looping when the container runtime could not start it),
waiting on an image pull that failed, or not placed at all. Conditions and container states
carry the reasons and messages a real node reports, since the controller's diagnosis reads
exactly those.
"""

from __future__ import annotations

import secrets
from typing import Any

from gateway.localcluster.metadata import now
from gateway.localcluster.store import Object


def _pod_condition(kind: str, status: str, stamp: str) -> dict[str, Any]:
    return {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": stamp}


def scheduled(pod: Object) -> dict[str, Any]:
    """Placed on the node; containers being created (init containers first)."""
    stamp = now()
    waiting = {"waiting": {"reason": "ContainerCreating"}}
    init = pod["spec"].get("initContainers") or []
    status = {
        "phase": "Pending",
        "conditions": [_pod_condition("PodScheduled", "True", stamp),
                       _pod_condition("Initialized", "False" if init else "True", stamp),
                       _pod_condition("Ready", "False", stamp),
                       _pod_condition("ContainersReady", "False", stamp)],
        "hostIP": "127.0.0.1",
        "startTime": stamp,
        "qosClass": (pod.get("status") or {}).get("qosClass", "BestEffort"),
        "initContainerStatuses": [_container_status(c, {"waiting": {"reason": "PodInitializing"}},
                                                    ready=False) for c in init] or None,
        "containerStatuses": [_container_status(c, waiting, ready=False)
                              for c in pod["spec"]["containers"]],
    }
    return {key: value for key, value in status.items() if value is not None}


def running(pod: Object, address: str, failure: str | None) -> dict[str, Any]:
    """Running and Ready; or, when the runtime could not start it, running but crashing."""
    stamp = now()
    status = dict(pod.get("status") or {})
    init = pod["spec"].get("initContainers") or []
    ready = "False" if failure else "True"
    state: dict[str, Any] = {"running": {"startedAt": stamp}}
    if failure:
        state = {"waiting": {"reason": "CrashLoopBackOff", "message": failure}}
    status.update(
        phase="Running",
        conditions=[_pod_condition("PodScheduled", "True", status.get("startTime", stamp)),
                    _pod_condition("Initialized", "True", stamp),
                    _pod_condition("Ready", ready, stamp),
                    _pod_condition("ContainersReady", ready, stamp)],
        podIP=address,
        podIPs=[{"ip": address}],
        initContainerStatuses=[_container_status(c, {"terminated": {
            "exitCode": 0, "reason": "Completed", "startedAt": stamp, "finishedAt": stamp}},
            ready=True) for c in init] or None,
        containerStatuses=[_container_status(c, state, ready=not failure)
                           for c in pod["spec"]["containers"]],
    )
    return {key: value for key, value in status.items() if value is not None}


def unschedulable(pod: Object, message: str) -> dict[str, Any]:
    """Not placed: only ``PodScheduled=False``, reason ``Unschedulable``, the scheduler's
    message (no node, no start time, no container statuses)."""
    condition = {**_pod_condition("PodScheduled", "False", now()), "reason": "Unschedulable",
                 "message": message}
    return {"phase": "Pending", "conditions": [condition],
            "qosClass": (pod.get("status") or {}).get("qosClass", "BestEffort")}


def pull_failed(pod: Object, container: str, reason: str, message: str) -> dict[str, Any]:
    """Placed, but ``container`` waits on its image (``ErrImagePull``, ``ImagePullBackOff``,
    ``InvalidImageName``): the pod stays Pending and not ready. An init container's failure
    leaves the pod not initialized; a model container's comes after init containers ran."""
    stamp = now()
    previous = pod.get("status") or {}
    init = pod["spec"].get("initContainers") or []
    containers = pod["spec"]["containers"]
    failing = {"waiting": {"reason": reason, "message": message}}
    in_init = any(c["name"] == container for c in init)
    completed = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": stamp,
                                "finishedAt": stamp}}
    if in_init:
        init_statuses = [_container_status(c, failing if c["name"] == container else {
            "waiting": {"reason": "PodInitializing"}}, ready=False) for c in init]
        statuses = [_container_status(c, {"waiting": {"reason": "PodInitializing"}},
                                      ready=False) for c in containers]
        initialized = {**_pod_condition("Initialized", "False", stamp),
                       "reason": "ContainersNotInitialized",
                       "message": f"containers with incomplete status: [{container}]"}
    else:
        init_statuses = [_container_status(c, completed, ready=True) for c in init]
        statuses = [_container_status(c, failing if c["name"] == container else {
            "waiting": {"reason": "ContainerCreating"}}, ready=False) for c in containers]
        initialized = _pod_condition("Initialized", "True", stamp)
    unready = {"reason": "ContainersNotReady", "message": "containers with unready status: ["
               + " ".join(c["name"] for c in containers) + "]"}
    status = {
        "phase": "Pending",
        "conditions": [_pod_condition("PodScheduled", "True", previous.get("startTime", stamp)),
                       initialized,
                       {**_pod_condition("Ready", "False", stamp), **unready},
                       {**_pod_condition("ContainersReady", "False", stamp), **unready}],
        "hostIP": "127.0.0.1",
        "startTime": previous.get("startTime", stamp),
        "qosClass": previous.get("qosClass", "BestEffort"),
        "initContainerStatuses": init_statuses or None,
        "containerStatuses": statuses,
    }
    return {key: value for key, value in status.items() if value is not None}


def _container_status(container: dict[str, Any], state: dict[str, Any], *,
                      ready: bool) -> dict[str, Any]:
    image = container.get("image", "")
    return {"name": container["name"], "state": state, "lastState": {}, "ready": ready,
            "started": "running" in state, "restartCount": 0, "image": image,
            "imageID": f"docker-pullable://{image}" if ready else "",
            **({"containerID": f"containerd://{secrets.token_hex(32)}"} if ready else {})}
