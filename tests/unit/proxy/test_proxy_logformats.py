"""The two log formats carry the same fields; text lines stay one line; settings are checked."""

from __future__ import annotations

import json
import logging
import shlex

import pytest

from proxy.environment import SettingsError
from proxy.logformats import JsonFormatter, LogSettings, TextFormatter, text_value

FIELDS = {"request_id": "r-1", "address": "10.0.0.7", "method": "POST",
          "path": "/deployment/iris/api/v1.0/predictions", "deployment": "iris",
          "client": "my app", "status": 200, "seconds": 0.0123, "upstream_seconds": None}


def _record(fields: dict[str, object]) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "proxy.access", "levelno": logging.INFO,
                                  "levelname": "INFO", "msg": "request", "fields": fields})


def test_text_lines_carry_the_json_lines_fields() -> None:
    """Every field of the JSON line appears in the text line as key=value, same value."""
    record = _record(FIELDS)
    as_json = json.loads(JsonFormatter().format(record))
    text = TextFormatter().format(record)
    head, _, tail = text.partition(" proxy.access: request ")
    assert head.endswith("INFO")
    pairs = dict(pair.split("=", 1) for pair in shlex.split(tail))
    assert set(pairs) == set(as_json) - {"time", "level", "logger", "message"}
    for key, value in pairs.items():
        expected = as_json[key]
        assert value == ("" if expected is None else str(expected)), key


def test_text_values_never_break_the_line() -> None:
    """Spaces, quotes, equals signs and newlines in a value are quoted and escaped."""
    line = TextFormatter().format(_record({"message": 'bad "image"\nnext=line'}))
    assert "\n" not in line
    assert line.endswith(r'message="bad \"image\"\nnext=line"')
    assert text_value("plain") == "plain"
    assert text_value("") == '""'
    assert text_value(True) == "true"


def test_lines_without_fields_are_the_plain_message() -> None:
    """An ordinary log call formats as time, level, logger and message only."""
    record = logging.makeLogRecord({"name": "gateway.dev", "levelno": logging.WARNING,
                                    "levelname": "WARNING", "msg": "redis-server exited (%s)",
                                    "args": ("code -9",)})
    assert TextFormatter().format(record).endswith("WARNING gateway.dev: redis-server exited "
                                                   "(code -9)")


def test_log_settings_come_from_the_environment() -> None:
    """MODEL_GATEWAY_LOG_LEVEL and _LOG_FORMAT are read, and both bad values are reported."""
    assert LogSettings.from_env({}) == LogSettings(level="INFO", format="text")
    assert LogSettings.from_env({"MODEL_GATEWAY_LOG_LEVEL": "DEBUG",
                                 "MODEL_GATEWAY_LOG_FORMAT": "json"}) == LogSettings(
        level="DEBUG", format="json")
    with pytest.raises(SettingsError) as raised:
        LogSettings.from_env({"MODEL_GATEWAY_LOG_LEVEL": "loud",
                              "MODEL_GATEWAY_LOG_FORMAT": "xml"})
    assert len(raised.value.problems) == 2


def test_fields_never_replace_the_lines_own_keys() -> None:
    """A field named like a key of the JSON line (message, level) does not overwrite it."""
    line = json.loads(JsonFormatter().format(_record({"message": "spoof", "level": "ERROR"})))
    assert (line["message"], line["level"]) == ("request", "INFO")
