"""Request ids: every request gets one (the caller's ``X-Request-Id`` if sane), echoed back.

The GraphQL context carries it, so an unexpected error's log line and the masked error the
client sees name the same id. :func:`caller_address` is the other thing an audit record says
about where a request came from.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from proxy.headers import forwarding

REQUEST_ID: Final = web.RequestKey("request_id", str)
HEADER: Final = "X-Request-Id"
_SANE: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    offered = request.headers.get(HEADER, "")
    request[REQUEST_ID] = offered if _SANE.fullmatch(offered) else uuid.uuid4().hex
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers[HEADER] = request[REQUEST_ID]
        raise
    response.headers[HEADER] = request[REQUEST_ID]
    return response


def caller_address(request: web.Request, *, trusted_hops: int) -> str:
    """The caller's address: the TCP peer, or behind ``trusted_hops`` proxies of ours, the
    address the outermost one saw (as the proxy reads ``X-Forwarded-For``)."""
    return forwarding(peer=request.remote or "", scheme="", host="",
                      incoming_for=request.headers.get("X-Forwarded-For"), incoming_proto=None,
                      incoming_host=None, trusted_hops=trusted_hops).address
