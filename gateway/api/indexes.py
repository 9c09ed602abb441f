"""Parsed views of an informer's objects, kept in step with its events.

Parsing a custom resource into its view costs more than anything a query does with it, so an
:class:`Index` parses each object once, when its watch event arrives, and queries read views.
An object that does not parse is left out (and logged once per version): one bad object must
not take the API down. :meth:`Index.observed` lets a mutation wait until the cache has caught
up with its own write, so a client reading right after a mutation sees it (read your writes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from gateway.kube.client import Object
from gateway.kube.informing import EventType, Informer
from gateway.kube.views import MalformedObject

log = logging.getLogger(__name__)

T = TypeVar("T")


def _newer_or_same(stored: str, wanted: str) -> bool:
    """Resource versions are opaque; numeric ones (every real API server) also order."""
    if stored == wanted:
        return True
    if stored.isdigit() and wanted.isdigit():
        return int(stored) >= int(wanted)
    return False


class Index(Generic[T]):
    """The views of one informer's objects by name, with change listeners."""

    def __init__(self, informer: Informer, parse: Callable[[Object], T]) -> None:
        self.informer = informer
        self._parse = parse
        self._views: dict[str, T] = {}
        self._versions: dict[str, str] = {}
        self._listeners: list[Callable[[str, T | None, T | None], None]] = []
        self._changed = asyncio.Event()
        self.generation = 0  # bumped on every change, for derived caches
        informer.subscribe(self._on_event)

    def listen(self, listener: Callable[[str, T | None, T | None], None]) -> None:
        """Call ``listener(name, new, old)`` after every change (``new`` None: removed)."""
        self._listeners.append(listener)

    def unlisten(self, listener: Callable[[str, T | None, T | None], None]) -> None:
        """Stop calling ``listener`` (a subscriber went away)."""
        self._listeners.remove(listener)

    def get(self, name: str) -> T | None:
        return self._views.get(name)

    def values(self) -> Iterable[T]:
        return self._views.values()

    def __len__(self) -> int:
        return len(self._views)

    def __contains__(self, name: object) -> bool:
        return name in self._views

    async def observed(self, name: str, resource_version: str | None) -> None:
        """Wait until the cache holds ``name`` at ``resource_version`` or later (``None``:
        until it is gone). Callers bound the wait with ``asyncio.timeout``."""
        while not self._holds(name, resource_version):
            await self._changed.wait()

    def _holds(self, name: str, resource_version: str | None) -> bool:
        stored = self._versions.get(name)
        if resource_version is None:
            return stored is None
        return stored is not None and _newer_or_same(stored, resource_version)

    def _on_event(self, kind: EventType, obj: Object, _old: Object | None) -> None:
        meta = obj["metadata"]
        name: str = meta["name"]
        previous = self._views.get(name)
        if kind == "DELETED":
            self._views.pop(name, None)
            self._versions.pop(name, None)
            current = None
        else:
            version = str(meta.get("resourceVersion") or "")
            self._versions[name] = version
            try:
                current = self._parse(obj)
            except MalformedObject as error:
                log.warning("ignoring %s %r at version %s: %s",
                            self.informer.resource.plural, name, version, error)
                current = None
            if current is None:
                self._views.pop(name, None)
            else:
                self._views[name] = current
        self.generation += 1
        self._changed.set()
        self._changed = asyncio.Event()
        for listener in tuple(self._listeners):
            listener(name, current, previous)
