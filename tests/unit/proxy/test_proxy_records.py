"""The shared Redis record shapes: round trips and strict decoding."""

from __future__ import annotations

import json

import pytest

from proxy.records import (
    PRIMARY,
    Access,
    CredentialKey,
    DeploymentChanged,
    HashUpgrade,
    RecordError,
    Resynced,
    Route,
    Upstream,
    decode_credential,
    decode_event,
    decode_hash_upgrade,
    decode_route,
    encode_credential,
    encode_event,
    encode_hash_upgrade,
    encode_route,
    hash_upgrade_field,
)

ROUTE = Route(deployment_id="iris-abc12", host="127.1.0.5", port=80, access=Access.PRIVATE,
              stopped=False, ready=True)


def test_route_round_trips() -> None:
    """A route decodes to what was encoded; the id is the hash field, not in the JSON."""
    raw = encode_route(ROUTE)
    assert "iris-abc12" not in raw
    assert decode_route("iris-abc12", raw) == ROUTE


@pytest.mark.parametrize("change", [
    {"v": 2}, {"port": "80"}, {"port": True}, {"port": 0}, {"host": ""},
    {"access": "secret"}, {"stopped": "no"}, {"ready": None},
])
def test_malformed_routes_are_rejected(change: dict[str, object]) -> None:
    """Unknown versions, wrong types and impossible values raise RecordError."""
    value = json.loads(encode_route(ROUTE)) | change
    with pytest.raises(RecordError):
        decode_route("iris-abc12", json.dumps(value))


SPLIT = Route(deployment_id="iris-abc12", host="127.1.0.5", port=80, access=Access.PUBLIC,
              stopped=False, ready=False, sticky=True, predictors=(
                  Upstream("predictor1", "127.1.0.5", 80, 90, ready=True),
                  Upstream("canary-2", "127.1.0.6", 8080, 10, ready=False, wakeable=True),
                  Upstream("old", "127.1.0.7", 80, 0, ready=True)))


def test_a_route_without_predictors_is_one_primary_predictor_with_all_the_traffic() -> None:
    """The first route shape (no predictors, no sticky) reads as predictor1 at host/port, 100%."""
    old_shape = '{"v":1,"host":"127.1.0.5","port":80,"access":"private","stopped":false,' \
                '"ready":true}'
    route = decode_route("iris-abc12", old_shape)
    assert route == ROUTE
    assert route.predictors == (Upstream(PRIMARY, "127.1.0.5", 80, 100, ready=True),)
    assert route.sticky is False


def test_a_split_route_round_trips_and_keeps_the_fields_old_readers_use() -> None:
    """Predictors, weights, readiness, wakeable and sticky survive; host/port stay the primary's."""
    raw = encode_route(SPLIT)
    assert decode_route("iris-abc12", raw) == SPLIT
    value = json.loads(raw)
    assert (value["host"], value["port"], value["ready"]) == ("127.1.0.5", 80, False)


def test_fields_a_reader_does_not_know_are_ignored() -> None:
    """The shape only grows: a newer publisher's extra fields do not break this reader."""
    value = json.loads(encode_route(SPLIT))
    value["later"] = {"anything": 1}
    value["predictors"][1]["later"] = [1]
    assert decode_route("iris-abc12", json.dumps(value)) == SPLIT


def _predictors(*changes: dict[str, object]) -> dict[str, object]:
    listed = json.loads(encode_route(SPLIT))["predictors"]
    return {"predictors": [item | change for item, change in zip(listed, changes, strict=False)]
            + listed[len(changes):]}


@pytest.mark.parametrize("change", [
    {"sticky": "yes"}, {"sticky": None}, {"predictors": []}, {"predictors": {}},
    {"predictors": ["predictor1"]},
    _predictors({"name": "Predictor1"}), _predictors({"name": "a" * 17}),
    _predictors({"name": "-a"}), _predictors({"name": "a-"}), _predictors({"name": "a\n"}),
    _predictors({"name": 1}), _predictors({}, {"name": "predictor1"}),
    _predictors({"weight": 91}), _predictors({"weight": 80}), _predictors({"weight": "90"}),
    _predictors({"weight": 90.0}), _predictors({"weight": True}),
    _predictors({"weight": 101}, {"weight": -1}),
    _predictors({"port": 0}), _predictors({"host": ""}), _predictors({"host": None}),
    _predictors({"ready": 1}), _predictors({"wakeable": "no"}),
    _predictors({"port": 81}), _predictors({"host": "127.1.0.9"}),
])
def test_malformed_predictors_are_rejected(change: dict[str, object]) -> None:
    """Bad names, duplicates, weights not summing to 100, bad types, a primary elsewhere fail."""
    value = json.loads(encode_route(SPLIT)) | change
    with pytest.raises(RecordError):
        decode_route("iris-abc12", json.dumps(value))


@pytest.mark.parametrize("predictors", [
    (Upstream("predictor1", "127.1.0.5", 80, 50, ready=True),),
    (Upstream("predictor1", "127.1.0.5", 80, 100, ready=True),
     Upstream("predictor1", "127.1.0.6", 80, 0, ready=True)),
    (Upstream("p_1", "127.1.0.5", 80, 100, ready=True),),
])
def test_a_route_that_breaks_the_rules_is_not_published(predictors: tuple[Upstream, ...]) -> None:
    """Encoding checks the same rules as decoding, so a publisher's bug fails where it is made."""
    route = Route(deployment_id="iris-abc12", host="127.1.0.5", port=80, access=Access.PUBLIC,
                  stopped=False, ready=True, predictors=predictors)
    with pytest.raises(RecordError):
        encode_route(route)


@pytest.mark.parametrize("raw", ["not json", "[1]", '{"v":1}', b"\xff"])
def test_garbage_is_not_a_route(raw: str | bytes) -> None:
    """Non-JSON, non-object and incomplete records raise RecordError."""
    with pytest.raises(RecordError):
        decode_route("x", raw)


@pytest.mark.parametrize("event", [DeploymentChanged("iris-abc12"), Resynced()])
def test_events_round_trip(event: DeploymentChanged | Resynced) -> None:
    """Both event kinds decode to what was encoded."""
    assert decode_event(encode_event(event)) == event


def test_unknown_event_kind_is_rejected() -> None:
    """An event of an unknown kind raises RecordError rather than being guessed at."""
    with pytest.raises(RecordError):
        decode_event('{"v":1,"kind":"reboot"}')


def test_hash_upgrade_round_trips() -> None:
    """A hash upgrade request keeps deployment, client, old and new hash."""
    upgrade = HashUpgrade("iris-abc12", "app:1", "$apr1$x$y", "$pbkdf2-sha256$z")
    assert decode_hash_upgrade(encode_hash_upgrade(upgrade)) == upgrade
    assert hash_upgrade_field("iris-abc12", "app:1").partition("/") == (
        "iris-abc12", "/", "app:1")


def test_credentials_round_trip_and_a_bare_hash_means_one_key_that_never_expires() -> None:
    """A never-expiring single hash is published bare (the old format); anything else as JSON."""
    bare = (CredentialKey("$pbkdf2-sha256$29000$x"),)
    assert encode_credential(bare) == "$pbkdf2-sha256$29000$x"
    assert decode_credential("$pbkdf2-sha256$29000$x") == bare
    keys = (CredentialKey("$pbkdf2$new", None), CredentialKey("$pbkdf2$old", 1700000000.5))
    assert decode_credential(encode_credential(keys)) == keys
    assert decode_credential(encode_credential(keys[1:]).encode()) == keys[1:]


@pytest.mark.parametrize("raw", [
    '{"v": 2, "keys": [{"hash": "h", "expires": null}]}',
    '{"v": 1, "keys": []}',
    '{"v": 1, "keys": ["h"]}',
    '{"v": 1, "keys": [{"hash": 5, "expires": null}]}',
    '{"v": 1, "keys": [{"hash": "h", "expires": "tomorrow"}]}',
    '{"v": 1, "keys": [{"hash": "h", "expires": true}]}',
    '{"v": 1',
])
def test_malformed_credentials_are_rejected(raw: str) -> None:
    """Unknown versions, empty or mistyped keys and broken JSON never decode to a credential."""
    with pytest.raises(RecordError):
        decode_credential(raw)
