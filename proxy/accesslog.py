"""One access line per request, its fields passed as structured data.

The line names the request id, caller address, deployment, client (once verified), method,
path without the query string (queries can carry secrets), status and timings. It never
contains a header value, so no token can reach the log. Both log formats carry the same
fields (:mod:`proxy.logformats` writes them as JSON keys or as ``key=value`` pairs); nothing
is built for a line that is switched off.
"""

from __future__ import annotations

import logging
import time

access_log = logging.getLogger("proxy.access")


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
