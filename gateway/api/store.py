"""The API's read side: watch caches of every kind it serves, and the lookups queries need.

Every GraphQL read is answered from here (design.md, "Performance model"): deployments,
instance types, groups, API tokens, model pods and deployment clients' details (never their
hashes), each an :class:`~gateway.api.indexes.Index`
over an informer in the API's namespace. Derived lookups are maintained on change, not
computed per request: the groups each user belongs to, each deployment's pods, and the
deployments in list order (newest ``lastUpdatedTime`` first, then id), re-sorted only after
a deployment changed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from gateway.api.indexes import Index
from gateway.kube import apitokens, clientsecrets, groups, instancetypes, phdeployments, pods
from gateway.kube.client import PODS, SECRETS, Kube, Resource
from gateway.kube.groups import Group
from gateway.kube.informing import Informer
from gateway.kube.phdeployments import PhDeployment
from gateway.kube.pods import ModelPod


class Store:
    """Live, parsed copies of everything the API reads."""

    def __init__(self, kube: Kube, *, namespace: str) -> None:
        self.namespace = namespace

        def informer(resource: Resource, selector: str | None = None) -> Informer:
            return Informer(kube, resource, namespace=namespace, label_selector=selector)

        self.deployments = Index(informer(phdeployments.PHDEPLOYMENTS), phdeployments.parse)
        self.instance_types = Index(informer(instancetypes.INSTANCETYPES), instancetypes.parse)
        self.groups = Index(informer(groups.GROUPS), groups.parse)
        self.tokens = Index(informer(SECRETS, apitokens.SELECTOR), apitokens.parse)
        self.pods = Index(informer(PODS, pods.SELECTOR), pods.parse)
        # Only the clients' details: the API never needs their hashes.
        self.client_details = Index(informer(SECRETS, clientsecrets.SELECTOR),
                                    clientsecrets.details_of)
        self._indexes: tuple[Index[Any], ...] = (
            self.deployments, self.instance_types, self.groups, self.tokens, self.pods,
            self.client_details)
        self._members: dict[str, set[str]] = defaultdict(set)
        self._pods_of: dict[str, dict[str, ModelPod]] = defaultdict(dict)
        self._ordered: tuple[int, list[PhDeployment]] = (-1, [])
        self.groups.listen(self._on_group)
        self.pods.listen(self._on_pod)

    # -- lifetime ----------------------------------------------------------------------------

    def start(self) -> None:
        for index in self._indexes:
            index.informer.start()

    async def stop(self) -> None:
        for index in self._indexes:
            await index.informer.stop()

    @property
    def synced(self) -> bool:
        """Every cache has loaded its first list."""
        return all(index.informer.synced for index in self._indexes)

    @property
    def stale(self) -> bool:
        """Some cache lost its watch and serves what it last saw."""
        return any(index.informer.stale for index in self._indexes)

    # -- lookups -----------------------------------------------------------------------------

    def groups_of(self, username: str) -> frozenset[str]:
        """The groups listing ``username`` as a member."""
        return frozenset(self._members.get(username, ()))

    def pods_of(self, deployment_id: str) -> list[ModelPod]:
        """The deployment's model pods, by name."""
        found = self._pods_of.get(deployment_id)
        return sorted(found.values(), key=lambda pod: pod.name) if found else []

    def deployments_in_order(self) -> list[PhDeployment]:
        """Every deployment, newest ``lastUpdatedTime`` first (ties: by id); do not mutate."""
        generation, ordered = self._ordered
        if generation != self.deployments.generation:
            ordered = sorted(self.deployments.values(), key=lambda item: item.name)
            ordered.sort(key=lambda item: item.spec.update_time or "", reverse=True)
            self._ordered = (self.deployments.generation, ordered)
        return ordered

    # -- maintenance -------------------------------------------------------------------------

    def _on_group(self, name: str, new: Group | None, old: Group | None) -> None:
        for member in old.spec.members if old else ():
            self._members[member].discard(name)
            if not self._members[member]:
                del self._members[member]
        for member in new.spec.members if new else ():
            self._members[member].add(name)

    def _on_pod(self, name: str, new: ModelPod | None, old: ModelPod | None) -> None:
        if old is not None:
            owned = self._pods_of.get(old.deployment_id)
            if owned is not None:
                owned.pop(name, None)
                if not owned:
                    del self._pods_of[old.deployment_id]
        if new is not None:
            self._pods_of[new.deployment_id][name] = new
