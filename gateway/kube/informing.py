"""Watch-backed caches (informers): the API's reads and the controller's triggers.

An :class:`Informer` lists a resource, then watches from the list's resourceVersion, keeping
an in-memory copy of every object. When the watch ends it resumes from the last version seen
(bookmarks keep that fresh); on 410 Gone it lists again and reports the difference as events,
so handlers never miss a change; when the API server is unreachable it retries with capped,
jittered exponential backoff and marks itself ``stale`` until a watch is running again.
Handlers are called synchronously with (type, object, previous) and must not block.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Literal

from gateway.kube.client import Kube, Object, Resource
from gateway.kube.errors import Gone, KubeError

log = logging.getLogger(__name__)

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
Handler = Callable[[EventType, Object, Object | None], None]
Key = tuple[str, str]


def key_of(obj: Object) -> Key:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


class Informer:
    """A live, in-memory copy of one resource (optionally one namespace / label selector)."""

    def __init__(self, kube: Kube, resource: Resource, *, namespace: str | None = None,
                 label_selector: str | None = None, watch_timeout: int = 300,
                 backoff_cap: float = 10.0) -> None:
        self.resource = resource
        self._kube = kube
        self._namespace = namespace
        self._selector = label_selector
        self._watch_timeout = watch_timeout
        self._backoff_cap = backoff_cap
        self._items: dict[Key, Object] = {}
        self._handlers: list[Handler] = []
        self._synced = asyncio.Event()
        self._resource_version = ""
        self._task: asyncio.Task[None] | None = None
        self.stale = True

    # -- reading ---------------------------------------------------------------------------

    @property
    def synced(self) -> bool:
        """True once the first list has been loaded."""
        return self._synced.is_set()

    async def wait_synced(self) -> None:
        await self._synced.wait()

    def get(self, namespace: str, name: str) -> Object | None:
        return self._items.get((namespace, name))

    def items(self) -> list[Object]:
        return list(self._items.values())

    def subscribe(self, handler: Handler) -> None:
        """Call ``handler`` for every change; subscribe before :meth:`start` to also get
        every existing object as ADDED from the first list."""
        self._handlers.append(handler)

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"informer-{self.resource.plural}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                if not self._resource_version:
                    await self._relist()
                self.stale = False
                failures = 0
                await self._watch()
            except Gone:
                self._resource_version = ""  # too old: list again at once
            except KubeError as error:
                self.stale = True
                failures += 1
                delay = min(self._backoff_cap, 0.1 * 2 ** min(failures, 10))
                delay *= random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not security)
                log.warning("%s informer: %s; retrying in %.2fs", self.resource.plural, error,
                            delay)
                await asyncio.sleep(delay)

    async def _relist(self) -> None:
        items: dict[Key, Object] = {}
        continue_token = None
        while True:
            page = await self._kube.list(self.resource, namespace=self._namespace,
                                         label_selector=self._selector, limit=500,
                                         continue_token=continue_token)
            for obj in page.get("items") or []:
                obj.setdefault("apiVersion", self.resource.api_version)
                obj.setdefault("kind", self.resource.kind)
                items[key_of(obj)] = obj
            continue_token = page["metadata"].get("continue")
            if not continue_token:
                break
        self._resource_version = page["metadata"]["resourceVersion"]
        previous, self._items = self._items, items
        for key, obj in items.items():
            old = previous.get(key)
            if old is None:
                self._emit("ADDED", obj, None)
            elif old["metadata"].get("resourceVersion") != obj["metadata"].get(
                    "resourceVersion"):
                self._emit("MODIFIED", obj, old)
        for key, old in previous.items():
            if key not in items:
                self._emit("DELETED", old, old)
        self._synced.set()

    async def _watch(self) -> None:
        async for event in self._kube.watch(self.resource, namespace=self._namespace,
                                            resource_version=self._resource_version,
                                            timeout_seconds=self._watch_timeout,
                                            label_selector=self._selector):
            obj: Object = event["object"]
            self._resource_version = obj["metadata"].get("resourceVersion",
                                                         self._resource_version)
            kind = event["type"]
            if kind == "BOOKMARK":
                continue
            key = key_of(obj)
            old = self._items.get(key)
            if kind == "DELETED":
                self._items.pop(key, None)
                self._emit("DELETED", obj, old)
            elif kind in ("ADDED", "MODIFIED"):
                self._items[key] = obj
                self._emit("MODIFIED" if old is not None else "ADDED", obj, old)

    def _emit(self, kind: EventType, obj: Object, old: Object | None) -> None:
        for handler in self._handlers:
            try:
                handler(kind, obj, old)
            except Exception:
                log.exception("%s informer handler failed", self.resource.plural)
