"""Request ids: every request gets one (the caller's ``X-Request-Id`` if sane), echoed back.

The GraphQL context carries it, so an unexpected error's log line and the masked error the
client sees name the same id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

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
