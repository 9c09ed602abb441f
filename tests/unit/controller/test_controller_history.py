"""Spec history: newest first, at most 32, only on real changes, never a token hash."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from gateway.controller.history import updated

NOW = datetime(2024, 5, 1, 12, 0, 0, 250_000, tzinfo=UTC)


def spec(image: str = "repo/m:1", **extra: Any) -> dict[str, Any]:
    return {"displayName": "M", "userId": "u1", "userName": "alice", "groupId": "g",
            "groupName": "g", "stop": False,
            "predictors": [{"name": "predictor1", "replicas": 1, "modelImage": image,
                            "instanceType": "cpu-1"}],
            "endpoint": {"accessType": "private", "clients": [{"name": "app"}]}, **extra}


def test_first_observation_records_the_spec_at_its_update_time() -> None:
    """An empty history gets one entry, timed by spec.updateTime."""
    history = updated(None, spec(updateTime="2024-04-30T10:00:00.000Z"), now=NOW)
    assert len(history) == 1
    assert history[0]["time"] == "2024-04-30T10:00:00.000Z"
    assert history[0]["spec"]["predictors"][0]["modelImage"] == "repo/m:1"


def test_without_update_time_the_controllers_clock_is_used() -> None:
    """No updateTime: the entry is timed when the controller noticed."""
    assert updated([], spec(), now=NOW)[0]["time"] == "2024-05-01T12:00:00.250Z"


def test_a_change_that_kept_the_old_update_time_is_timed_by_the_clock() -> None:
    """A kubectl edit keeps updateTime; the new entry gets the controller's time instead."""
    stamp = "2024-04-30T10:00:00.000Z"
    history = updated([], spec(updateTime=stamp), now=NOW)
    history = updated(history, spec("repo/m:2", updateTime=stamp), now=NOW)
    assert [entry["time"] for entry in history] == ["2024-05-01T12:00:00.250Z", stamp]


def test_unchanged_spec_adds_nothing() -> None:
    """Observing the same spec again (a restart, a resync) leaves the history as it is."""
    first = updated([], spec(), now=NOW)
    assert updated(copy.deepcopy(first), spec(), now=NOW) == first


def test_who_when_and_note_alone_are_not_a_change() -> None:
    """A write that changes only user, time or update message makes no entry."""
    first = updated([], spec(), now=NOW)
    again = spec(userId="u2", userName="bob", updateTime="2024-05-02T00:00:00.000Z",
                 updateMessage="redeploy")
    assert updated(first, again, now=NOW) == first


def test_real_changes_go_first() -> None:
    """A new image (or a stop) is a new entry at the front."""
    history = updated([], spec(), now=NOW)
    history = updated(history, spec("repo/m:2"), now=NOW)
    history = updated(history, spec("repo/m:2", stop=True), now=NOW)
    assert [(h["spec"]["predictors"][0]["modelImage"], h["spec"]["stop"]) for h in history] == [
        ("repo/m:2", True), ("repo/m:2", False), ("repo/m:1", False)]


def test_at_most_32_entries_are_kept() -> None:
    """The oldest entries fall off past 32."""
    history: list[dict[str, Any]] = []
    for version in range(40):
        history = updated(history, spec(f"repo/m:{version}"), now=NOW)
    assert len(history) == 32
    assert history[0]["spec"]["predictors"][0]["modelImage"] == "repo/m:39"
    assert history[-1]["spec"]["predictors"][0]["modelImage"] == "repo/m:8"


def test_token_hashes_never_enter_history_and_old_ones_are_scrubbed() -> None:
    """PrimeHub's clients[].token is dropped from the new entry and from stored ones."""
    legacy = spec()
    legacy["endpoint"]["clients"] = [{"name": "app", "token": "$apr1$salt$hash"}]
    stored = [{"time": "2023-01-01T00:00:00.000Z", "spec": copy.deepcopy(legacy)}]
    history = updated(stored, spec("repo/m:2", endpoint={
        "accessType": "private", "clients": [{"name": "app", "token": "$apr1$x$y"}]}), now=NOW)
    assert "$apr1$" not in json.dumps(history)
    assert [h["spec"]["endpoint"]["clients"] for h in history] == [[{"name": "app"}]] * 2


def test_unreadable_stored_entries_are_dropped() -> None:
    """An entry without a parsable spec is not copied forward."""
    stored = [{"time": "t", "spec": {"predictors": "nonsense"}}, "junk", {"time": "t"}]
    history = updated(stored, spec(), now=NOW)
    assert len(history) == 1
