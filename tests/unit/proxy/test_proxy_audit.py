"""The audit record format: what it holds, how it round-trips, what it never holds."""

from __future__ import annotations

import io
import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio import Redis

from gateway.api.tokens import new_api_token, new_client_token, new_session_token
from proxy.audit import (
    REDACTED,
    AuditRecord,
    AuditSettings,
    AuditTrail,
    decode,
    encode,
    log_fields,
    redacted,
)
from proxy.environment import SettingsError, SettingsReader
from proxy.hashing import make_context
from proxy.logformats import JsonFormatter
from proxy.records import RecordError

texts = st.text(max_size=40)
records = st.builds(AuditRecord, id=texts, time=st.floats(0, 4e9), component=texts,
                    actor=texts, token_id=st.none() | texts, action=texts, target=texts,
                    outcome=texts, request_id=texts, address=texts,
                    group=st.none() | texts, reason=st.none() | texts)


@given(records)
def test_a_record_round_trips(record: AuditRecord) -> None:
    """What is written to the window decodes to the same record."""
    assert decode(encode(record)) == record


@pytest.mark.parametrize("raw", [
    "", "[]", '{"v": 2}', '{"v": 1, "id": "x"}', '{"v": 1, "extra": 1}',
    '{"v":1,"id":1,"time":1,"component":"a","actor":"a","token_id":null,"action":"a",'
    '"target":"a","outcome":"a","request_id":"a","address":"a"}',
    '{"v":1,"id":"1","time":true,"component":"a","actor":"a","token_id":null,"action":"a",'
    '"target":"a","outcome":"a","request_id":"a","address":"a"}'])
def test_a_malformed_entry_is_refused(raw: str) -> None:
    """Entries of another version, shape or type are RecordErrors, never guessed at."""
    with pytest.raises(RecordError):
        decode(raw)


def test_the_log_line_names_its_record_and_time_without_clashing() -> None:
    """The log fields carry the id as audit_id and the time as ISO ``at`` (the line's own
    ``time`` key stays the line's)."""
    record = AuditRecord(id="abc", time=0.5, component="api", actor="a", token_id=None,
                         action="x", target="y", outcome="success", request_id="r",
                         address="127.0.0.1")
    fields = log_fields(record)
    assert fields["audit_id"] == "abc"
    assert fields["at"] == "1970-01-01T00:00:00.500+00:00"
    assert "time" not in fields
    assert "id" not in fields


def test_token_and_hash_shapes_are_redacted_from_free_text() -> None:
    """Every kind of product token and passlib hash in a reason becomes [redacted]."""
    context = make_context()
    secrets = [new_client_token(), new_api_token()[1], new_session_token()[1],
               context.hash("x"), "$apr1$abcdefgh$0123456789abcdefghijkl"]
    for secret in secrets:
        assert redacted(f"because {secret} sorry") == f"because {REDACTED} sorry"
    assert redacted("an ordinary reason") == "an ordinary reason"
    assert redacted(None) is None
    assert len(redacted("x" * 1000) or "") == 256


def test_the_window_and_cap_are_settings_with_bounds() -> None:
    """AUDIT_WINDOW (seconds) and AUDIT_STREAM_CAP default to 7 days and 100000; bad values
    are reported."""
    assert AuditSettings.read(SettingsReader({})) == AuditSettings(604800.0, 100_000)
    read = SettingsReader({"MODEL_GATEWAY_AUDIT_WINDOW": "3600",
                           "MODEL_GATEWAY_AUDIT_STREAM_CAP": "500"})
    assert AuditSettings.read(read) == AuditSettings(3600.0, 500)
    read = SettingsReader({"MODEL_GATEWAY_AUDIT_WINDOW": "1",
                           "MODEL_GATEWAY_AUDIT_STREAM_CAP": "many"})
    AuditSettings.read(read)
    with pytest.raises(SettingsError) as raised:
        read.finish()
    assert len(raised.value.problems) == 2


def test_the_log_line_is_written_whatever_the_log_level() -> None:
    """With the process logging only errors, a record's line still reaches the handler, as
    one JSON object in the JSON format."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    saved = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(logging.ERROR)
    try:
        trail = AuditTrail(Redis.from_url("redis://127.0.0.1:1/0"), component="api",
                           settings=AuditSettings())
        record = trail.record(actor="alice", token_id="0123456789ab", action="stopPhDeployment",
                              target="deployment/iris", outcome="success", request_id="r1",
                              address="127.0.0.1", group="team-a")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    line = json.loads(stream.getvalue())
    assert line | {"time": 0} == {
        "time": 0, "level": "INFO", "logger": "model_gateway.audit", "message": "audit",
        "audit_id": record.id, "at": record.at, "component": "api", "actor": "alice",
        "token_id": "0123456789ab", "action": "stopPhDeployment", "target": "deployment/iris",
        "outcome": "success", "request_id": "r1", "address": "127.0.0.1", "group": "team-a",
        "reason": None}

