"""One access line per request, its fields passed as structured data.

The line names the request id, caller address, deployment, client (once verified), method,
path without the query string (queries can carry secrets), status and timings, the predictor
that served it (once one was chosen), and for a
refusal whose reason the status alone does not tell, ``refused`` (``expired``). It never
contains a header value, so no token can reach the log. Both log formats carry the same
fields (:mod:`proxy.logformats` writes them as JSON keys or as ``key=value`` pairs); nothing
is built for a line that is switched off.

Why the lines are written in batches: profiled under load, the logging machinery (a record,
the formatter, a locked write and flush per line) cost more than routing and authenticating
a request. When the process logs the way :func:`proxy.logformats.configure` set it up (one
stream handler with one of the product's formatters), an access line is formatted here into
exactly the text that formatter would write, and the lines of one event-loop turn go out in
one write at the end of the turn. Any other setup (a test's capture handler, a filter, an
extra handler) gets ordinary log records.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from proxy.logformats import JsonFormatter, TextFormatter, text_value

access_log = logging.getLogger("proxy.access")
_root = logging.getLogger()
_MSEC_FORMAT = TextFormatter.default_msec_format or "%s,%03d"
_REMEMBERED_TEXTS = 4096


class _Batch:
    """Lines for one stream handler, formatted as its formatter would, flushed per loop turn."""

    def __init__(self, handler: logging.StreamHandler[Any]) -> None:
        self.handler = handler
        self.formatter = handler.formatter
        self._json = isinstance(handler.formatter, JsonFormatter)
        self.lines: list[str] = []
        self._second = -1
        self._second_text = ""
        self._texts: dict[str, str] = {}

    def matches(self) -> bool:
        """Whether the handler and formatter are still those this batch imitates."""
        handlers = _root.handlers
        return (len(handlers) == 1 and handlers[0] is self.handler
                and self.handler.formatter is self.formatter)

    def add(self, fields: dict[str, Any]) -> None:
        created = time.time()
        if self._json:
            line = json.dumps({"time": round(created, 3), "level": "INFO",
                               "logger": "proxy.access", "message": "request", **fields},
                              separators=(",", ":"), default=str)
        else:
            text = self._text
            pairs = " ".join([f"{key}={text(value)}" for key, value in fields.items()])
            line = f"{self._asctime(created)} INFO proxy.access: request {pairs}"
        if not self.lines:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write now
                self.lines.append(line)
                self.flush()
                return
        self.lines.append(line)

    def flush(self) -> None:
        lines, self.lines = self.lines, []
        if not lines:
            return
        terminator = self.handler.terminator
        text = terminator.join(lines) + terminator
        self.handler.acquire()
        try:
            stream = self.handler.stream
            stream.write(text)
            stream.flush()
        except Exception:  # as logging does: a broken log stream must not break a request
            self.handler.handleError(access_log.makeRecord(
                access_log.name, logging.INFO, __file__, 0, "request", (), None))
        finally:
            self.handler.release()

    def _text(self, value: Any) -> str:
        """``text_value``, remembered for strings: deployments, clients, paths repeat."""
        if value.__class__ is not str:
            return text_value(value)
        text = self._texts.get(value)
        if text is None:
            if len(self._texts) >= _REMEMBERED_TEXTS:
                self._texts.clear()
            text = self._texts[value] = text_value(value)
        return text

    def _asctime(self, created: float) -> str:
        """``logging.Formatter.formatTime`` for the default format, one strftime a second."""
        second = int(created)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime(TextFormatter.default_time_format,
                                              TextFormatter.converter(created))
        return _MSEC_FORMAT % (self._second_text, int((created - second) * 1000))


_batch: _Batch | None = None


def _current_batch() -> _Batch | None:
    """The batch for the configured handler, or ``None`` when lines must go through logging."""
    global _batch
    if _batch is not None and _batch.matches():
        return _batch
    if _batch is not None:
        _batch.flush()
        _batch = None
    handlers = _root.handlers
    if (len(handlers) != 1 or access_log.handlers or access_log.filters or _root.filters
            or not access_log.propagate):
        return None
    handler = handlers[0]
    if (type(handler) is not logging.StreamHandler or handler.filters
            or handler.level > logging.INFO
            or type(handler.formatter) not in (JsonFormatter, TextFormatter)):
        return None
    _batch = _Batch(handler)
    return _batch


def flush_access_log() -> None:
    """Write the lines still waiting for the end of this loop turn (at shutdown)."""
    if _batch is not None:
        _batch.flush()


def log_access(*, request_id: str, address: str, method: str, path: str, deployment: str,
               client: str, status: int, started: float, upstream_seconds: float | None,
               predictor: str = "", refused: str = "") -> None:
    if not access_log.isEnabledFor(logging.INFO) or access_log.disabled:
        return
    fields = {
        "request_id": request_id, "address": address, "method": method, "path": path,
        "deployment": deployment, "client": client, "status": status,
        "seconds": round(time.perf_counter() - started, 6),
        "upstream_seconds": None if upstream_seconds is None else round(upstream_seconds, 6),
    }
    if predictor:
        fields["predictor"] = predictor
    if refused:
        fields["refused"] = refused
    # The setup is checked once per loop turn, when a batch starts.
    batch = _batch if _batch is not None and _batch.lines else _current_batch()
    if batch is None:
        access_log.info("request", extra={"fields": fields})
    else:
        batch.add(fields)
