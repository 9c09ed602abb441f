"""The proxy's own error answers: small JSON bodies naming the reason, never internals.

Every answer the proxy makes itself (as opposed to relaying the model's) is a :class:`Problem`,
so callers can tell ``{"error": "upstream_timeout", ...}`` from a model's own 504, and nothing
about hosts, ports or exceptions reaches them. A problem is plain data (status, body, headers):
the aiohttp path turns it into a ``web.Response`` and the fast path (:mod:`proxy.fronting`)
writes the same bytes itself, so both give the same answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from aiohttp import web

REALM: Final = 'Basic realm="model-gateway", charset="UTF-8"'
CONTENT_TYPE: Final = "application/json; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Problem:
    """One answer of the proxy's own: status, JSON body and the headers beside it."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]

    def response(self) -> web.Response:
        return web.Response(status=self.status, body=self.body, headers=self.headers)


def problem(status: int, error: str, message: str, *,
            headers: tuple[tuple[str, str], ...] = ()) -> Problem:
    body = json.dumps({"error": error, "message": message}, separators=(",", ":"))
    return Problem(status, body.encode(), (("Content-Type", CONTENT_TYPE), *headers))


def unauthorized(message: str) -> Problem:
    return problem(401, "unauthorized", message, headers=(("WWW-Authenticate", REALM),))


def retry_later(status: int, error: str, message: str, retry_after: int) -> Problem:
    return problem(status, error, message, headers=(("Retry-After", str(retry_after)),))
