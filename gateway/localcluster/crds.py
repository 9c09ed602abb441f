"""CustomResourceDefinitions: serving their resources as soon as they exist.

A CRD write registers (or re-registers) one :class:`Kind` per served version, with the
version's compiled structural schema, synchronously, so a client may create custom objects
right after the CRD call returns. The status conditions (``NamesAccepted``, ``Established``)
and the clean-up of custom objects after a CRD is deleted are written by a task, because store
listeners must not write.
"""

from __future__ import annotations

import asyncio
import copy
import logging

from gateway.localcluster import structural
from gateway.localcluster.kinds import Kind
from gateway.localcluster.metadata import now
from gateway.localcluster.reacting import Reactor
from gateway.localcluster.resources import Resources
from gateway.localcluster.store import Event, Object

log = logging.getLogger(__name__)

CRD_KEY = "apiextensions.k8s.io/customresourcedefinitions"
_ANYTHING = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def kinds_of(crd: Object) -> list[Kind]:
    """The kinds a CRD serves: one per served version."""
    spec = crd["spec"]
    names = spec["names"]
    kinds = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        declared = version.get("subresources") or {}
        subresources = {name for name in ("status", "scale") if name in declared}
        schema = structural.compile_schema(
            (version.get("schema") or {}).get("openAPIV3Schema") or _ANYTHING)
        kinds.append(Kind(
            group=spec["group"], version=version["name"], plural=names["plural"],
            kind=names["kind"], namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            singular=names.get("singular", names["kind"].lower()),
            short_names=tuple(names.get("shortNames") or ()),
            subresources=frozenset(subresources), schema=schema,
            list_map_keys=schema.list_map_keys(), builtin=False,
            tracks_generation=True))
    return kinds


class CustomResourceDefinitions(Reactor):
    """Keeps the kind registry in step with the stored CRDs."""

    name = "localcluster-crds"

    def __init__(self, resources: Resources) -> None:
        super().__init__(resources.store)
        self._resources = resources
        self._work: asyncio.Queue[Event] = asyncio.Queue()
        for crd in resources.store.items(CRD_KEY):
            self._serve(crd)

    def start(self) -> None:
        super().start()
        for crd in self._resources.store.items(CRD_KEY):
            self._work.put_nowait(Event(0, "ADDED", CRD_KEY, crd, None, external=False))

    def on_event(self, event: Event) -> None:
        if event.key != CRD_KEY:
            return
        if event.type == "DELETED":
            self._stop_serving(event.object)
        else:
            if event.previous is not None:
                self._stop_serving(event.previous)
            self._serve(event.object)
        self._work.put_nowait(event)

    def _serve(self, crd: Object) -> None:
        for kind in kinds_of(crd):
            self._resources.kinds.add(kind)

    def _stop_serving(self, crd: Object) -> None:
        spec = crd["spec"]
        self._resources.kinds.remove_group_resource(spec["group"], spec["names"]["plural"])

    async def run(self) -> None:
        while True:
            event = await self._work.get()
            try:
                self._settle(event)
            except Exception:
                log.exception("CRD bookkeeping failed for %s", event.object["metadata"]["name"])

    def _settle(self, event: Event) -> None:
        crd = event.object
        spec = crd["spec"]
        if event.type == "DELETED":
            self._resources.store.drop_kind(f"{spec['group']}/{spec['names']['plural']}")
            return
        current = self._resources.store.get(CRD_KEY, "", crd["metadata"]["name"])
        if current is None or (current.get("status") or {}).get("acceptedNames") == spec["names"]:
            return
        crd_kind = self._resources.kinds.find("apiextensions.k8s.io", "v1",
                                              "customresourcedefinitions")
        assert crd_kind is not None
        status = copy.deepcopy(current.get("status") or {})
        stamp = now()
        status["acceptedNames"] = spec["names"]
        status["storedVersions"] = [v["name"] for v in spec["versions"] if v.get("storage")]
        status["conditions"] = [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": stamp},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted", "lastTransitionTime": stamp},
        ]
        self._resources.update(crd_kind, "", crd["metadata"]["name"], {**current, "status": status},
                               external=False, target="status")
