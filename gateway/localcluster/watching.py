"""Watch streams: newline-delimited JSON events over one chunked HTTP response.

Semantics follow kube-apiserver: with no ``resourceVersion`` (or "0") the stream starts with a
synthetic ADDED per existing object; with a version it replays every later event from the
history, or sends one ERROR event carrying a 410 Expired Status when that version is too old.
With selectors, an object that stops matching arrives as DELETED and one that starts matching
as ADDED. ``allowWatchBookmarks`` adds BOOKMARK events on a timer (and, with
``sendInitialEvents``, one marking the end of the initial ADDED events). ``timeoutSeconds``
ends the response cleanly. The subscription is taken in the same synchronous step as the
snapshot, so no event can fall between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.localcluster import errors
from gateway.localcluster.kinds import Kind
from gateway.localcluster.resources import Resources
from gateway.localcluster.selectors import FieldSelector, LabelSelector
from gateway.localcluster.store import Event, TooOldResourceVersion

CLOSED = object()
"""Put this in every queue of :data:`WatchRequest` streams to end them (server shutdown)."""


@dataclass(frozen=True)
class WatchRequest:
    kind: Kind
    namespace: str | None
    resource_version: str | None
    labels: LabelSelector | None
    fields: FieldSelector | None
    timeout: float | None
    bookmarks: bool
    send_initial_events: bool
    render: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # e.g. into a Table


async def serve_watch(request: web.Request, resources: Resources, watch: WatchRequest, *,
                      bookmark_interval: float,
                      open_streams: set[asyncio.Queue[Any]]) -> web.StreamResponse:
    """Stream events for ``watch`` until the timeout, the client leaving, or shutdown.

    The stream's queue sits in ``open_streams`` while it runs, so shutdown can end it with
    :data:`CLOSED` instead of waiting for the client to go away.
    """
    queue: asyncio.Queue[Any] = asyncio.Queue()
    initial, start_version = _initial_events(resources, watch)
    unsubscribe = resources.store.subscribe(
        lambda event: queue.put_nowait(event) if event.key == watch.kind.key else None)
    open_streams.add(queue)
    response = web.StreamResponse(headers={"Content-Type": "application/json",
                                           "Cache-Control": "no-cache, private"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    deadline = None if watch.timeout is None else loop.time() + watch.timeout
    try:
        for line in initial:
            await response.write(line)
        if watch.send_initial_events and watch.bookmarks:
            await response.write(_bookmark(watch.kind, str(start_version), initial_end=True))
        next_bookmark = loop.time() + bookmark_interval
        while True:
            wait_until = next_bookmark if watch.bookmarks else None
            if deadline is not None:
                wait_until = deadline if wait_until is None else min(wait_until, deadline)
            try:
                # asyncio.timeout, not wait_for, which on Python 3.11 can swallow the
                # handler's cancellation when an event arrives at the same moment.
                async with asyncio.timeout_at(wait_until):
                    item = await queue.get()
            except TimeoutError:
                if deadline is not None and loop.time() >= deadline:
                    break
                await response.write(_bookmark(watch.kind,
                                               str(resources.store.resource_version)))
                next_bookmark = loop.time() + bookmark_interval
                continue
            if item is CLOSED:
                break
            event_line = _event_line(resources, watch, item)
            if event_line is not None:
                await response.write(event_line)
    except ConnectionResetError:
        return response  # the client went away
    finally:
        unsubscribe()
        open_streams.discard(queue)
    with contextlib.suppress(ConnectionResetError):
        await response.write_eof()
    return response


def _initial_events(resources: Resources, watch: WatchRequest) -> tuple[list[bytes], int]:
    store = resources.store
    version = watch.resource_version
    if not version or version == "0" or watch.send_initial_events:
        listed = resources.list_objects(watch.kind, watch.namespace, labels=watch.labels,
                                fields=watch.fields)
        return ([_line("ADDED", obj, watch.render) for obj in listed.items],
                store.resource_version)
    try:
        since = int(version)
    except ValueError as error:
        raise errors.bad_request(f'invalid resource version "{version}"') from error
    try:
        events = store.events_since(since, watch.kind.key)
    except TooOldResourceVersion as error:
        status = errors.gone(str(error)).to_status()
        return [json.dumps({"type": "ERROR", "object": status}).encode() + b"\n"], since
    lines = [line for event in events
             if (line := _event_line(resources, watch, event)) is not None]
    return lines, since


def _event_line(resources: Resources, watch: WatchRequest, event: Event) -> bytes | None:
    namespace = event.object["metadata"].get("namespace", "")
    if watch.namespace is not None and namespace != watch.namespace:
        return None
    obj = resources.present(watch.kind, event.object)
    now_matches = resources.matches(obj, watch.labels, watch.fields)
    was_matching = event.previous is not None and resources.matches(
        event.previous, watch.labels, watch.fields)
    if event.type == "DELETED":
        return _line("DELETED", obj, watch.render) if was_matching else None
    if event.type == "ADDED":
        return _line("ADDED", obj, watch.render) if now_matches else None
    if now_matches:
        return _line("MODIFIED" if was_matching else "ADDED", obj, watch.render)
    return _line("DELETED", obj, watch.render) if was_matching else None


def _line(event_type: str, obj: dict[str, Any],
          render: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> bytes:
    if render is not None:
        obj = render(obj)
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _bookmark(kind: Kind, resource_version: str, *, initial_end: bool = False) -> bytes:
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if initial_end:
        metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
    return _line("BOOKMARK", {"kind": kind.kind, "apiVersion": kind.api_version,
                              "metadata": metadata})
