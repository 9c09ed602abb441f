"""Every write the controller makes to Kubernetes, each only when something differs.

- Children are server-side applied (field manager ``model-gateway-controller``, forced: the
  controller owns what it declares), so a field it stops declaring is removed and fields other
  managers set (the deployment controller's annotations, an operator's labels) are kept. It
  applies only when the live child's content-hash annotation differs from the desired one, or
  a Deployment's replicas were changed by someone else (``kubectl scale``), so an unchanged
  spec costs no request at all.
- A child whose controller owner reference names another uid belongs to an earlier resource
  of the same name that is being garbage-collected: :class:`ChildNotOurs` makes the caller
  retry later instead of fighting the collector.
- The finalizer and the status are written with the resourceVersion read, so a decision made
  on a stale cache is refused (409) and retried on fresh data, never applied.
- Every answer is kept in :attr:`Writes.recent` until the watch caches show it, so the next
  reconcile does not act on a copy older than its own last write.
"""

from __future__ import annotations

import contextlib
from typing import Final

from gateway.controller.desired import HASH_ANNOTATION
from gateway.controller.metrics import ControllerMetrics
from gateway.controller.recentwrites import RecentWrites
from gateway.kube.client import DEPLOYMENTS, Kube, Object, Resource
from gateway.kube.errors import KubeError, NotFound
from gateway.kube.phdeployments import PHDEPLOYMENTS

FIELD_MANAGER: Final = "model-gateway-controller"
FINALIZER: Final = "model-gateway.io/data-plane"


class ChildNotOurs(KubeError):
    """A child's name is held by an object another owner controls (being collected)."""


def content_annotation(obj: Object) -> str | None:
    value = (obj["metadata"].get("annotations") or {}).get(HASH_ANNOTATION)
    return value if isinstance(value, str) else None


class Writes:
    def __init__(self, kube: Kube, *, namespace: str, metrics: ControllerMetrics) -> None:
        self._kube = kube
        self._namespace = namespace
        self._metrics = metrics
        self.recent = RecentWrites()

    async def apply(self, resource: Resource, *, live: Object | None, body: Object,
                    owner_uid: str) -> None:
        """Server-side apply ``body`` unless ``live`` already has its content."""
        name = body["metadata"]["name"]
        if live is not None:
            foreign = [ref for ref in live["metadata"].get("ownerReferences") or []
                       if ref.get("controller") and ref.get("uid") != owner_uid]
            if foreign:
                raise ChildNotOurs(f"{resource.kind} {name} is still controlled by "
                                   f"{foreign[0].get('kind')} uid {foreign[0].get('uid')}")
            if content_annotation(live) == content_annotation(body) and (
                    resource is not DEPLOYMENTS
                    or live["spec"].get("replicas") == body["spec"]["replicas"]):
                return
        stored = await self._kube.patch(resource, namespace=self._namespace, name=name,
                                        body=body, patch_type="apply",
                                        field_manager=FIELD_MANAGER, force=True)
        self.recent.remember(resource, name, before=live, after=stored)
        self._metrics.writes.labels(resource.kind.lower()).inc()

    async def scale_to_zero(self, live: Object | None) -> None:
        """Take a live Deployment's pods away (its deployment cannot run)."""
        await self.scale(live, replicas=0)

    async def scale(self, live: Object | None, *, replicas: int) -> None:
        """Set a live Deployment's replicas, touching nothing else (when they differ)."""
        if live is None or (live["spec"].get("replicas") or 0) == replicas:
            return
        name = live["metadata"]["name"]
        stored = await self._kube.patch(DEPLOYMENTS, namespace=self._namespace, name=name,
                                        body={"spec": {"replicas": replicas}},
                                        patch_type="merge", field_manager=FIELD_MANAGER)
        self.recent.remember(DEPLOYMENTS, name, before=live, after=stored)
        self._metrics.writes.labels("scale").inc()

    async def delete(self, resource: Resource, live: Object) -> None:
        """Delete a child no predictor needs any more (its pods go with it)."""
        name = live["metadata"]["name"]
        with contextlib.suppress(NotFound):
            await self._kube.delete(resource, namespace=self._namespace, name=name,
                                    propagation="Background")
        self.recent.forget(resource, name)
        self._metrics.writes.labels("delete").inc()

    async def ensure_finalizer(self, obj: Object) -> Object:
        """``obj`` with our finalizer (as stored after adding it, if it was missing)."""
        finalizers = list(obj["metadata"].get("finalizers") or [])
        if FINALIZER in finalizers:
            return obj
        return await self._finalizers(obj, [*finalizers, FINALIZER])

    async def drop_finalizer(self, obj: Object) -> None:
        finalizers = list(obj["metadata"].get("finalizers") or [])
        if FINALIZER in finalizers:
            await self._finalizers(obj, [item for item in finalizers if item != FINALIZER])

    async def _finalizers(self, obj: Object, finalizers: list[str]) -> Object:
        name = obj["metadata"]["name"]
        updated = await self._kube.patch(
            PHDEPLOYMENTS, namespace=self._namespace, name=name,
            body={"metadata": {"finalizers": finalizers or None,
                               "resourceVersion": obj["metadata"]["resourceVersion"]}},
            patch_type="merge", field_manager=FIELD_MANAGER)
        self.recent.remember(PHDEPLOYMENTS, name, before=obj, after=updated)
        self._metrics.writes.labels("finalizer").inc()
        return updated

    async def status(self, obj: Object, new: Object) -> None:
        name = obj["metadata"]["name"]
        stored = await self._kube.patch(
            PHDEPLOYMENTS, namespace=self._namespace, name=name,
            body={"metadata": {"resourceVersion": obj["metadata"]["resourceVersion"]},
                  "status": new},
            patch_type="merge", subresource="status", field_manager=FIELD_MANAGER)
        self.recent.remember(PHDEPLOYMENTS, name, before=obj, after=stored)
        self._metrics.writes.labels("status").inc()
