"""The proxy's aiohttp application: one handler, and one lifetime block per resource.

Every long-lived resource (Redis client, upstream pool, WebSocket client session, hashing
threads, the event follower, the usage flusher, the audit trail's writer, the load reporter)
is opened and closed
by its own ``cleanup_ctx`` entry and reached through a typed :class:`aiohttp.web.AppKey`. The
contexts unwind in reverse, so the last usage flush and audit records still have Redis, and
Redis closes last.

One request, in order: split ``/deployment/<id>[@<predictor>]/<rest>`` (404 if the predictor
part is not a predictor name); find the route (503 until the table has loaded once, 404 if
unknown, 503 instead while Redis has lost data and the controller has not republished it); for
a private deployment, check the credentials (401, 429, 503); only then reveal availability
(503 stopped), the predictor (404 for a name the deployment does not have) and its readiness
(503 no ready pods, with ``Retry-After``), so an anonymous caller learns nothing about a
private deployment but that it exists; then relay (WebSocket or HTTP) to the predictor named,
or to the one the deployment's split picks (:mod:`proxy.splitting`), with
``X-Model-Predictor`` naming it on the answer. Credentials are the deployment's, whichever
predictor serves. A predictor scaled to zero (``wakeable``) is woken only at that point, after
the credentials, and the request is held until it is ready (:mod:`proxy.waking`). Metrics, the
access line and usage are recorded for every answer, and every admitted request counts as in
flight for the autoscaler until its answer is done (:mod:`proxy.inflight`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import aiohttp
from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from proxy.accesslog import log_access
from proxy.audit import AuditTrail
from proxy.authenticating import (
    Authenticator,
    Expired,
    LockedOut,
    Unauthenticated,
    Unavailable,
)
from proxy.cache import VerifiedCache
from proxy.credentials import MalformedCredentials, parse_basic
from proxy.forwarding import Forwarder
from proxy.hashing import make_context
from proxy.headers import Forwarding, forwarding, request_id
from proxy.inflight import Inflight
from proxy.loginlimits import LoginLimits
from proxy.metrics import ProxyMetrics
from proxy.problems import Problem, problem, retry_later, unauthorized
from proxy.records import PREDICTOR_NAME, Access, Upstream, target
from proxy.refusals import RefusalStreaks
from proxy.routes import RouteTable
from proxy.settings import ProxySettings
from proxy.subscribing import ChangeFollower
from proxy.upstream import UpstreamPool
from proxy.usage import UsageRecorder
from proxy.waking import Waker
from proxy.websockets import WebSocketRelay, is_websocket

PREFIX: Final = "/deployment/"
_NOT_SERVED: Final = problem(404, "not_found", "only /deployment/<id>/... is served here")
_UNKNOWN: Final = problem(404, "deployment_not_found", "no such deployment")
_NOT_A_PREDICTOR: Final = problem(
    404, "predictor_not_found", "no such predictor: a predictor name is 1 to 16 lowercase "
    "letters, digits or '-', starting and ending with a letter or digit")

SETTINGS: Final = web.AppKey("settings", ProxySettings)
METRICS: Final = web.AppKey("metrics", ProxyMetrics)
ROUTES: Final = web.AppKey("routes", RouteTable)
CACHE: Final = web.AppKey("cache", VerifiedCache)
REDIS: Final = web.AppKey("redis", Redis)
UPSTREAMS: Final = web.AppKey("upstreams", UpstreamPool)
WS_SESSION: Final = web.AppKey("ws_session", aiohttp.ClientSession)
HASH_THREADS: Final = web.AppKey("hash_threads", ThreadPoolExecutor)
USAGE: Final = web.AppKey("usage", UsageRecorder)
AUDIT: Final = web.AppKey("audit", AuditTrail)
INFLIGHT: Final = web.AppKey("inflight", Inflight)
WAKER: Final = web.AppKey("waker", Waker)


@dataclass(slots=True)
class Call:
    """One request as both front ends see it: who called, and what it turned out to be."""

    request_id: str
    forwarded: Forwarding
    started: float
    deployment: str = ""
    predictor: str = ""
    client: str = ""
    refused: str = ""  # why credentials were refused, when the status does not say it
    load_target: str = ""  # ``<id>@<predictor>`` counted in flight until the answer is done
    upstream_seconds: float | None = None


@dataclass(slots=True)  # not frozen: one per request, and frozen ones cost more to create
class Admission:
    """A request that may go upstream: where to, and as which client (``None``: public)."""

    upstream: Upstream
    target: str
    client: str | None


class ProxyHandler:
    """The decisions of one request, shared by the fast path and the aiohttp path.

    :meth:`begin`, :meth:`admit` and :meth:`finish` hold everything but the HTTP framing, so
    both front ends route, authenticate, count and log alike; :meth:`handle` is aiohttp's.
    """

    def __init__(self, *, settings: ProxySettings, routes: RouteTable,
                 authenticator: Authenticator, forwarder: Forwarder,
                 websockets: WebSocketRelay, metrics: ProxyMetrics,
                 usage: UsageRecorder, inflight: Inflight, waker: Waker) -> None:
        self._trusted_hops = settings.trusted_hops
        self._retry_after = settings.retry_after
        self._republishing = retry_later(503, "data_plane_incomplete",
                                         "routes are being republished", settings.retry_after)
        self._routes = routes
        self._authenticator = authenticator
        self.forwarder = forwarder
        self.websockets = websockets
        self._metrics = metrics
        self._usage = usage
        self._inflight = inflight
        self._waker = waker
        self._public = metrics.auth.labels("public")
        self._malformed = metrics.auth.labels("malformed")
        self._missing = metrics.auth.labels("missing")

    def begin(self, *, peer: str, scheme: str, host: str, incoming_for: str | None,
              incoming_proto: str | None, incoming_host: str | None,
              incoming_request_id: str | None) -> Call:
        started = time.perf_counter()
        forwarded = forwarding(
            peer=peer, scheme=scheme, host=host, incoming_for=incoming_for,
            incoming_proto=incoming_proto, incoming_host=incoming_host,
            trusted_hops=self._trusted_hops)
        return Call(request_id(incoming_request_id), forwarded, started)

    async def admit(self, call: Call, *, raw_path: str,
                    authorization: str | None) -> Admission | Problem:
        """Route and authenticate: where the request goes, or the answer it gets instead."""
        path, question, query = raw_path.partition("?")
        if not path.startswith(PREFIX):
            return _NOT_SERVED
        deployment_id, _, rest = path[len(PREFIX):].partition("/")
        deployment_id, direct, wanted = deployment_id.partition("@")
        if direct and not PREDICTOR_NAME.fullmatch(wanted):
            return _NOT_A_PREDICTOR
        if not self._routes.loaded:
            return retry_later(503, "not_ready", "the proxy is still loading its routes",
                               self._retry_after)
        split = self._routes.split(deployment_id)
        if split is None:
            if not self._routes.complete:
                return self._republishing
            return _UNKNOWN
        route = split.route
        call.deployment = deployment_id
        client: str | None = None
        if route.access is Access.PRIVATE:
            outcome = await self._authenticate(authorization, call)
            if isinstance(outcome, Problem):
                return outcome
            client = call.client = outcome
        else:
            self._public.inc()
        if route.stopped:
            return retry_later(503, "deployment_stopped", "the deployment is stopped",
                               self._retry_after)
        if direct:
            upstream = split.named(wanted)
            if upstream is None:
                return problem(404, "predictor_not_found",
                               f"the deployment has no predictor named {wanted}")
            if not upstream.ready:
                if not upstream.wakeable:
                    return retry_later(503, "predictor_not_ready",
                                       f"the predictor {wanted} has no ready pods",
                                       self._retry_after)
                woken = await self._wake(call, (upstream.name,),
                                         lambda: self._named_ready(deployment_id, wanted))
                if isinstance(woken, Problem):
                    return woken
                upstream = woken
        else:
            caller = call.forwarded.address if client is None else client
            picked = split.pick(caller)
            if picked is None:
                asleep = tuple(item.name for item in route.predictors
                               if item.wakeable and item.weight > 0)
                if not asleep:
                    return retry_later(503, "deployment_not_ready",
                                       "the deployment has no ready pods", self._retry_after)
                woken = await self._wake(call, asleep,
                                         lambda: self._picked(deployment_id, caller))
                if isinstance(woken, Problem):
                    return woken
                picked = woken
            elif split.asleep:  # a predictor asleep while others serve its share: wake it
                self._waker.nudge(deployment_id=deployment_id, predictors=split.asleep)
            upstream = picked
        call.predictor = upstream.name
        if not call.load_target:
            call.load_target = target(deployment_id, upstream.name)
            self._inflight.started(call.load_target)
        return Admission(upstream, f"/{rest}{question}{query}", client)

    async def _wake(self, call: Call, asleep: tuple[str, ...],
                    ready: Callable[[], Upstream | None]) -> Upstream | Problem:
        """Hold an admitted request while predictors scaled to zero wake (it is load too)."""
        call.load_target = target(call.deployment, asleep[0])
        self._inflight.started(call.load_target)
        return await self._waker.hold(deployment_id=call.deployment, predictors=asleep,
                                      ready=ready)

    def _named_ready(self, deployment_id: str, name: str) -> Upstream | None:
        split = self._routes.split(deployment_id)
        found = split.named(name) if split is not None and not split.route.stopped else None
        return found if found is not None and found.ready else None

    def _picked(self, deployment_id: str, caller: str) -> Upstream | None:
        split = self._routes.split(deployment_id)
        return split.pick(caller) if split is not None and not split.route.stopped else None

    def finish(self, call: Call, *, method: str, raw_path: str, status: int) -> None:
        """Metrics, usage and the access line of one answered request."""
        self._metrics.observe_request(deployment=call.deployment, predictor=call.predictor,
                                      client=call.client, method=method, status=status,
                                      seconds=time.perf_counter() - call.started)
        if call.upstream_seconds is not None:
            self._metrics.observe_upstream(deployment=call.deployment, predictor=call.predictor,
                                           seconds=call.upstream_seconds)
        if call.client:
            self._usage.record(call.deployment, call.client)
        if call.load_target:
            self._inflight.ended(call.load_target)
        log_access(request_id=call.request_id, address=call.forwarded.address, method=method,
                   path=raw_path.partition("?")[0], deployment=call.deployment,
                   predictor=call.predictor, client=call.client, status=status,
                   started=call.started, upstream_seconds=call.upstream_seconds,
                   refused=call.refused)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        headers = request.headers
        call = self.begin(
            peer=request.remote or "", scheme=request.scheme, host=request.host,
            incoming_for=headers.get("X-Forwarded-For"),
            incoming_proto=headers.get("X-Forwarded-Proto"),
            incoming_host=headers.get("X-Forwarded-Host"),
            incoming_request_id=headers.get("X-Request-Id"))
        status = 500
        try:
            response = await self._respond(request, call)
            if not response.prepared:
                response.headers.setdefault("X-Request-Id", call.request_id)
            status = response.status
            return response
        finally:
            self.finish(call, method=request.method, raw_path=request.raw_path, status=status)

    async def _respond(self, request: web.Request, call: Call) -> web.StreamResponse:
        admission = await self.admit(call, raw_path=request.raw_path,
                                     authorization=request.headers.get("Authorization"))
        if isinstance(admission, Problem):
            return admission.response()
        if is_websocket(request):
            return await self.websockets.relay(
                request, upstream=admission.upstream, target=admission.target,
                client=admission.client, forwarding=call.forwarded,
                request_id=call.request_id)
        response, call.upstream_seconds = await self.forwarder.forward(
            request, upstream=admission.upstream, target=admission.target, client=admission.client,
            forwarding=call.forwarded, request_id=call.request_id)
        return response

    async def _authenticate(self, authorization: str | None, call: Call) -> str | Problem:
        deployment_id = call.deployment
        if authorization is not None:
            client = self._authenticator.cached(deployment_id, authorization)
            if client is not None:
                return client
        try:
            credentials = parse_basic(authorization)
        except MalformedCredentials:
            self._malformed.inc()
            return unauthorized("malformed credentials")
        if credentials is None:
            self._missing.inc()
            return unauthorized("this deployment requires client credentials")
        try:
            return await self._authenticator.authenticate(
                deployment_id=deployment_id, authorization=authorization or "",
                credentials=credentials, address=call.forwarded.address,
                request_id=call.request_id)
        except Expired:
            call.refused = "expired"
            return unauthorized("the client token has expired")
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


async def _audit(app: web.Application) -> AsyncIterator[None]:
    app[AUDIT] = audit = AuditTrail(app[REDIS], component="proxy",
                                    settings=app[SETTINGS].audit)
    task = asyncio.create_task(audit.run(), name="proxy-audit-window")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await audit.flush()


async def _inflight(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[INFLIGHT] = inflight = Inflight(redis=app[REDIS], interval=settings.load_report_interval)
    app[WAKER] = Waker(redis=app[REDIS], timeout=settings.wake_timeout,
                       max_held=settings.wake_max_held, retry_after=settings.retry_after)
    task = asyncio.create_task(inflight.run(), name="proxy-load-report")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await inflight.withdraw()


async def _handler(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    limits = LoginLimits(pair=settings.failed_login_limit,
                         address=settings.failed_login_address_limit,
                         backoff_after=settings.failed_login_backoff_after,
                         backoff_max=settings.failed_login_backoff_max,
                         window=settings.failed_login_window)
    authenticator = Authenticator(
        redis=app[REDIS], cache=app[CACHE], context=make_context(settings.hash_scheme),
        executor=app[HASH_THREADS], limits=limits, metrics=app[METRICS],
        streaks=RefusalStreaks(redis=app[REDIS], audit=app[AUDIT], limits=limits))
    app[HANDLER] = ProxyHandler(
        settings=settings, routes=app[ROUTES], authenticator=authenticator,
        forwarder=Forwarder(pool=app[UPSTREAMS], body_limit=settings.body_limit),
        websockets=WebSocketRelay(session=app[WS_SESSION],
                                  connect_timeout=settings.connect_timeout),
        metrics=app[METRICS], usage=app[USAGE], inflight=app[INFLIGHT], waker=app[WAKER])
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
                            _audit, _inflight, _handler])
    app.on_shutdown.append(_close_websockets)
    app.router.add_route("*", r"/{tail:[\s\S]*}", _handle)  # "." misses a decoded %0A
    return app
