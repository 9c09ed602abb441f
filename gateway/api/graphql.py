"""Mounting the GraphQL schema on aiohttp: the one ``gateway`` module that imports ``schema``.

Strawberry's aiohttp view does the protocol (POST JSON, GET queries, GraphiQL, status codes);
this subclass adds what PrimeHub's clients need and what the product promises:

- ``POST application/x-www-form-urlencoded`` with fields ``query`` and ``variables`` (a JSON
  string): the SDK sends exactly this;
- a typed :class:`~schema.context.Context` per request (and per WebSocket connection): the
  authenticated caller, the process-wide services and the request id (set by the server's
  middleware);
- subscriptions over WebSocket with ``graphql-transport-ws`` only (the legacy ``graphql-ws``
  protocol is not offered);
- a request whose session cookie no longer works (signed out, expired, revoked) is answered
  401 before GraphQL runs, so the console knows to sign in again; without any credentials
  the answer stays PrimeHub's ``NOT_AUTH`` error, and with an API token that expired it is
  ``UNAUTHENTICATED`` saying so (the context carries the reason);
- GraphiQL from the console's own build (:mod:`gateway.api.console`), never strawberry's
  page, which loads its scripts from a CDN.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from aiohttp import web
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from passlib.context import CryptContext
from strawberry.aiohttp.views import GraphQLView
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from gateway.api.auditwindow import AuditWindow
from gateway.api.auth import SESSION_COOKIE, Authenticator, Principal, Refused, cookie
from gateway.api.console import GRAPHIQL, Console
from gateway.api.dataplane import DataPlane
from gateway.api.requestids import REQUEST_ID
from gateway.api.settings import ApiSettings
from gateway.api.store import Store
from gateway.kube.client import Kube
from proxy.audit import AuditTrail
from schema import build_schema
from schema.context import Context, Services
from schema.locking import KeyedLocks

_FORM = "application/x-www-form-urlencoded"
KEEP_ALIVE = 15.0  # seconds between pings on an idle subscription socket (proxies drop those)


@dataclass(frozen=True)
class Caller:
    """Who sent a request, authenticated once per request (or WebSocket connection)."""

    principal: Principal | None
    refused: str | None = None  # why a genuine credential was turned away (expired)


CALLER = web.RequestKey("caller", Caller)
_ENDED = '{"errors": [{"message": "Your session has ended: sign in again."}]}'


def _now() -> datetime:
    return datetime.now(UTC)


class ApiView(GraphQLView[Context, None]):
    """Strawberry's aiohttp view with form posts and our context."""

    def __init__(self, *, services: Services, auth: Authenticator, console: Console) -> None:
        settings = services.settings
        super().__init__(build_schema(max_depth=settings.max_depth,
                                      max_tokens=settings.max_tokens),
                         graphql_ide="graphiql" if settings.graphiql else None,
                         allow_queries_via_get=True,
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
                         keep_alive_interval=KEEP_ALIVE)
        self._services = services
        self._auth = auth
        self._console = console

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        found = await self._auth.identify(request.headers)
        if found is None and "Authorization" not in request.headers and \
                cookie(request.headers, SESSION_COOKIE) is not None:
            return web.Response(status=401, text=_ENDED, content_type="application/json")
        request[CALLER] = Caller(found) if not isinstance(found, Refused) else Caller(
            None, refused=found.reason)
        return await super().__call__(request)

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        return self._console.page(request, GRAPHIQL)

    async def get_context(self, request: web.Request,
                          response: web.Response | web.WebSocketResponse) -> Context:
        caller = request[CALLER]
        return Context(services=self._services, principal=caller.principal,
                       request_id=str(request.get(REQUEST_ID, "-")),
                       refused=caller.refused, address=request.remote or "")

    async def parse_http_body(
            self, request: AsyncHTTPRequestAdapter,
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if request.method != "POST" or content_type != _FORM:
            return await super().parse_http_body(request)
        try:
            form = dict(parse_qsl((await request.get_body()).decode(), keep_blank_values=True))
        except UnicodeDecodeError as error:
            raise HTTPException(400, "The form body is not UTF-8") from error
        data = self.parse_query_params(form)
        query, variables = data.get("query"), data.get("variables") or None
        if not isinstance(query, str):
            raise HTTPException(400, "The form has no `query` field")
        if not isinstance(variables, dict | None):
            raise HTTPException(400, "The form's `variables` must be a JSON object")
        operation = data.get("operationName") or None
        return GraphQLRequestData(query=query, variables=variables,
                                  operation_name=operation if isinstance(operation, str) else None,
                                  extensions=None)


def graphql_view(*, settings: ApiSettings, store: Store, kube: Kube, auth: Authenticator,
                 hashing: CryptContext, console: Console, data_plane: DataPlane,
                 audit: AuditTrail, audit_window: AuditWindow,
                 clock: Callable[[], datetime] = _now) -> ApiView:
    services = Services(store=store, kube=kube, settings=settings, hashing=hashing,
                        locks=KeyedLocks(), clock=clock, data_plane=data_plane, audit=audit,
                        audit_window=audit_window)
    return ApiView(services=services, auth=auth, console=console)
