"""Console sign-in: a credential exchanged for a session cookie, and signing out.

Endpoints (JSON unless said otherwise; the CSRF header rule of :mod:`gateway.api.csrf`
applies to every non-GET here):

- ``GET /auth/session``: who the browser is signed in as (``signedIn: true``, ``username``,
  ``admin``, ``groups``, ``method``: ``session``, ``sso`` or ``bearer``), or
  ``{"signedIn": false}`` (a 200: asking is not an error, and browsers log every 4xx).
- ``POST /auth/session`` ``{"token": "<API token>"}``: checks the token exactly as a Bearer
  token is checked, then starts a session. The token itself goes no further: the browser
  gets only the session cookie (``mg_session``: HttpOnly, ``SameSite=Strict``, ``Secure``
  when the API is reached over https), so no script can read any credential. A refused
  token is audited like a refused Bearer token (:mod:`gateway.api.tokenrefusals`).
- ``DELETE /auth/session``: ends the session (deletes it everywhere) and clears the cookie;
  a session that is no longer valid is deleted by the next sign-in's sweep.
- ``GET /auth/link?code=<code>``: dev mode's one-time link (``consoleUrl`` in ``dev.json``).
  The code stands for the dev admin token; the first use starts a session and redirects to
  ``/`` (the code is gone from the address bar), any later use is refused with a page that
  says so.

A session is a Secret like an API token's (see :mod:`gateway.kube.apitokens`), so every API
replica accepts it, and it ends at the earliest of its TTL, the expiry of the token it was
exchanged for, sign-out, or that token's revocation. Each sign-in also deletes sessions that
have ended, so they do not pile up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from aiohttp import web
from passlib.context import CryptContext

from gateway.api.auth import SESSION_COOKIE, Authenticator, Principal, Refused
from gateway.api.console import CSP, SECURITY_HEADERS
from gateway.api.readback import caught_up
from gateway.api.settings import ApiSettings
from gateway.api.store import Store
from gateway.api.tokenrefusals import ApiTokenRefusals
from gateway.api.tokens import new_session_token
from gateway.kube import apitokens
from gateway.kube.apitokens import ApiToken
from gateway.kube.client import Kube
from gateway.kube.errors import KubeError, NotFound

log = logging.getLogger(__name__)

MAX_TOKEN: Final = 512
LINK_CODE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_SWEEP: Final = 50  # ended sessions deleted per sign-in, at most
_SPENT_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in link already used</title></head>
<body><main><h1>This sign-in link has already been used</h1>
<p>A sign-in link works once. Restart <code>model-gateway dev</code> for a new one (it is
printed, and written to <code>dev.json</code> as <code>consoleUrl</code>), or
<a href="/">open the console</a> and sign in with an API token.</p></main></body></html>
"""


def _now() -> datetime:
    return datetime.now(UTC)


def _json(body: object, *, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json",
                        headers={"Cache-Control": "no-store"})


def _problem(status: int, message: str) -> web.Response:
    return _json({"error": message}, status=status)


class SignIn:
    """The ``/auth/*`` handlers."""

    def __init__(self, *, kube: Kube, store: Store, auth: Authenticator, settings: ApiSettings,
                 hashing: CryptContext, refusals: ApiTokenRefusals,
                 clock: Callable[[], datetime] = _now) -> None:
        self._kube = kube
        self._refusals = refusals
        self._store = store
        self._auth = auth
        self._settings = settings
        self._hashing = hashing
        self._clock = clock
        self._link = settings.signin_link

    # -- handlers ----------------------------------------------------------------------------

    async def current(self, request: web.Request) -> web.Response:
        principal = await self._auth.authenticate(request.headers)
        if principal is None:
            return _json({"signedIn": False})
        return _json(self.describe(principal))

    async def sign_in(self, request: web.Request) -> web.Response:
        token = await _token_of(request)
        found = await self._auth.identify({"Authorization": f"Bearer {token}"})
        if not isinstance(found, Principal):
            self._refusals.refused(request, token, expired=isinstance(found, Refused))
            return _problem(401, "That token is not valid: it is wrong, expired or revoked.")
        principal = found
        response = _json(self.describe(dataclasses.replace(principal, via="session")))
        await self._start(request, response, principal)
        return response

    async def sign_out(self, request: web.Request) -> web.Response:
        principal = await self._auth.authenticate(request.headers)
        response = web.Response(status=204, headers={"Cache-Control": "no-store"})
        if principal is not None and principal.via == "session" and principal.credential:
            await self._end(principal.credential)
        response.del_cookie(SESSION_COOKIE, path="/")
        return response

    async def link(self, request: web.Request) -> web.StreamResponse:
        code = request.query.get("code", "")
        link = self._link  # checked and spent with no await between: one request wins
        if link is None or not LINK_CODE.fullmatch(code) or \
                not hmac.compare_digest(code.encode(), link.code.encode()):
            return web.Response(status=400, text=_SPENT_PAGE, content_type="text/html",
                                headers={"Cache-Control": "no-store",
                                         "Content-Security-Policy": CSP, **SECURITY_HEADERS})
        self._link = None  # spent, whatever happens next
        principal = await self._auth.authenticate({"Authorization": f"Bearer {link.token}"})
        if principal is None:
            return _problem(401, "The dev admin token behind this link is no longer valid.")
        response = web.Response(status=303, headers={"Location": "/",
                                                     "Cache-Control": "no-store"})
        await self._start(request, response, principal)
        return response

    # -- sessions ----------------------------------------------------------------------------

    def describe(self, principal: Principal) -> dict[str, object]:
        """The answer of ``GET /auth/session`` for a signed-in ``principal``."""
        groups = principal.groups if principal.groups is not None else \
            self._store.groups_of(principal.username)
        return {"signedIn": True, "username": principal.username, "admin": principal.admin,
                "groups": sorted(groups), "method": principal.via}

    async def _start(self, request: web.Request, response: web.StreamResponse,
                     principal: Principal) -> None:
        """Store a new session for ``principal`` and set its cookie on ``response``."""
        await self._sweep()
        now = self._clock()
        expires = now + timedelta(seconds=self._settings.session_ttl)
        source = self._store.tokens.get(apitokens.secret_name(principal.credential or ""))
        if source is not None and source.expires is not None:
            expires = min(expires, source.expires)
        session_id, token = new_session_token()
        view = ApiToken(id=session_id, username=principal.username, admin=principal.admin,
                        created=now, expires=expires, description="console session",
                        hash=await asyncio.to_thread(self._hashing.hash, token),
                        session_of=principal.credential, scopes=principal.granted)
        try:
            created = await apitokens.create(self._kube, namespace=self._store.namespace,
                                             token=view)
        except KubeError as error:
            log.warning("cannot store a console session: %s", error)
            raise web.HTTPServiceUnavailable(
                text='{"error": "The cluster cannot be reached: try again shortly."}',
                content_type="application/json") from error
        await caught_up(self._store.tokens, apitokens.secret_name(session_id),
                        created.resource_version)
        secure = self._settings.api_public_url.startswith("https://") or request.secure
        response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True, samesite="Strict",
                            secure=secure,
                            max_age=max(1, int((expires - now).total_seconds())))
        log.info("console session started for %s (%s)", principal.username, principal.via)

    async def _end(self, session_id: str) -> None:
        try:
            await apitokens.delete(self._kube, namespace=self._store.namespace,
                                   token_id=session_id)
        except NotFound:
            return
        except KubeError as error:
            raise web.HTTPServiceUnavailable(
                text='{"error": "The cluster cannot be reached: try again shortly."}',
                content_type="application/json") from error
        await caught_up(self._store.tokens, apitokens.secret_name(session_id), None)

    async def _sweep(self) -> None:
        """Delete sessions that have ended (expired, or their credential is gone)."""
        now = self._clock()
        ended = [stored.id for stored in self._store.tokens.values()
                 if stored.session and (stored.expired(now)
                                        or not self._auth.credential_valid(stored.session_of))]
        for session_id in ended[:MAX_SWEEP]:
            try:
                await apitokens.delete(self._kube, namespace=self._store.namespace,
                                       token_id=session_id)
            except KubeError:
                continue  # another replica deleted it, or the cluster is away: next time


async def _token_of(request: web.Request) -> str:
    """The ``token`` of a sign-in body; a clear 400 for anything else."""
    if request.content_type != "application/json":
        raise web.HTTPBadRequest(text='{"error": "Send JSON: {\\"token\\": \\"...\\"}"}',
                                 content_type="application/json")
    try:
        body = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError) as error:
        raise web.HTTPBadRequest(text='{"error": "The body is not valid JSON."}',
                                 content_type="application/json") from error
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
        raise web.HTTPBadRequest(text='{"error": "token: paste an API token."}',
                                 content_type="application/json")
    return token.strip()
