"""What the controller watches, and which deployment each change concerns.

One informer per kind in the controller's namespace: PhDeployments; the Deployments, Services,
HorizontalPodAutoscalers and Pods labelled ``app=primehub-deployment``; the clients Secrets
(by their purpose label); groups and instance types. Every change is turned into the id of
the PhDeployment(s) it concerns and handed to ``enqueue``:

- a PhDeployment: itself;
- a child, pod or clients Secret: the ``primehub.io/phdeployment`` label it carries;
- a group or an instance type: every deployment that refers to it (an instance type: by
  any of its predictors) (an index kept from the
  PhDeployment events, so no event scans every spec).

Pods are also indexed by deployment, so a reconcile reads its pods without a scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from gateway.controller.labels import CHILD_SELECTOR
from gateway.kube import clientsecrets
from gateway.kube.client import (
    DEPLOYMENTS,
    HPAS,
    PODS,
    SECRETS,
    SERVICES,
    Kube,
    Object,
    Resource,
)
from gateway.kube.groups import GROUPS
from gateway.kube.informing import EventType, Informer
from gateway.kube.instancetypes import INSTANCETYPES
from gateway.kube.phdeployments import DEPLOYMENT_LABEL, PHDEPLOYMENTS


def _label(obj: Object) -> str | None:
    value = (obj["metadata"].get("labels") or {}).get(DEPLOYMENT_LABEL)
    return value if isinstance(value, str) and value else None


def _references(obj: Object) -> tuple[str, frozenset[str]]:
    """(group id, instance types of every predictor) a PhDeployment refers to, read without a
    full parse."""
    raw = obj.get("spec")
    spec: dict[str, Any] = raw if isinstance(raw, dict) else {}
    predictors = spec.get("predictors")
    types = frozenset(str(item.get("instanceType") or "")
                      for item in (predictors if isinstance(predictors, list) else [])
                      if isinstance(item, dict))
    return str(spec.get("groupId") or ""), types


class Watches:
    """The controller's informers and the indexes built from their events."""

    def __init__(self, kube: Kube, *, namespace: str, enqueue: Callable[[str], None]) -> None:
        self.namespace = namespace
        self._enqueue = enqueue

        def informer(resource: Resource, selector: str | None = None) -> Informer:
            return Informer(kube, resource, namespace=namespace, label_selector=selector)

        self.phdeployments = informer(PHDEPLOYMENTS)
        self.deployments = informer(DEPLOYMENTS, CHILD_SELECTOR)
        self.services = informer(SERVICES, CHILD_SELECTOR)
        self.pods = informer(PODS, CHILD_SELECTOR)
        self.secrets = informer(SECRETS, clientsecrets.SELECTOR)
        self.groups = informer(GROUPS)
        self.instance_types = informer(INSTANCETYPES)
        self.autoscalers = informer(HPAS, CHILD_SELECTOR)
        self._all = (self.phdeployments, self.deployments, self.services, self.pods,
                     self.secrets, self.groups, self.instance_types, self.autoscalers)
        self._references: dict[str, tuple[str, frozenset[str]]] = {}
        self._pods_of: dict[str, dict[str, Object]] = defaultdict(dict)
        self.phdeployments.subscribe(self._on_phdeployment)
        for labelled in (self.deployments, self.services, self.secrets, self.autoscalers):
            labelled.subscribe(self._on_labelled)
        self.pods.subscribe(self._on_pod)
        self.groups.subscribe(self._on_referenced(lambda refs, name: refs[0] == name))
        self.instance_types.subscribe(self._on_referenced(lambda refs, name: name in refs[1]))

    # -- lifetime ----------------------------------------------------------------------------

    def start(self) -> None:
        for informer in self._all:
            informer.start()

    async def wait_synced(self) -> None:
        for informer in self._all:
            await informer.wait_synced()

    async def stop(self) -> None:
        for informer in self._all:
            await informer.stop()

    # -- reading -----------------------------------------------------------------------------

    def get(self, informer: Informer, name: str) -> Object | None:
        return informer.get(self.namespace, name)

    def pods_of(self, deployment_id: str) -> list[Object]:
        return list(self._pods_of.get(deployment_id, {}).values())

    def children_of(self, informer: Informer, deployment_id: str) -> list[Object]:
        """The cached objects of ``informer`` labelled with ``deployment_id`` (a deployment's
        Deployments or Services, one per predictor)."""
        return [obj for obj in informer.items() if _label(obj) == deployment_id]

    def members(self, group_id: str) -> list[str]:
        """The ids of the deployments that name ``group_id`` as their group."""
        return [name for name, (group, _) in self._references.items() if group == group_id]

    def deployment_ids(self) -> list[str]:
        return [obj["metadata"]["name"] for obj in self.phdeployments.items()]

    # -- events ------------------------------------------------------------------------------

    def _on_phdeployment(self, kind: EventType, obj: Object, old: Object | None) -> None:
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            self._references.pop(name, None)
        else:
            self._references[name] = _references(obj)
        self._enqueue(name)

    def _on_labelled(self, kind: EventType, obj: Object, old: Object | None) -> None:
        deployment_id = _label(obj) or (_label(old) if old is not None else None)
        if deployment_id is not None:
            self._enqueue(deployment_id)

    def _on_pod(self, kind: EventType, obj: Object, old: Object | None) -> None:
        name = obj["metadata"]["name"]
        previous = _label(old) if old is not None else None
        current = _label(obj)
        if previous is not None and previous != current:
            self._forget_pod(previous, name)
        if current is not None:
            if kind == "DELETED":
                self._forget_pod(current, name)
            else:
                self._pods_of[current][name] = obj
            self._enqueue(current)
        if previous is not None and previous != current:
            self._enqueue(previous)

    def _forget_pod(self, deployment_id: str, name: str) -> None:
        pods = self._pods_of.get(deployment_id)
        if pods is not None:
            pods.pop(name, None)
            if not pods:
                del self._pods_of[deployment_id]

    def _on_referenced(self, refers: Callable[[tuple[str, frozenset[str]], str], bool]
                       ) -> Callable[[EventType, Object, Object | None], None]:
        def handler(kind: EventType, obj: Object, old: Object | None) -> None:
            name = obj["metadata"]["name"]
            for deployment_id, references in list(self._references.items()):
                if refers(references, name):
                    self._enqueue(deployment_id)

        return handler
