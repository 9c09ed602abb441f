"""The proxy's own error answers: small JSON bodies naming the reason, never internals.

Every answer the proxy makes itself (as opposed to relaying the model's) goes through
:func:`problem`, so callers can tell ``{"error": "upstream_timeout", ...}`` from a model's
own 504, and nothing about hosts, ports or exceptions reaches them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from aiohttp import web

REALM: Final = 'Basic realm="model-gateway", charset="UTF-8"'


def problem(status: int, error: str, message: str, *,
            headers: Mapping[str, str] | None = None) -> web.Response:
    body = json.dumps({"error": error, "message": message}, separators=(",", ":"))
    return web.Response(status=status, text=body, content_type="application/json",
                        headers=headers)


def unauthorized(message: str) -> web.Response:
    return problem(401, "unauthorized", message, headers={"WWW-Authenticate": REALM})


def retry_later(status: int, error: str, message: str, retry_after: int) -> web.Response:
    return problem(status, error, message, headers={"Retry-After": str(retry_after)})
