"""The object store: every object the local cluster holds, one resource version counter, and
the event history watches replay from.

Like etcd behind kube-apiserver, there is one global, increasing resource version; each write
gets the next one and appends an event. The history keeps the last ``history`` events: a watch
that asks to start before the oldest kept event gets 410 Gone, exactly the contract informers
are built for. Listeners are called synchronously, in order, for every event: watch streams
and the simulated controllers subscribe here. Stored objects are never mutated in place; a
write stores a new dict, so a reader may hold on to what it got.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

Object = dict[str, Any]
EventType = Literal["ADDED", "MODIFIED", "DELETED"]


@dataclass(frozen=True)
class Event:
    """One change. ``previous`` is the object before a MODIFIED or DELETED (None for ADDED)."""

    resource_version: int
    type: EventType
    key: str
    object: Object
    previous: Object | None
    external: bool  # written through the HTTP API (as opposed to the simulated controllers)


Listener = Callable[[Event], None]


class TooOldResourceVersion(Exception):
    """The asked-for resource version is older than the history kept."""

    def __init__(self, asked: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {asked} ({oldest})")
        self.asked = asked
        self.oldest = oldest


def object_key(obj: Object) -> tuple[str, str]:
    metadata = obj["metadata"]
    return metadata.get("namespace", ""), metadata["name"]


class Store:
    """All objects by storage key, the event history and the listeners."""

    def __init__(self, *, history: int) -> None:
        self._objects: dict[str, dict[tuple[str, str], Object]] = {}
        self._history: deque[Event] = deque(maxlen=history)
        self._listeners: list[Listener] = []
        self._resource_version = 0
        self._oldest_servable = 0  # a watch may start from this version or any later one

    @property
    def resource_version(self) -> int:
        return self._resource_version

    def load(self, objects: dict[str, list[Object]], resource_version: int) -> None:
        """Replace everything with persisted state; history starts empty at that version."""
        self._objects = {key: {object_key(obj): obj for obj in items}
                         for key, items in objects.items()}
        self._history.clear()
        self._resource_version = resource_version
        self._oldest_servable = resource_version

    def dump(self) -> dict[str, list[Object]]:
        return {key: list(items.values()) for key, items in self._objects.items() if items}

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every future event; returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def get(self, key: str, namespace: str, name: str) -> Object | None:
        return self._objects.get(key, {}).get((namespace, name))

    def items(self, key: str, namespace: str | None = None) -> list[Object]:
        """Objects of one kind (in one namespace, or all), sorted by namespace and name."""
        found = self._objects.get(key, {})
        keys = sorted(found) if namespace is None else sorted(k for k in found
                                                             if k[0] == namespace)
        return [found[k] for k in keys]

    def all_items(self) -> Iterator[tuple[str, Object]]:
        for key, items in self._objects.items():
            for obj in list(items.values()):
                yield key, obj

    def next_version(self) -> str:
        """Reserve the resource version the next write will carry."""
        return str(self._resource_version + 1)

    def put(self, key: str, obj: Object, *, external: bool) -> Object:
        """Store ``obj`` (create or replace) under a new resource version and emit the event."""
        self._resource_version += 1
        obj["metadata"]["resourceVersion"] = str(self._resource_version)
        items = self._objects.setdefault(key, {})
        previous = items.get(object_key(obj))
        items[object_key(obj)] = obj
        self._emit(Event(self._resource_version, "MODIFIED" if previous else "ADDED", key, obj,
                         previous, external))
        return obj

    def remove(self, key: str, namespace: str, name: str, *, external: bool) -> Object | None:
        """Delete an object; the DELETED event carries it with a new resource version."""
        previous = self._objects.get(key, {}).pop((namespace, name), None)
        if previous is None:
            return None
        self._resource_version += 1
        gone = {**previous, "metadata": {**previous["metadata"],
                                         "resourceVersion": str(self._resource_version)}}
        self._emit(Event(self._resource_version, "DELETED", key, gone, previous, external))
        return gone

    def drop_kind(self, key: str) -> list[Object]:
        """Remove every object of a kind (its CRD is gone), emitting DELETED for each."""
        removed = []
        for namespace, name in list(self._objects.get(key, {})):
            gone = self.remove(key, namespace, name, external=False)
            if gone is not None:
                removed.append(gone)
        self._objects.pop(key, None)
        return removed

    def events_since(self, resource_version: int, key: str) -> list[Event]:
        """Events of one kind after ``resource_version``; raises when history no longer has them."""
        if resource_version < self._oldest_servable:
            raise TooOldResourceVersion(resource_version, self._oldest_servable)
        return [event for event in self._history
                if event.resource_version > resource_version and event.key == key]

    def _emit(self, event: Event) -> None:
        if len(self._history) == self._history.maxlen:
            self._oldest_servable = self._history[0].resource_version
        self._history.append(event)
        for listener in list(self._listeners):
            listener(event)
