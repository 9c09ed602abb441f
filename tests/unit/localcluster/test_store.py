"""The object store: resource versions, events, history limits."""

from __future__ import annotations

import pytest

from gateway.localcluster.store import Event, Store, TooOldResourceVersion


def _pod(name: str) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": "default"}}


def test_every_write_gets_the_next_resource_version() -> None:
    """put and remove each take the next global resource version."""
    store = Store(history=10)
    first = store.put("/pods", _pod("a"), external=True)
    second = store.put("/pods", _pod("b"), external=True)
    gone = store.remove("/pods", "default", "a", external=True)
    assert [first["metadata"]["resourceVersion"], second["metadata"]["resourceVersion"]] == [
        "1", "2"]
    assert gone is not None
    assert gone["metadata"]["resourceVersion"] == "3"


def test_listeners_see_added_modified_deleted_with_previous() -> None:
    """Events carry the object before the change, so watches can filter transitions."""
    store = Store(history=10)
    seen: list[Event] = []
    store.subscribe(seen.append)
    store.put("/pods", _pod("a"), external=False)
    store.put("/pods", {**_pod("a"), "spec": {"x": 1}}, external=True)
    store.remove("/pods", "default", "a", external=True)
    assert [e.type for e in seen] == ["ADDED", "MODIFIED", "DELETED"]
    assert seen[1].previous is not None
    assert "spec" not in seen[1].previous
    assert [e.external for e in seen] == [False, True, True]


def test_events_since_replays_only_the_asked_kind() -> None:
    """A watch from a version gets the later events of its own kind only."""
    store = Store(history=10)
    store.put("/pods", _pod("a"), external=True)
    store.put("/services", _pod("s"), external=True)
    store.put("/pods", _pod("b"), external=True)
    assert [e.object["metadata"]["name"] for e in store.events_since(1, "/pods")] == ["b"]


def test_a_version_older_than_the_history_is_too_old() -> None:
    """Once an event falls out of the history, watching from before it raises."""
    store = Store(history=2)
    for name in "abcd":
        store.put("/pods", _pod(name), external=True)
    assert [e.resource_version for e in store.events_since(2, "/pods")] == [3, 4]
    with pytest.raises(TooOldResourceVersion):
        store.events_since(1, "/pods")


def test_load_starts_history_at_the_loaded_version() -> None:
    """After a reload, only watches from the loaded version or later can be served."""
    store = Store(history=10)
    store.load({"/pods": [_pod("a")]}, 42)
    assert store.get("/pods", "default", "a") is not None
    assert store.events_since(42, "/pods") == []
    with pytest.raises(TooOldResourceVersion):
        store.events_since(41, "/pods")
