"""The controller's memory of its own writes until the watch cache shows them."""

from __future__ import annotations

from typing import Any

from gateway.controller.recentwrites import RecentWrites
from gateway.kube.client import DEPLOYMENTS, SERVICES


def version(rv: str, **extra: Any) -> dict[str, Any]:
    return {"metadata": {"name": "x", "resourceVersion": rv}, **extra}


def test_our_write_wins_while_the_cache_still_shows_what_it_replaced() -> None:
    """Cache at the replaced version: our answer; cache moved on: the cache, memory gone."""
    recent = RecentWrites()
    recent.remember(DEPLOYMENTS, "x", before=version("1"), after=version("2", mine=True))
    assert recent.latest(DEPLOYMENTS, "x", version("1")) == version("2", mine=True)
    assert recent.latest(DEPLOYMENTS, "x", version("2")) == version("2")
    assert recent.latest(DEPLOYMENTS, "x", version("1")) == version("1")


def test_a_newer_write_by_someone_else_is_not_hidden() -> None:
    """A cache version we never saw replaces our memory at once."""
    recent = RecentWrites()
    recent.remember(DEPLOYMENTS, "x", before=version("1"), after=version("2"))
    assert recent.latest(DEPLOYMENTS, "x", version("7", theirs=True)) == version("7",
                                                                             theirs=True)


def test_writes_in_a_row_supersede_every_earlier_version() -> None:
    """Finalizer then status: a cache at either older version still yields the last write."""
    recent = RecentWrites()
    recent.remember(DEPLOYMENTS, "x", before=version("1"), after=version("2"))
    recent.remember(DEPLOYMENTS, "x", before=version("2"), after=version("3"))
    assert recent.latest(DEPLOYMENTS, "x", version("1")) == version("3")
    assert recent.latest(DEPLOYMENTS, "x", version("2")) == version("3")


def test_created_objects_count_until_the_cache_has_them_and_kinds_are_separate() -> None:
    """An apply that created the object stands in for a missing cache entry, per kind."""
    recent = RecentWrites()
    recent.remember(SERVICES, "x", before=None, after=version("5"))
    assert recent.latest(SERVICES, "x", None) == version("5")
    assert recent.latest(DEPLOYMENTS, "x", None) is None
    assert recent.latest(SERVICES, "x", version("5")) == version("5")
    assert recent.latest(SERVICES, "x", None) is None
