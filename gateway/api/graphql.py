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
  page, which loads its scripts from a CDN;
- :meth:`ApiView.run_console_query`: one of the console's own named queries (the built
  ``operations.graphql``), run in-process for a caller, so the console's first page can carry
  its first answers (:mod:`gateway.api.firstpage`) exactly as a POST would have returned them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import OperationDefinitionNode, OperationType, parse, print_ast
from graphql.utilities import separate_operations
from passlib.context import CryptContext
from strawberry.aiohttp.views import GraphQLView
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from gateway.api.auditwindow import AuditWindow
from gateway.api.auth import SESSION_COOKIE, Authenticator, Principal, Refused, bearer, cookie
from gateway.api.console import GRAPHIQL, Console
from gateway.api.dataplane import DataPlane
from gateway.api.requestids import REQUEST_ID, caller_address
from gateway.api.settings import ApiSettings
from gateway.api.store import Store
from gateway.api.tokenrefusals import ApiTokenRefusals
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

    def __init__(self, *, services: Services, auth: Authenticator, console: Console,
                 refusals: ApiTokenRefusals) -> None:
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
        self._queries = _console_queries(console.operations)
        self._refusals = refusals

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        found = await self._auth.identify(request.headers)
        token = bearer(request.headers)
        if token is not None and not isinstance(found, Principal):
            self._refusals.refused(request, token, expired=isinstance(found, Refused))
        if found is None and "Authorization" not in request.headers and \
                cookie(request.headers, SESSION_COOKIE) is not None:
            return web.Response(status=401, text=_ENDED, content_type="application/json")
        request[CALLER] = Caller(found) if not isinstance(found, Refused) else Caller(
            None, refused=found.reason)
        return await super().__call__(request)

    async def run_console_query(self, *, principal: Principal, name: str,
                                variables: dict[str, Any],
                                request_id: str) -> dict[str, Any] | None:
        """The ``data`` of the console's query ``name`` for ``principal``, or None when the
        build has no such query or the answer has errors (the page then asks for itself, and
        shows the error as it would have anyway)."""
        document = self._queries.get(name)
        if document is None:
            return None
        result = await self.schema.execute(
            document, variable_values=variables, operation_name=name,
            context_value=Context(services=self._services, principal=principal,
                                  request_id=request_id))
        return None if result.errors or result.data is None else dict(result.data)

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        return self._console.page(request, GRAPHIQL)

    async def get_context(self, request: web.Request,
                          response: web.Response | web.WebSocketResponse) -> Context:
        caller = request[CALLER]
        return Context(services=self._services, principal=caller.principal,
                       request_id=str(request.get(REQUEST_ID, "-")),
                       refused=caller.refused,
                       address=caller_address(
                           request, trusted_hops=self._services.settings.trusted_hops))

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


def _console_queries(text: str | None) -> dict[str, str]:
    """The console's named queries (each with the fragments it spreads), by name."""
    if text is None:
        return {}
    queries = {}
    for name, document in separate_operations(parse(text)).items():
        operation = next(definition for definition in document.definitions
                         if isinstance(definition, OperationDefinitionNode))
        if operation.operation is OperationType.QUERY:
            queries[name] = print_ast(document)
    return queries


def graphql_view(*, settings: ApiSettings, store: Store, kube: Kube, auth: Authenticator,
                 hashing: CryptContext, console: Console, data_plane: DataPlane,
                 audit: AuditTrail, audit_window: AuditWindow, refusals: ApiTokenRefusals,
                 clock: Callable[[], datetime] = _now) -> ApiView:
    services = Services(store=store, kube=kube, settings=settings, hashing=hashing,
                        locks=KeyedLocks(), clock=clock, data_plane=data_plane, audit=audit,
                        audit_window=audit_window)
    return ApiView(services=services, auth=auth, console=console, refusals=refusals)
