"""Batched access lines are the very text the configured formatter writes, in both formats."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from proxy.accesslog import _Batch, flush_access_log, log_access
from proxy.logformats import JsonFormatter, TextFormatter

FIELDS = {"request_id": "r-1", "address": "10.0.0.7", "method": "POST",
          "path": "/deployment/iris/api/v1.0/predictions", "deployment": "iris",
          "client": "my app", "status": 200}


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, its handlers put back afterwards."""
    logger = logging.getLogger()
    saved, level = logger.handlers[:], logger.level
    yield logger
    flush_access_log()
    logger.handlers[:] = saved
    logger.setLevel(level)


def _configured(root: logging.Logger, formatter: logging.Formatter) -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    return stream


def _expected(formatter: logging.Formatter, line: str) -> str:
    """What the formatter writes for the same fields and timings as ``line``."""
    seconds = re.search(r'"?seconds"?[=:](\d+\.?\d*(?:e-\d+)?)', line)
    assert seconds is not None
    record = logging.makeLogRecord({
        "name": "proxy.access", "levelno": logging.INFO, "levelname": "INFO", "msg": "request",
        "fields": FIELDS | {"seconds": float(seconds.group(1)), "upstream_seconds": 0.25}})
    return formatter.format(record)


def test_json_lines_match_the_json_formatter(root: logging.Logger) -> None:
    """A batched JSON access line equals the formatter's line, apart from its time."""
    stream = _configured(root, JsonFormatter())
    log_access(**FIELDS, started=0.0, upstream_seconds=0.25)  # type: ignore[arg-type]
    line = stream.getvalue()
    assert line.endswith("\n")
    assert line.count("\n") == 1
    written = json.loads(line)
    expected = json.loads(_expected(JsonFormatter(), line))
    assert written.pop("time") > 0
    expected.pop("time")
    assert list(written.items()) == list(expected.items())


def test_text_lines_match_the_text_formatter(root: logging.Logger) -> None:
    """A batched text access line equals the formatter's line after the timestamp."""
    stream = _configured(root, TextFormatter())
    log_access(**FIELDS, started=0.0, upstream_seconds=0.25)  # type: ignore[arg-type]
    line = stream.getvalue().removesuffix("\n")
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} "
    assert re.match(stamp, line)
    assert re.sub(stamp, "", line) == re.sub(stamp, "", _expected(TextFormatter(), line))


@pytest.mark.parametrize("created", [1_700_000_000.0, 1_700_000_000.9995, 1_700_000_059.0421])
def test_timestamps_match_format_time(created: float) -> None:
    """The cached per-second timestamp equals logging's formatTime for the same instant."""
    batch = _Batch(logging.StreamHandler(io.StringIO()))
    record = logging.makeLogRecord({"created": created, "msecs": int((created % 1) * 1000)})
    assert batch._asctime(created) == TextFormatter().formatTime(record)


def test_other_setups_get_log_records(root: logging.Logger,
                                      caplog: pytest.LogCaptureFixture) -> None:
    """With a capture handler beside the configured one, lines are ordinary records."""
    _configured(root, TextFormatter())
    root.addHandler(caplog.handler)
    log_access(**FIELDS, started=0.0, upstream_seconds=None)  # type: ignore[arg-type]
    [record] = [r for r in caplog.records if r.name == "proxy.access"]
    assert record.fields["client"] == "my app"  # type: ignore[attr-defined]
