"""The API process: one aiohttp application, its routes, and the lifetime of what it holds.

Routes: ``/graphql`` and ``/api/graphql`` (PrimeHub's SDK is configured with
``<host>/api/graphql``; GET also upgrades to the subscriptions' WebSocket and, from a browser,
shows GraphiQL when enabled), the log endpoint (all of them open to the configured console
origins, :mod:`gateway.api.cors`), the console's sign-in under ``/auth/``, ``/healthz`` (the
process serves), ``/readyz`` (every watch cache has loaded; until then GraphQL answers 503
rather than "not found" from an empty cache), ``/metrics``, and last the console itself at
``/`` and every path no other route took (a signed-in browser's console page carries its
first data: :mod:`gateway.api.firstpage`).

Lifetime: one ``cleanup_ctx`` block holds the data plane's Redis client (connected on first
use, so the API starts and serves reads without Redis; the API reads the data plane
and writes only the audit trail's window and API tokens' last use, whose writer tasks
live in the same block and write once more on the way out); the next creates the
Kubernetes client, the watch caches, the token verifier and the GraphQL view, and tears them
down in reverse order. The runner cancels
a handler when its client disconnects, which is what ends a followed log stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web
from redis.asyncio import Redis

from gateway.api import cors, tokenusage
from gateway.api.accesslog import AccessLogger, access_log
from gateway.api.auditwindow import AuditWindow
from gateway.api.auth import Authenticator
from gateway.api.console import Console
from gateway.api.csrf import guard
from gateway.api.dataplane import DataPlane
from gateway.api.firstpage import FirstPage
from gateway.api.graphql import ApiView, graphql_view
from gateway.api.logs import LogEndpoint
from gateway.api.metrics import Metrics
from gateway.api.requestids import request_ids
from gateway.api.settings import ApiSettings
from gateway.api.signin import SignIn
from gateway.api.store import Store
from gateway.api.tokenrefusals import ApiTokenRefusals
from gateway.api.verifying import VerifiedCache
from gateway.kube.client import Kube
from gateway.kube.connecting import connected
from proxy import slowclients
from proxy.audit import AuditTrail
from proxy.hashing import make_context
from proxy.usage import UsageRecorder

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", ApiSettings)
METRICS = web.AppKey("metrics", Metrics)
STORE = web.AppKey("store", Store)
VIEW = web.AppKey("view", ApiView)
LOGS = web.AppKey("logs", LogEndpoint)
SIGNIN = web.AppKey("signin", SignIn)
CONSOLE = web.AppKey("console", Console)
FIRST_PAGE = web.AppKey("first_page", FirstPage)
DATA_PLANE = web.AppKey("data_plane", DataPlane)
REDIS = web.AppKey("redis", Redis)
AUDIT = web.AppKey("audit", AuditTrail)
AUDIT_WINDOW = web.AppKey("audit_window", AuditWindow)
TOKEN_USAGE = web.AppKey("token_usage", UsageRecorder)
REDIS_TIMEOUT: Final = 2.0
GC_THRESHOLDS: Final = (50_000, 20, 100)


async def _redis(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    redis = Redis.from_url(settings.redis_url, password=settings.redis_password,
                           decode_responses=True, socket_timeout=REDIS_TIMEOUT,
                           socket_connect_timeout=REDIS_TIMEOUT)
    app[DATA_PLANE] = DataPlane(redis, wait=settings.data_plane_wait)
    app[REDIS] = redis
    app[AUDIT] = audit = AuditTrail(redis, component="api", settings=settings.audit)
    app[AUDIT_WINDOW] = AuditWindow(redis, settings=settings.audit, clock=time.time)
    app[TOKEN_USAGE] = usage = UsageRecorder(redis=redis, interval=settings.token_usage_interval,
                                             key=tokenusage.usage_key)
    writing = asyncio.create_task(audit.run(), name="api-audit-window")
    flushing = asyncio.create_task(usage.run(), name="api-token-usage-flush")
    try:
        yield
    finally:
        for task in (writing, flushing):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await audit.flush()
        await usage.flush()
        await redis.aclose()


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with connected(url=settings.kubernetes_url, kubeconfig=settings.kubeconfig) as api:
        kube = Kube(api)
        store = Store(kube, namespace=settings.namespace)
        hashing = make_context(settings.hash_scheme)
        auth = Authenticator(store=store, settings=settings, usage=app[TOKEN_USAGE],
                             verified=VerifiedCache(hashing, ttl=settings.token_cache_ttl))
        refusals = ApiTokenRefusals(store=store, redis=app[REDIS], audit=app[AUDIT],
                                    trusted_hops=settings.trusted_hops)
        app[STORE] = store
        app[VIEW] = graphql_view(settings=settings, store=store, kube=kube, auth=auth,
                                 hashing=hashing, console=app[CONSOLE],
                                 data_plane=app[DATA_PLANE], audit=app[AUDIT],
                                 audit_window=app[AUDIT_WINDOW],
                                 refusals=refusals)
        app[LOGS] = LogEndpoint(kube=kube, store=store, auth=auth)
        app[SIGNIN] = SignIn(kube=kube, store=store, auth=auth, settings=settings,
                             hashing=hashing, refusals=refusals)
        app[FIRST_PAGE] = FirstPage(console=app[CONSOLE], auth=auth,
                                    describe=app[SIGNIN].describe,
                                    run_query=app[VIEW].run_console_query)
        store.start()
        try:
            yield
        finally:
            await store.stop()


async def _graphql(request: web.Request) -> web.StreamResponse:
    if not request.app[STORE].synced:
        raise web.HTTPServiceUnavailable(
            text='{"errors":[{"message":"starting: the caches are still loading"}]}',
            content_type="application/json", headers={"Retry-After": "1"})
    return await request.app[VIEW](request)


async def _logs(request: web.Request) -> web.StreamResponse:
    return await request.app[LOGS](request)


async def _session(request: web.Request) -> web.StreamResponse:
    signin = request.app[SIGNIN]
    if request.method == "POST":
        return await signin.sign_in(request)
    if request.method == "DELETE":
        return await signin.sign_out(request)
    return await signin.current(request)


async def _link(request: web.Request) -> web.StreamResponse:
    return await request.app[SIGNIN].link(request)


async def _console(request: web.Request) -> web.StreamResponse:
    if not request.app[STORE].synced:  # no first data from caches still loading
        return await request.app[CONSOLE].handle(request)
    return await request.app[FIRST_PAGE].handle(request)


async def _healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def _readyz(request: web.Request) -> web.Response:
    store = request.app[STORE]
    if not store.synced:
        return web.Response(status=503, text="caches loading\n")
    return web.Response(text="ok (stale)\n" if store.stale else "ok\n")


async def _metrics(request: web.Request) -> web.Response:
    return request.app[METRICS].exposition(request.app[STORE])


def build_app(settings: ApiSettings) -> web.Application:
    metrics = Metrics()
    app = web.Application(middlewares=[
        request_ids, metrics.middleware, guard(trusted_header=settings.trusted_header_name)])
    cors.install(app, settings.cors_origins)
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[CONSOLE] = Console(settings.console_dir)
    app.cleanup_ctx.extend([_redis, _lifetime])
    for path in ("/graphql", "/api/graphql"):
        app.router.add_route("GET", path, _graphql)
        app.router.add_route("POST", path, _graphql)
    app.router.add_get("/logs/namespaces/{namespace}/phdeployments/{pod}", _logs)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    for method in ("GET", "POST", "DELETE"):
        app.router.add_route(method, "/auth/session", _session)
    app.router.add_route("GET", "/auth/link", _link)
    app.router.add_get("/{path:.*}", _console)
    return app


@contextlib.asynccontextmanager
async def running(settings: ApiSettings) -> AsyncIterator[str]:
    """Serve the API until the block ends; yields its base URL (``http://host:port``)."""
    runner = slowclients.runner(build_app(settings), timeouts=settings.client_timeouts,
                                handle_signals=False, handler_cancellation=True,
                                shutdown_timeout=2.0, access_log_class=AccessLogger,
                                access_log=access_log)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        port = runner.addresses[0][1]
        url = f"http://{settings.host}:{port}"
        log.info("API serving at %s", url)
        yield url
    finally:
        await runner.cleanup()


def tune_gc() -> None:
    """Fewer, larger garbage collections for the API process.

    A full deployment list allocates some 100,000 short-lived objects; with CPython's default
    thresholds (700, 10, 10) that triggers full collections, each traversing every cached
    view, and the list's p99 latency becomes 2.6 times its median (benchmarks/api). The
    objects are almost all acyclic and freed by reference counting, so collecting far less
    often costs little memory.
    """
    gc.set_threshold(*GC_THRESHOLDS)


async def serve(settings: ApiSettings) -> None:
    """Run the API until cancelled (the CLI cancels it on SIGINT/SIGTERM)."""
    tune_gc()
    async with running(settings):
        await asyncio.Event().wait()
