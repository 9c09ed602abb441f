"""The proxy's part in autoscaling: load reports to Redis, and waking only for admitted calls."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from proxykit import (
    CONTEXT,
    StartProxy,
    Upstream,
    basic,
    eventually,
    new_token,
    routed,
    url,
)
from redis.asyncio import Redis

from proxy.app import ROUTES, WAKER
from proxy.inflight import read_load
from proxy.publishing import publish_deployment
from proxy.records import WAKES_KEY, Access, Load, Route
from proxy.records import Upstream as Predictor

DEPLOYMENT = "iris-wake1"
PATH = f"/deployment/{DEPLOYMENT}/api/v1.0/predictions"
TARGET = f"{DEPLOYMENT}@predictor1"


async def load_now(redis: Redis) -> Load | None:
    return (await read_load(redis, now=time.time(), max_age=5.0)).get(TARGET)


@pytest.mark.parametrize("fast_path", [True, False])
async def test_in_flight_requests_are_reported_per_predictor(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession, fast_path: bool) -> None:
    """Three held requests show as concurrency 3 at Redis; once answered, the load drops to 0."""
    proxy = await start_proxy(fast_path=fast_path, load_report_interval=0.1)
    await routed(proxy, redis, DEPLOYMENT, upstream.address)

    async def call() -> int:
        async with http.post(url(proxy.port, f"/deployment/{DEPLOYMENT}/hang")) as response:
            return response.status

    calls = [asyncio.create_task(call()) for _ in range(3)]
    await eventually(lambda: upstream.hanging == 3)

    async def three() -> bool:
        found = await load_now(redis)
        return found is not None and found.concurrency == 3.0

    await eventually(three)
    upstream.release.set()
    assert await asyncio.gather(*calls) == [200, 200, 200]

    async def idle() -> bool:
        found = await load_now(redis)
        return found is None or (found.concurrency == 0 and found.requests == 0)

    await eventually(idle)


async def test_a_stopped_proxy_withdraws_its_report(start_proxy: StartProxy, redis: Redis,
                                                    upstream: Upstream,
                                                    http: aiohttp.ClientSession) -> None:
    """A proxy that stops takes its report away at once rather than leaving stale load."""
    proxy = await start_proxy(load_report_interval=0.1)
    await routed(proxy, redis, DEPLOYMENT, upstream.address)
    call = asyncio.create_task(http.post(url(proxy.port, f"/deployment/{DEPLOYMENT}/hang")))
    await eventually(lambda: upstream.hanging == 1)
    await eventually(lambda: _positive(redis))
    upstream.release.set()
    (await call).release()
    await proxy.stop()
    assert await load_now(redis) is None


async def _positive(redis: Redis) -> bool:
    found = await load_now(redis)
    return found is not None and found.requests + found.concurrency > 0


def asleep(upstream: Upstream, *, ready: bool = False, wakeable: bool = True,
           access: Access = Access.PRIVATE) -> Route:
    host, port = upstream.address
    return Route(deployment_id=DEPLOYMENT, host=host, port=port, access=access, stopped=False,
                 ready=ready, predictors=(Predictor("predictor1", host, port, 100, ready,
                                                    wakeable=wakeable and not ready),))


async def publish(redis: Redis, route: Route, clients: dict[str, str]) -> None:
    await publish_deployment(redis, route=route, credentials={
        name: CONTEXT.hash(token) for name, token in clients.items()})


@pytest.mark.parametrize("fast_path", [True, False])
async def test_only_admitted_requests_wake_a_predictor(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession, fast_path: bool) -> None:
    """No or wrong credentials: 401 and no wake request; right ones: a wake request, the call
    held until the predictor is ready, then answered by the model."""
    proxy = await start_proxy(fast_path=fast_path, wake_timeout=30.0)
    token = new_token()
    route = asleep(upstream)
    await publish(redis, route, {"app": token})
    await eventually(lambda: proxy.app[ROUTES].get(DEPLOYMENT) == route)
    for headers in ({}, {"Authorization": basic("app", "wrong")},
                    {"Authorization": basic("nobody", token)}):
        async with http.post(url(proxy.port, PATH), json={}, headers=headers) as response:
            assert response.status == 401
    assert await redis.xlen(WAKES_KEY) == 0

    async def call() -> aiohttp.ClientResponse:
        return await http.post(url(proxy.port, PATH), json={},
                               headers={"Authorization": basic("app", token)})

    held = asyncio.create_task(call())
    await eventually(lambda: proxy.app[WAKER].held == 1)
    await eventually(lambda: _woken(redis))
    assert not held.done()
    await publish(redis, asleep(upstream, ready=True), {"app": token})
    response = await held
    assert response.status == 200
    assert (await response.json())["path"] == "/api/v1.0/predictions"
    response.release()


async def _woken(redis: Redis) -> bool:
    entries = await redis.xrange(WAKES_KEY)
    return [fields for _, fields in entries][:1] == [{"target": TARGET}]


async def test_a_public_predictor_wakes_on_any_request(start_proxy: StartProxy, redis: Redis,
                                                       upstream: Upstream,
                                                       http: aiohttp.ClientSession) -> None:
    """A public deployment has no credentials to check: an anonymous call wakes it."""
    proxy = await start_proxy(wake_timeout=30.0)
    route = asleep(upstream, access=Access.PUBLIC)
    await publish(redis, route, {})
    await eventually(lambda: proxy.app[ROUTES].get(DEPLOYMENT) == route)
    held = asyncio.create_task(http.post(url(proxy.port, PATH), json={}))
    await eventually(lambda: _woken(redis))
    await publish(redis, asleep(upstream, ready=True, access=Access.PUBLIC), {})
    response = await held
    assert response.status == 200
    response.release()


async def test_waking_is_bounded_in_time_and_count(start_proxy: StartProxy, redis: Redis,
                                                   upstream: Upstream,
                                                   http: aiohttp.ClientSession) -> None:
    """A predictor that does not wake in time: 503 with Retry-After; past the held-request
    bound, 503 at once; a predictor that is not ready and not wakeable is not woken."""
    proxy = await start_proxy(wake_timeout=0.3, wake_max_held=1, retry_after=7)
    token = new_token()
    route = asleep(upstream)
    await publish(redis, route, {"app": token})
    await eventually(lambda: proxy.app[ROUTES].get(DEPLOYMENT) == route)
    auth = {"Authorization": basic("app", token)}
    first = asyncio.create_task(http.post(url(proxy.port, PATH), json={}, headers=auth))
    await eventually(lambda: proxy.app[WAKER].held == 1)
    async with http.post(url(proxy.port, PATH), json={}, headers=auth) as response:
        assert response.status == 503
        assert (await response.json())["error"] == "wake_queue_full"
    late = await first
    assert (late.status, late.headers["Retry-After"]) == (503, "7")
    assert (await late.json())["error"] == "waking_up"
    late.release()
    await redis.delete(WAKES_KEY)
    route = asleep(upstream, wakeable=False)
    await publish(redis, route, {"app": token})
    await eventually(lambda: proxy.app[ROUTES].get(DEPLOYMENT) == route)
    async with http.post(url(proxy.port, PATH), json={}, headers=auth) as response:
        assert (response.status, (await response.json())["error"]) == (
            503, "deployment_not_ready")
    assert await redis.xlen(WAKES_KEY) == 0


async def test_split_traffic_wakes_a_sleeping_canary_without_holding(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """A canary at zero with a share: its requests are served by the primary at once, and the
    proxy asks for the canary to wake (so it gets its share back once ready)."""
    proxy = await start_proxy()
    host, port = upstream.address
    route = Route(deployment_id=DEPLOYMENT, host=host, port=port, access=Access.PUBLIC,
                  stopped=False, ready=True, predictors=(
                      Predictor("predictor1", host, port, 50, True),
                      Predictor("canary", host, port, 50, False, wakeable=True)))
    await publish(redis, route, {})
    await eventually(lambda: proxy.app[ROUTES].get(DEPLOYMENT) == route)
    for _ in range(4):
        async with http.post(url(proxy.port, PATH), json={}) as response:
            assert response.status == 200
            assert response.headers["X-Model-Predictor"] == "predictor1"
    assert proxy.app[WAKER].held == 0

    async def canary_woken() -> bool:
        asked = [fields for _, fields in await redis.xrange(WAKES_KEY)]
        return bool(asked) and all(fields == {"target": f"{DEPLOYMENT}@canary"}
                                   for fields in asked)  # at most one a second

    await eventually(canary_woken)
