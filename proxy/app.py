"""The proxy's aiohttp application: one handler, and one lifetime block per resource.

Every long-lived resource (Redis client, upstream pool, WebSocket client session, hashing
threads, the event follower, the usage flusher) is opened and closed by its own
``cleanup_ctx`` entry and reached through a typed :class:`aiohttp.web.AppKey`. The contexts
unwind in reverse, so the last usage flush still has Redis, and Redis closes last.

One request, in order: split ``/deployment/<id>/<rest>``; find the route (503 until the table
has loaded once, 404 if unknown); for a private deployment, check the credentials (401, 429,
503); only then reveal availability (503 stopped / no ready pods, with ``Retry-After``), so an
anonymous caller learns nothing about a private deployment but that it exists; then relay
(WebSocket or HTTP). Metrics, the access line and usage are recorded for every answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import aiohttp
from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from proxy.accesslog import log_access
from proxy.authenticating import Authenticator, LockedOut, LoginLimits, Unauthenticated, Unavailable
from proxy.cache import VerifiedCache
from proxy.credentials import MalformedCredentials, parse_basic
from proxy.forwarding import Forwarder
from proxy.hashing import make_context
from proxy.headers import Forwarding, forwarding, request_id
from proxy.metrics import ProxyMetrics
from proxy.problems import problem, retry_later, unauthorized
from proxy.records import Access
from proxy.routes import RouteTable
from proxy.settings import ProxySettings
from proxy.subscribing import ChangeFollower
from proxy.upstream import UpstreamPool
from proxy.usage import UsageRecorder
from proxy.websockets import WebSocketRelay, is_websocket

PREFIX: Final = "/deployment/"

SETTINGS: Final = web.AppKey("settings", ProxySettings)
METRICS: Final = web.AppKey("metrics", ProxyMetrics)
ROUTES: Final = web.AppKey("routes", RouteTable)
CACHE: Final = web.AppKey("cache", VerifiedCache)
REDIS: Final = web.AppKey("redis", Redis)
UPSTREAMS: Final = web.AppKey("upstreams", UpstreamPool)
WS_SESSION: Final = web.AppKey("ws_session", aiohttp.ClientSession)
HASH_THREADS: Final = web.AppKey("hash_threads", ThreadPoolExecutor)
USAGE: Final = web.AppKey("usage", UsageRecorder)


@dataclass(slots=True)
class _Facts:
    """What one request turned out to be, for its metrics and access line."""

    deployment: str = ""
    client: str = ""
    upstream_seconds: float | None = None


class ProxyHandler:
    def __init__(self, *, settings: ProxySettings, routes: RouteTable,
                 authenticator: Authenticator, forwarder: Forwarder,
                 websockets: WebSocketRelay, metrics: ProxyMetrics,
                 usage: UsageRecorder) -> None:
        self._trusted_hops = settings.trusted_hops
        self._retry_after = settings.retry_after
        self._routes = routes
        self._authenticator = authenticator
        self._forwarder = forwarder
        self.websockets = websockets
        self._metrics = metrics
        self._usage = usage
        self._public = metrics.auth.labels("public")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        headers = request.headers
        forwarded = forwarding(
            peer=request.remote or "", scheme=request.scheme, host=request.host,
            incoming_for=headers.get("X-Forwarded-For"),
            incoming_proto=headers.get("X-Forwarded-Proto"),
            incoming_host=headers.get("X-Forwarded-Host"), trusted_hops=self._trusted_hops)
        rid = request_id(headers.get("X-Request-Id"))
        facts = _Facts()
        status = 500
        try:
            response = await self._dispatch(request, forwarded, rid, facts)
            if not response.prepared:
                response.headers.setdefault("X-Request-Id", rid)
            status = response.status
            return response
        finally:
            self._metrics.observe_request(deployment=facts.deployment, client=facts.client,
                                          method=request.method, status=status,
                                          seconds=time.perf_counter() - started)
            if facts.upstream_seconds is not None:
                self._metrics.observe_upstream(deployment=facts.deployment,
                                               seconds=facts.upstream_seconds)
            if facts.client:
                self._usage.record(facts.deployment, facts.client)
            log_access(request_id=rid, address=forwarded.address, method=request.method,
                       path=request.path, deployment=facts.deployment, client=facts.client,
                       status=status, started=started, upstream_seconds=facts.upstream_seconds)

    async def _dispatch(self, request: web.Request, forwarded: Forwarding, rid: str,
                        facts: _Facts) -> web.StreamResponse:
        path, question, query = request.raw_path.partition("?")
        if not path.startswith(PREFIX):
            return problem(404, "not_found", "only /deployment/<id>/... is served here")
        deployment_id, _, rest = path[len(PREFIX):].partition("/")
        target = f"/{rest}{question}{query}"
        if not self._routes.loaded:
            return retry_later(503, "not_ready", "the proxy is still loading its routes",
                               self._retry_after)
        route = self._routes.get(deployment_id)
        if route is None:
            return problem(404, "deployment_not_found", "no such deployment")
        facts.deployment = deployment_id
        client: str | None = None
        if route.access is Access.PRIVATE:
            outcome = await self._authenticate(request, deployment_id, forwarded.address)
            if isinstance(outcome, web.Response):
                return outcome
            client = facts.client = outcome
        else:
            self._public.inc()
        if route.stopped:
            return retry_later(503, "deployment_stopped", "the deployment is stopped",
                               self._retry_after)
        if not route.ready:
            return retry_later(503, "deployment_not_ready", "the deployment has no ready pods",
                               self._retry_after)
        if is_websocket(request):
            return await self.websockets.relay(request, route=route, target=target,
                                               client=client, forwarding=forwarded,
                                               request_id=rid)
        response, facts.upstream_seconds = await self._forwarder.forward(
            request, route=route, target=target, client=client, forwarding=forwarded,
            request_id=rid)
        return response

    async def _authenticate(self, request: web.Request, deployment_id: str,
                            address: str) -> str | web.Response:
        try:
            credentials = parse_basic(request.headers.get("Authorization"))
        except MalformedCredentials:
            self._metrics.auth.labels("malformed").inc()
            return unauthorized("malformed credentials")
        if credentials is None:
            self._metrics.auth.labels("missing").inc()
            return unauthorized("this deployment requires client credentials")
        try:
            return await self._authenticator.authenticate(
                deployment_id=deployment_id, credentials=credentials, address=address)
        except Unauthenticated:
            return unauthorized("invalid client credentials")
        except LockedOut as locked:
            return retry_later(429, "too_many_failures", "too many failed logins",
                               locked.retry_after)
        except Unavailable:
            return retry_later(503, "auth_unavailable", "credentials cannot be checked now",
                               self._retry_after)


HANDLER: Final = web.AppKey("handler", ProxyHandler)


async def _handle(request: web.Request) -> web.StreamResponse:
    return await request.app[HANDLER].handle(request)


async def _redis(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    redis = Redis.from_url(
        settings.redis_url, password=settings.redis_password, decode_responses=True,
        socket_timeout=settings.redis_timeout, socket_connect_timeout=settings.redis_timeout,
        retry=Retry(NoBackoff(), 0))  # fail fast: callers decide what a failure means
    app[REDIS] = redis
    yield
    await redis.aclose()


async def _upstreams(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[UPSTREAMS] = pool = UpstreamPool(
        connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
        idle_timeout=settings.upstream_idle_timeout, max_idle=settings.upstream_pool_size)
    yield
    await pool.close()


async def _ws_session(app: web.Application) -> AsyncIterator[None]:
    app[WS_SESSION] = session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    yield
    await session.close()


async def _hash_threads(app: web.Application) -> AsyncIterator[None]:
    app[HASH_THREADS] = executor = ThreadPoolExecutor(
        max_workers=app[SETTINGS].hash_threads, thread_name_prefix="proxy-hash")
    yield
    executor.shutdown(wait=False, cancel_futures=True)


async def _follower(app: web.Application) -> AsyncIterator[None]:
    follower = ChangeFollower(redis=app[REDIS], routes=app[ROUTES], cache=app[CACHE])
    task = asyncio.create_task(follower.run(), name="proxy-follow-changes")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _usage(app: web.Application) -> AsyncIterator[None]:
    app[USAGE] = usage = UsageRecorder(redis=app[REDIS],
                                       interval=app[SETTINGS].usage_flush_interval)
    task = asyncio.create_task(usage.run(), name="proxy-usage-flush")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await usage.flush()


async def _handler(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    authenticator = Authenticator(
        redis=app[REDIS], cache=app[CACHE], context=make_context(settings.hash_scheme),
        executor=app[HASH_THREADS],
        limits=LoginLimits(failures=settings.failed_login_limit,
                           window=settings.failed_login_window),
        metrics=app[METRICS])
    app[HANDLER] = ProxyHandler(
        settings=settings, routes=app[ROUTES], authenticator=authenticator,
        forwarder=Forwarder(pool=app[UPSTREAMS], body_limit=settings.body_limit),
        websockets=WebSocketRelay(session=app[WS_SESSION],
                                  connect_timeout=settings.connect_timeout),
        metrics=app[METRICS], usage=app[USAGE])
    yield


async def _close_websockets(app: web.Application) -> None:
    if HANDLER in app:
        await app[HANDLER].websockets.close_all()


def build_app(settings: ProxySettings) -> web.Application:
    """The proxy application; its resources open when a runner sets it up."""
    app = web.Application()
    app[SETTINGS] = settings
    app[METRICS] = ProxyMetrics()
    app[ROUTES] = RouteTable()
    app[CACHE] = VerifiedCache(pepper=settings.pepper, ttl=settings.cache_ttl)
    app.cleanup_ctx.extend([_redis, _upstreams, _ws_session, _hash_threads, _follower, _usage,
                            _handler])
    app.on_shutdown.append(_close_websockets)
    app.router.add_route("*", "/{tail:.*}", _handle)
    return app
