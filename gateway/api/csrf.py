"""Cross-site request forgery: what keeps another site from acting with a browser's credentials.

Two defences, both needed only for *ambient* credentials, the ones a browser attaches by
itself (the console's session cookie, and the single sign-on proxy's cookie that becomes
trusted headers). A request carrying ``Authorization`` proves itself and needs neither.

1. The session cookie is ``SameSite=Strict``: a browser does not send it with any request
   another site starts, not even a top-level navigation.
2. A custom header: every request that is not a read (anything but GET, HEAD, OPTIONS) and
   carries ambient credentials, and every request to ``/auth/*`` that is not a read (sign-in
   included, so no site can sign a browser in as someone else), must send
   ``X-Model-Gateway-CSRF: 1``. A page on another origin cannot add a custom header without
   a CORS preflight, which this API never approves, and an HTML form cannot add one at all.

WebSocket handshakes are GETs: strawberry's view refuses a handshake whose ``Origin`` is not
the API's own (cross-site WebSocket hijacking), which covers subscriptions.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from gateway.api.auth import SESSION_COOKIE, cookie

CSRF_HEADER: Final = "X-Model-Gateway-CSRF"
_SAFE: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_REFUSAL: Final = ('{"error": "This request needs the header X-Model-Gateway-CSRF: 1 (it '
                   'proves a page of this site sent it)."}')


def _ambient(request: web.Request, trusted_header: str) -> bool:
    """Credentials the browser may have attached by itself."""
    if "Authorization" in request.headers:
        return False
    return cookie(request.headers, SESSION_COOKIE) is not None or \
        trusted_header in request.headers


def guard(*, trusted_header: str) -> Middleware:
    """The middleware enforcing the custom header (``trusted_header``: the name of the single
    sign-on proxy's secret header, whose presence marks trusted-header credentials)."""

    @web.middleware
    async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method not in _SAFE and request.headers.get(CSRF_HEADER) != "1" and (
                request.path.startswith("/auth/") or _ambient(request, trusted_header)):
            raise web.HTTPForbidden(text=_REFUSAL, content_type="application/json")
        return await handler(request)

    return csrf
