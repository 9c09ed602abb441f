"""Simulated workloads: what the deployment controller, scheduler and kubelet would do.

- A Deployment owns Pods named ``<deployment>-<template hash>-<suffix>`` (no ReplicaSets in
  between), as many as ``spec.replicas``; a template change rolls them within ``maxSurge`` and
  ``maxUnavailable`` (or all at once for ``Recreate``); the Deployment's status follows.
- A new Pod is scheduled at once and, ``pod_start_delay`` later, runs: a pod IP from the
  loopback pool, init containers completed, containers running and ready, the usual conditions
  (:mod:`~gateway.localcluster.podstatuses`).
- Given a GPU count, a pod asking for more extended resources than the node has left is not
  scheduled (:mod:`~gateway.localcluster.scheduling`); it is tried again when a pod goes.
- Given an image catalog, a container whose image is not in it never starts: the pod waits on
  ``ErrImagePull``, then ``ImagePullBackOff``, and the pull is retried every
  ``pull_back_off`` seconds (:mod:`~gateway.localcluster.images`).
- With a :class:`ContainerRuntime` (dev mode), a pod's containers really run: the runtime is
  started on the pod IP before the pod turns Ready, a runtime that fails to start leaves the
  pod not ready with the error in its container status, and a deleted pod's runtime is stopped.
- A running pod that the deployment controller removes (scale-down, rollout) with a runtime
  terminates gracefully, as a kubelet does: it is marked for deletion at once (so it is not
  ready and its Services send it no new connection), the runtime is told to drain (as
  SIGTERM tells a server: finish what is open, close connections after their answer), and
  ``termination_grace`` later the containers stop and the pod is gone. A pod deleted through
  the API goes at once, as before.
- A Pod or Deployment whose status somebody wrote through the API (a test injecting
  ``ImagePullBackOff``, ``OOMKilled`` or a ``ReplicaFailure`` condition) keeps it from then
  on: the simulation never overwrites injected state.

All work is queued by store events and done by one task, so listeners never write.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
import math
from typing import Any, Protocol

from gateway.localcluster import podstatuses, scheduling
from gateway.localcluster.addresses import AddressPool
from gateway.localcluster.images import ImageCatalog, back_off
from gateway.localcluster.kinds import Kind
from gateway.localcluster.logs import PodLogs
from gateway.localcluster.metadata import now, random_suffix
from gateway.localcluster.reacting import Reactor
from gateway.localcluster.resources import DeleteOptions, Resources
from gateway.localcluster.store import Event, Object

log = logging.getLogger(__name__)

PODS, DEPLOYMENTS = "/pods", "apps/deployments"
NODE_NAME = "localcluster"
KUBELET_FINALIZER = "localcluster.model-gateway.io/terminating"  # held during the grace
_WorkItem = tuple[str, str, str]  # (what, namespace, name)


class ContainerRuntime(Protocol):
    """Runs a pod's containers for real; without one, pods only look like they run."""

    async def start(self, pod: Object, address: str) -> None:
        """Start serving on ``address``; raise to report the container as failing."""

    async def stop(self, namespace: str, name: str) -> None:
        """The pod is gone: stop what :meth:`start` started (a no-op for unknown pods)."""

    async def drain(self, namespace: str, name: str) -> None:
        """The pod is terminating: answer what arrives on open connections, then close them
        (``Connection: close``), so callers stop reusing them before :meth:`stop`."""


def template_hash(template: dict[str, Any]) -> str:
    """A stable short hash of a pod template (the ``pod-template-hash`` label)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    value = int(digest[:16], 16)
    return "".join(alphabet[(value >> (5 * i)) % len(alphabet)] for i in range(10))


def is_ready(pod: Object) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _resolve(value: int | str | None, replicas: int, *, round_up: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    percent = int(value.rstrip("%")) * replicas / 100
    return math.ceil(percent) if round_up else math.floor(percent)


class Workloads(Reactor):
    """The deployment controller and the kubelet, driven by store events."""

    name = "localcluster-workloads"

    def __init__(self, resources: Resources, logs: PodLogs, pods: AddressPool, *,
                 pod_start_delay: float, runtime: ContainerRuntime | None = None,
                 images: ImageCatalog | None = None, gpus: int | None = None,
                 pull_back_off: float = 10.0, termination_grace: float = 0.0) -> None:
        super().__init__(resources.store)
        self._resources = resources
        self._runtime = runtime
        self._images = images
        self._gpus = gpus
        self._pull_back_off = pull_back_off
        self._logs = logs
        self._pod_addresses = pods
        self._delay = pod_start_delay
        self._grace = termination_grace
        self._queue: asyncio.Queue[_WorkItem] = asyncio.Queue()
        self._queued: set[_WorkItem] = set()
        self._injected: set[str] = set()  # uids of pods/deployments whose status came from outside
        self._timers: set[asyncio.TimerHandle] = set()

    def start(self) -> None:
        super().start()
        for deployment in self._resources.store.items(DEPLOYMENTS):
            self._enqueue(("deployment", deployment["metadata"]["namespace"],
                           deployment["metadata"]["name"]))
        for pod in self._resources.store.items(PODS):
            metadata = pod["metadata"]
            self._enqueue(("pod", metadata["namespace"], metadata["name"]))
            if KUBELET_FINALIZER in (metadata.get("finalizers") or []):  # a restart mid-grace
                self._enqueue(("terminated", metadata["namespace"], metadata["name"]))

    async def resume(self) -> None:
        """After a reload, start the runtime again for every pod that was running (as a
        kubelet restarts a node's containers), so a restarted dev mode serves at once."""
        if self._runtime is None:
            return
        for pod in self._resources.store.items(PODS):
            address = (pod.get("status") or {}).get("podIP")
            if not address or pod["metadata"].get("deletionTimestamp") \
                    or (pod.get("status") or {}).get("phase") != "Running":
                continue
            self._pod_addresses.reserve([address])
            failure = await self._start_containers(pod, address)
            if failure is not None:
                metadata = pod["metadata"]
                self._write_status(metadata["namespace"], metadata["name"],
                                   podstatuses.running(pod, address, failure))

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        await super().stop()

    # -- event intake ----------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        metadata = event.object["metadata"]
        if event.key == DEPLOYMENTS:
            if event.type == "DELETED":
                self._injected.discard(metadata["uid"])
            elif self._status_written_from_outside(event):
                self._injected.add(metadata["uid"])
            self._enqueue(("deployment", metadata["namespace"], metadata["name"]))
        elif event.key == PODS:
            self._on_pod_event(event)

    def _on_pod_event(self, event: Event) -> None:
        pod, metadata = event.object, event.object["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        if event.type == "DELETED":
            self._injected.discard(metadata["uid"])
            for address in (pod.get("status") or {}).get("podIPs") or []:
                self._pod_addresses.release(address["ip"])
            self._logs.forget_pod(namespace, name)
            if self._runtime is not None:
                self._enqueue(("stop", namespace, name))
            if self._gpus is not None and scheduling.requests(pod):
                self._retry_unscheduled()
        elif self._status_written_from_outside(event):
            self._injected.add(metadata["uid"])
        if event.type == "ADDED":
            self._enqueue(("pod", namespace, name))
        for ref in metadata.get("ownerReferences") or []:
            if ref.get("kind") == "Deployment" and ref.get("controller"):
                self._enqueue(("deployment", namespace, ref["name"]))

    def _retry_unscheduled(self) -> None:
        """Resources were freed: try again to place every pod that is waiting for a node."""
        for waiting in self._resources.store.items(PODS):
            if not waiting["spec"].get("nodeName"):
                self._enqueue(("pod", waiting["metadata"]["namespace"],
                               waiting["metadata"]["name"]))

    @staticmethod
    def _status_written_from_outside(event: Event) -> bool:
        """A client (a test injecting a failure) wrote the status: stop simulating it."""
        return (event.external and event.previous is not None
                and event.previous.get("status") != event.object.get("status"))

    def _enqueue(self, item: _WorkItem) -> None:
        if item not in self._queued:
            self._queued.add(item)
            self._queue.put_nowait(item)

    def _later(self, delay: float, item: _WorkItem) -> None:
        def fire() -> None:
            self._timers.discard(handle)
            self._enqueue(item)

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._timers.add(handle)

    async def run(self) -> None:
        while True:
            item = await self._queue.get()
            self._queued.discard(item)
            what, namespace, name = item
            try:
                if what == "deployment":
                    self._reconcile_deployment(namespace, name)
                elif what == "stop" and self._runtime is not None:
                    await self._runtime.stop(namespace, name)
                elif what == "drain" and self._runtime is not None:
                    await self._runtime.drain(namespace, name)
                elif what == "terminated":
                    self._terminated(namespace, name)
                else:
                    await self._advance_pod(namespace, name)
            except Exception:
                log.exception("simulating %s %s/%s failed", what, namespace, name)

    # -- the kubelet -----------------------------------------------------------------------

    def _kind(self, key: str) -> Kind:
        return self._resources.kinds.by_key(key)[0]

    async def _advance_pod(self, namespace: str, name: str) -> None:
        pods = self._kind(PODS)
        pod = self._resources.store.get(PODS, namespace, name)
        if pod is None or pod["metadata"].get("deletionTimestamp") \
                or pod["metadata"]["uid"] in self._injected:
            return
        status = pod.get("status") or {}
        if not pod["spec"].get("nodeName"):
            problem = self._unschedulable(pod)
            if problem is not None:
                if _scheduling_message(status) != problem:
                    self._write_status(namespace, name, podstatuses.unschedulable(pod, problem))
                return
            self._resources.patch(pods, namespace, name, {"spec": {"nodeName": NODE_NAME}},
                                  "merge", external=False)
            self._write_status(namespace, name, podstatuses.scheduled(pod))
            self._later(self._delay, ("pod", namespace, name))
        elif status.get("phase") == "Pending" and any(
                c.get("type") == "PodScheduled" for c in status.get("conditions") or []):
            if self._pull_failed(pod):
                return
            address = self._pod_addresses.allocate()
            failure = await self._start_containers(pod, address)
            if pod["metadata"]["uid"] not in self._injected:
                self._write_status(namespace, name, podstatuses.running(pod, address, failure))

    def _unschedulable(self, pod: Object) -> str | None:
        """The scheduler's message when the pod does not fit the node, else None."""
        if self._gpus is None:
            return None
        placed = [other for other in self._resources.store.items(PODS)
                  if other["spec"].get("nodeName") and not other["metadata"].get(
                      "deletionTimestamp") and (other.get("status") or {}).get("phase")
                  not in ("Succeeded", "Failed")]
        return scheduling.unschedulable(pod, gpus=self._gpus, placed=placed)

    def _pull_failed(self, pod: Object) -> bool:
        """Pull the pod's images from the catalog; on a failure, report it as the kubelet
        does (``ErrImagePull``, then ``ImagePullBackOff`` until the retry) and say so."""
        if self._images is None:
            return False
        metadata = pod["metadata"]
        where = (metadata["namespace"], metadata["name"])
        for container in [*(pod["spec"].get("initContainers") or []),
                          *pod["spec"]["containers"]]:
            image = container.get("image", "")
            pulled = self._images.pull(image)
            if pulled is None:
                continue
            waiting = _waiting_reason(pod, container["name"])
            if pulled.retried and waiting == "ErrImagePull":
                pulled, delay = back_off(image), self._pull_back_off
            else:
                delay = self._delay
            self._write_status(*where, podstatuses.pull_failed(
                pod, container["name"], pulled.reason, pulled.message))
            if pulled.retried:
                self._later(delay, ("pod", *where))
            return True
        return False

    async def _start_containers(self, pod: Object, address: str) -> str | None:
        """Start the pod in the runtime, if there is one; the failure message, if it failed."""
        if self._runtime is None:
            return None
        try:
            await self._runtime.start(pod, address)
        except Exception as error:
            log.warning("pod %s/%s failed to start: %s", pod["metadata"]["namespace"],
                        pod["metadata"]["name"], error)
            return str(error) or type(error).__name__
        return None

    def _write_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        pod = self._resources.store.get(PODS, namespace, name)
        if pod is not None:
            self._resources.update(self._kind(PODS), namespace, name, {**pod, "status": status},
                                   external=False, target="status")

    # -- the deployment controller ---------------------------------------------------------

    def _reconcile_deployment(self, namespace: str, name: str) -> None:
        deployment = self._resources.store.get(DEPLOYMENTS, namespace, name)
        if deployment is None or deployment["metadata"].get("deletionTimestamp"):
            return
        spec = deployment["spec"]
        uid = deployment["metadata"]["uid"]
        current_hash = template_hash(spec["template"])
        pods = [pod for pod in self._resources.store.items(PODS, namespace)
                if not pod["metadata"].get("deletionTimestamp")
                and any(ref.get("uid") == uid for ref in pod["metadata"].get("ownerReferences")
                        or [])]
        new = [p for p in pods if p["metadata"].get("labels", {}).get("pod-template-hash")
               == current_hash]
        old = [p for p in pods if p not in new]
        replicas = spec.get("replicas", 1)
        creates, deletes = _rollout(spec, replicas, new, old)
        for _ in range(creates):
            self._create_pod(deployment, current_hash)
        for pod in deletes:
            self._terminate(pod)
        if creates or deletes:
            return  # the pod events bring us back with the new picture
        if deployment["metadata"]["uid"] not in self._injected:
            self._write_deployment_status(deployment, new, old, current_hash)

    def _terminate(self, pod: Object) -> None:
        """Delete a pod the deployment controller no longer wants: gracefully if it runs."""
        pods, metadata = self._kind(PODS), pod["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        graceful = (self._runtime is not None and self._grace > 0
                    and (pod.get("status") or {}).get("podIP"))
        if graceful:
            self._resources.patch(pods, namespace, name, {"metadata": {"finalizers": [
                *(metadata.get("finalizers") or []), KUBELET_FINALIZER]}}, "merge",
                external=False)
        self._resources.delete(pods, namespace, name, DeleteOptions(), external=False)
        if graceful:
            self._enqueue(("drain", namespace, name))
            self._later(self._grace, ("terminated", namespace, name))

    def _terminated(self, namespace: str, name: str) -> None:
        """The grace is over: the kubelet lets the pod go (its runtime stops on DELETED)."""
        pod = self._resources.store.get(PODS, namespace, name)
        if pod is not None:
            self._resources.remove_finalizer(self._kind(PODS), pod, KUBELET_FINALIZER)

    def _create_pod(self, deployment: Object, pod_hash: str) -> None:
        template = copy.deepcopy(deployment["spec"]["template"])
        metadata = template.get("metadata") or {}
        name = deployment["metadata"]["name"]
        metadata.update(
            name=f"{name}-{pod_hash}-{random_suffix()}",
            labels={**(metadata.get("labels") or {}), "pod-template-hash": pod_hash},
            ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                              "uid": deployment["metadata"]["uid"], "controller": True,
                              "blockOwnerDeletion": True}])
        self._resources.create(self._kind(PODS), deployment["metadata"]["namespace"],
                               {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
                                "spec": template.get("spec") or {}}, external=False)

    def _write_deployment_status(self, deployment: Object, new: list[Object],
                                 old: list[Object], pod_hash: str) -> None:
        spec = deployment["spec"]
        replicas = spec.get("replicas", 1)
        ready = sum(is_ready(pod) for pod in new + old)
        _, max_unavailable = _surge_and_unavailable(spec, replicas)
        complete = not old and len(new) == replicas and ready == replicas
        previous = deployment.get("status") or {}
        set_name = f"{deployment['metadata']['name']}-{pod_hash}"
        status: dict[str, Any] = {
            "observedGeneration": deployment["metadata"].get("generation", 1),
            "replicas": len(new) + len(old),
            "updatedReplicas": len(new),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": max(replicas - ready, 0),
        }
        status = {key: value for key, value in status.items() if value or key in (
            "observedGeneration", "replicas")}
        available = ready >= replicas - max_unavailable
        status["conditions"] = [
            _condition(previous, "Available", available,
                       "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                       "Deployment has minimum availability." if available
                       else "Deployment does not have minimum availability."),
            _condition(previous, "Progressing", True,
                       "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                       f'ReplicaSet "{set_name}" has successfully progressed.' if complete
                       else f'ReplicaSet "{set_name}" is progressing.'),
        ]
        if status != previous:
            self._resources.update(self._kind(DEPLOYMENTS), deployment["metadata"]["namespace"],
                                   deployment["metadata"]["name"],
                                   {**deployment, "status": status}, external=False,
                                   target="status")


def _surge_and_unavailable(spec: dict[str, Any], replicas: int) -> tuple[int, int]:
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = _resolve(rolling.get("maxSurge", "25%"), replicas, round_up=True)
    unavailable = _resolve(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _rollout(spec: dict[str, Any], replicas: int, new: list[Object],
             old: list[Object]) -> tuple[int, list[Object]]:
    """How many new pods to create and which pods to delete, in this step of the rollout."""
    if not old:
        if len(new) <= replicas:
            return replicas - len(new), []
        extra = sorted(new, key=lambda p: (is_ready(p), p["metadata"]["creationTimestamp"]))
        return 0, extra[:len(new) - replicas]
    if (spec.get("strategy") or {}).get("type") == "Recreate":
        return 0, old
    surge, max_unavailable = _surge_and_unavailable(spec, replicas)
    creates = max(0, min(replicas - len(new), replicas + surge - len(new) - len(old)))
    unhealthy_old = [pod for pod in old if not is_ready(pod)]
    ready_total = sum(is_ready(pod) for pod in new + old)
    removable = max(0, ready_total - (replicas - max_unavailable))
    healthy_old = [pod for pod in old if is_ready(pod)]
    return creates, unhealthy_old + healthy_old[:removable]


def _condition(previous: dict[str, Any], kind: str, ok: bool, reason: str,
               message: str) -> dict[str, Any]:
    """A Deployment condition that keeps its timestamps while nothing about it changes."""
    status = "True" if ok else "False"
    stamp = now()
    for old in previous.get("conditions") or []:
        if old.get("type") == kind and old.get("status") == status:
            if old.get("reason") == reason and old.get("message") == message:
                return dict(old)
            return {**old, "reason": reason, "message": message, "lastUpdateTime": stamp}
    return {"type": kind, "status": status, "lastUpdateTime": stamp,
            "lastTransitionTime": stamp, "reason": reason, "message": message}


def _scheduling_message(status: dict[str, Any]) -> str | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            message: str | None = condition.get("message")
            return message
    return None


def _waiting_reason(pod: Object, container: str) -> str | None:
    status = pod.get("status") or {}
    for found in [*(status.get("initContainerStatuses") or []),
                  *(status.get("containerStatuses") or [])]:
        if found.get("name") == container:
            reason: str | None = ((found.get("state") or {}).get("waiting") or {}).get("reason")
            return reason
    return None
