"""Change feeds for subscribers: which deployments changed, coalesced, for one subscriber each.

GraphQL subscriptions (``phDeployment``, ``phDeployments``) push changes instead of clients
polling (design.md, "Performance model"). A :class:`DeploymentFeed` listens to the watch
caches: a deployment's own events, and its model pods' (a new replica is news for the Logs
tab). Listeners run synchronously inside the informer's event handling, so they only note
the deployment's name and wake the subscriber; the subscriber then reads the cache as it is.

Use it as a context manager around the snapshot and the loop, so nothing between them is
missed. A subscriber that falls behind never queues a backlog: ten changes to one deployment
while it was busy become one :class:`Change` from the state it last knew (``before``) to the
latest (``after``), and memory stays bounded by the number of deployments.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from gateway.api.store import Store
from gateway.kube.phdeployments import PhDeployment
from gateway.kube.pods import ModelPod


@dataclass(frozen=True)
class Change:
    """One deployment, as it was when its change was first noted and as it is now (``None``:
    it did not exist)."""

    name: str
    before: PhDeployment | None
    after: PhDeployment | None


class DeploymentFeed:
    """The deployments that changed since the subscriber last looked (optionally one only)."""

    def __init__(self, store: Store, *, only: str | None = None) -> None:
        self._store = store
        self._only = only
        self._pending: dict[str, PhDeployment | None] = {}  # name -> view when first noted
        self._wake = asyncio.Event()

    def __enter__(self) -> DeploymentFeed:
        """Start noting changes (before reading any snapshot, so none is missed)."""
        self._store.deployments.listen(self._on_deployment)
        self._store.pods.listen(self._on_pod)
        return self

    def __exit__(self, *_: object) -> None:
        self._store.deployments.unlisten(self._on_deployment)
        self._store.pods.unlisten(self._on_pod)

    async def changes(self) -> AsyncIterator[list[Change]]:
        """Batches of changes noted since entering, as they happen, for as long as the
        consumer iterates (inside the ``with`` block)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, {}
            yield [Change(name, before, self._store.deployments.get(name))
                   for name, before in pending.items()]

    def _note(self, name: str, before: PhDeployment | None) -> None:
        if self._only is not None and name != self._only:
            return
        self._pending.setdefault(name, before)
        self._wake.set()

    def _on_deployment(self, name: str, _new: PhDeployment | None,
                       old: PhDeployment | None) -> None:
        self._note(name, old)

    def _on_pod(self, _name: str, new: ModelPod | None, old: ModelPod | None) -> None:
        for pod in (new, old):
            if pod is not None:
                current = self._store.deployments.get(pod.deployment_id)
                if current is not None:
                    self._note(pod.deployment_id, current)
