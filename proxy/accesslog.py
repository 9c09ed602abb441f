"""Structured logging: one JSON object per line, and one access line per request.

The access line names the request id, caller address, deployment, client (once verified),
method, path without the query string (queries can carry secrets), status and timings. It
never contains a header value, so no token can reach the log.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

access_log = logging.getLogger("proxy.access")


class JsonFormatter(logging.Formatter):
    """``{"time": ..., "level": ..., "logger": ..., "message": ..., <fields>}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": round(record.created, 3), "level": record.levelname,
            "logger": record.name, "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, separators=(",", ":"), default=str)


def configure_logging(*, access_log_enabled: bool) -> None:
    """JSON lines on stderr for the whole process; the access log can be switched off."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    access_log.disabled = not access_log_enabled


def log_access(*, request_id: str, address: str, method: str, path: str, deployment: str,
               client: str, status: int, started: float, upstream_seconds: float | None) -> None:
    if not access_log.isEnabledFor(logging.INFO) or access_log.disabled:
        return
    access_log.info("request", extra={"fields": {
        "request_id": request_id, "address": address, "method": method, "path": path,
        "deployment": deployment, "client": client, "status": status,
        "seconds": round(time.perf_counter() - started, 6),
        "upstream_seconds": None if upstream_seconds is None else round(upstream_seconds, 6),
    }})
