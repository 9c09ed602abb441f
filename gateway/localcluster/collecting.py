"""Garbage collection: owner references, foreground and orphan deletion, namespace clean-up.

What kube-controller-manager's garbage collector and namespace controller do, in one task:
- when an owner is gone, delete each dependent whose owners are all gone (background);
- an object held by ``foregroundDeletion`` has its dependents deleted first (also in the
  foreground), and is removed once none is left;
- an object held by ``orphan`` has the owner references to it removed from its dependents;
- a namespace held by ``kubernetes`` has its contents deleted, then is removed.
Store listeners must not write, so events only queue work; the task does the writes.
"""

from __future__ import annotations

import asyncio
import logging

from gateway.localcluster.kinds import Kind
from gateway.localcluster.reacting import Reactor
from gateway.localcluster.resources import DeleteOptions, Resources
from gateway.localcluster.store import Event, Object

log = logging.getLogger(__name__)


class Collector(Reactor):
    """Reacts to deletions and deletion marks; runs until :meth:`stop`."""

    name = "localcluster-collector"

    def __init__(self, resources: Resources) -> None:
        super().__init__(resources.store)
        self._resources = resources
        self._pending: asyncio.Queue[None] = asyncio.Queue()

    def start(self) -> None:
        super().start()
        self._pending.put_nowait(None)  # a reload may have left work half done

    def on_event(self, event: Event) -> None:
        if event.type == "DELETED" or event.object["metadata"].get("deletionTimestamp"):
            self._pending.put_nowait(None)

    async def run(self) -> None:
        while True:
            await self._pending.get()
            while not self._pending.empty():
                self._pending.get_nowait()
            try:
                self.collect()
            except Exception:
                log.exception("garbage collection pass failed; will retry on the next change")

    def collect(self) -> None:
        """One full pass; repeats until nothing more changes (a cascade settles in one call)."""
        while self._pass():
            pass

    def _pass(self) -> bool:
        store = self._resources.store
        live_uids = {obj["metadata"]["uid"] for _, obj in store.all_items()}
        changed = False
        for key, obj in list(store.all_items()):
            if store.get(key, obj["metadata"].get("namespace", ""),
                         obj["metadata"]["name"]) is not obj:
                continue  # changed earlier in this pass
            kind = self._kind(key)
            if kind is None:
                continue
            owners = [ref["uid"] for ref in obj["metadata"].get("ownerReferences") or []]
            if owners and not any(uid in live_uids for uid in owners) \
                    and not obj["metadata"].get("deletionTimestamp"):
                self._delete(kind, obj, None)
                changed = True
            elif obj["metadata"].get("deletionTimestamp"):
                changed |= self._finish_deleting(kind, obj)
        return changed

    def _finish_deleting(self, kind: Kind, obj: Object) -> bool:
        finalizers = obj["metadata"].get("finalizers") or []
        uid = obj["metadata"]["uid"]
        if "orphan" in finalizers:
            for dep_kind, dependent in self._dependents(uid):
                refs = [ref for ref in dependent["metadata"]["ownerReferences"]
                        if ref["uid"] != uid]
                self._resources.patch(dep_kind, dependent["metadata"].get("namespace", ""),
                                      dependent["metadata"]["name"],
                                      {"metadata": {"ownerReferences": refs or None}}, "merge",
                                      external=False)
            self._resources.remove_finalizer(kind, obj, "orphan")
            return True
        if "foregroundDeletion" in finalizers:
            return self._empty_then_release(kind, obj, "foregroundDeletion",
                                            self._dependents(uid))
        if "kubernetes" in finalizers and kind.key == "/namespaces":
            name = obj["metadata"]["name"]
            return self._empty_then_release(kind, obj, "kubernetes", [
                (item_kind, item) for key, item in self._resources.store.all_items()
                if item["metadata"].get("namespace") == name
                and (item_kind := self._kind(key)) is not None])
        return False

    def _empty_then_release(self, kind: Kind, obj: Object, finalizer: str,
                            contents: list[tuple[Kind, Object]]) -> bool:
        """Delete ``contents`` (in the foreground); drop ``finalizer`` once none is left."""
        if not contents:
            self._resources.remove_finalizer(kind, obj, finalizer)
            return True
        waiting = [(k, item) for k, item in contents if not item["metadata"].get(
            "deletionTimestamp")]
        for item_kind, item in waiting:
            self._delete(item_kind, item, "Foreground")
        return bool(waiting)

    def _dependents(self, owner_uid: str) -> list[tuple[Kind, Object]]:
        found = []
        for key, obj in self._resources.store.all_items():
            refs = obj["metadata"].get("ownerReferences") or []
            kind = self._kind(key)
            if kind is not None and any(ref.get("uid") == owner_uid for ref in refs):
                found.append((kind, obj))
        return found

    def _delete(self, kind: Kind, obj: Object, policy: str | None) -> None:
        metadata = obj["metadata"]
        self._resources.delete(kind, metadata.get("namespace", ""), metadata["name"],
                               DeleteOptions(propagation=policy), external=False)

    def _kind(self, key: str) -> Kind | None:
        served = self._resources.kinds.by_key(key)
        return served[0] if served else None

