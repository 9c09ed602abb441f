"""Cross-origin access for a configured list of console origins (``API_CORS_ORIGINS``).

PrimeHub's console may be served from another origin than the API; the browser then asks
first (a preflight ``OPTIONS``) and reads an answer only if it names the console's origin.
Only origins in the list are ever named, one at a time, exactly as the browser sent them
(never ``*``), with ``Vary: Origin`` so caches keep answers per origin. Preflights allow
``GET`` and ``POST`` with the headers the console sends: ``Authorization``, ``Content-Type``
and ``x-primehub-use-cache``. No credentials mode: the console authenticates with a Bearer
token, not cookies. With an empty list (the default) nothing cross-origin is allowed: a
preflight is refused with 403 and no response carries a CORS header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import hdrs, web

ALLOWED_METHODS: Final = "GET, POST"
ALLOWED_HEADERS: Final = "Authorization, Content-Type, x-primehub-use-cache"
MAX_AGE: Final = "600"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def install(app: web.Application, origins: frozenset[str]) -> None:
    """Answer preflights (a middleware, before routing decides anything) and name an allowed
    origin on every response as its headers are sent (so streamed logs carry it too)."""

    @web.middleware
    async def preflight(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (request.method != hdrs.METH_OPTIONS
                or hdrs.ACCESS_CONTROL_REQUEST_METHOD not in request.headers):
            return await handler(request)
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None or origin not in origins:
            return web.Response(status=403, text="cross-origin requests from this origin are "
                                "not allowed\n")
        return web.Response(status=204, headers={
            hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin,
            hdrs.ACCESS_CONTROL_ALLOW_METHODS: ALLOWED_METHODS,
            hdrs.ACCESS_CONTROL_ALLOW_HEADERS: ALLOWED_HEADERS,
            hdrs.ACCESS_CONTROL_MAX_AGE: MAX_AGE, hdrs.VARY: hdrs.ORIGIN})

    async def name_origin(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is not None and origin in origins:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers.add(hdrs.VARY, hdrs.ORIGIN)

    app.middlewares.append(preflight)
    app.on_response_prepare.append(name_origin)
