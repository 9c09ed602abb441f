"""Freshness: pub/sub changes take effect at once; Redis outages never let anyone in."""

from __future__ import annotations

import aiohttp
from proxykit import (
    CONTEXT,
    StartProxy,
    Upstream,
    basic,
    eventually,
    new_token,
    publish,
    routed,
    url,
)
from redis.asyncio import Redis
from redis_server import RedisServer

from proxy.app import CACHE, METRICS, ROUTES
from proxy.publishing import publish_deployment, replace_everything, withdraw_deployment
from proxy.records import Access, clients_key
from proxy.serving import RunningProxy

PATH = "/deployment/iris-abc12/api/v1.0/predictions"


async def status(http: aiohttp.ClientSession, proxy: RunningProxy, client: str | None = None,
                 token: str | None = None, path: str = PATH) -> int:
    headers = {} if client is None or token is None else {"Authorization": basic(client, token)}
    async with http.get(url(proxy.port, path), headers=headers) as response:
        await response.read()
        return response.status


def verified(proxy: RunningProxy) -> float:
    return proxy.app[METRICS].value("proxy_auth_total", {"outcome": "verified"})


async def test_deleting_a_client_takes_effect_within_a_second(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """A cached client is refused within a second of its removal; the others stay cached."""
    gone, kept = new_token(), new_token()
    route = await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients={"gone": gone, "kept": kept})
    assert await status(http, proxy, "gone", gone) == 200
    assert await status(http, proxy, "kept", kept) == 200
    checks = verified(proxy)
    kept_hash = await redis.hget(clients_key("iris-abc12"), "kept")
    assert isinstance(kept_hash, str)
    await publish_deployment(redis, route=route, credentials={"kept": kept_hash})
    assert await eventually(lambda: _refused(http, proxy, "gone", gone), within=1.0) < 1.0
    assert await status(http, proxy, "kept", kept) == 200
    assert verified(proxy) == checks  # "kept" was still cached: no new hash


async def _refused(http: aiohttp.ClientSession, proxy: RunningProxy, client: str,
                   token: str) -> bool:
    return await status(http, proxy, client, token) == 401


async def test_route_changes_and_withdrawals_follow_pub_sub(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """Stopping and deleting a deployment change the proxy's answers without a restart."""
    await routed(proxy, redis, "iris-abc12", upstream.address)
    assert await status(http, proxy) == 200
    await publish(redis, "iris-abc12", upstream.address, stopped=True)
    await eventually(lambda: _is(http, proxy, 503))
    await withdraw_deployment(redis, deployment_id="iris-abc12")
    await eventually(lambda: _is(http, proxy, 404))


async def _is(http: aiohttp.ClientSession, proxy: RunningProxy, expected: int) -> bool:
    return await status(http, proxy) == expected


async def test_a_full_resync_replaces_the_route_table(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """After replace_everything, only the deployments it named are routed."""
    old = await routed(proxy, redis, "iris-abc12", upstream.address)
    new = await publish(redis, "other-id12", upstream.address)
    await replace_everything(redis, deployments=[(new, {})], epoch="test")
    await eventually(lambda: proxy.app[ROUTES].get(old.deployment_id) is None)
    assert await status(http, proxy) == 404
    assert await status(http, proxy, path="/deployment/other-id12/x") == 200


async def test_redis_down_keeps_verified_clients_until_ttl_and_fails_closed(
        start_proxy: StartProxy, redis: Redis, redis_server: RedisServer, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """With Redis gone: cached clients pass until the TTL, nothing else ever gets a 200."""
    proxy = await start_proxy(cache_ttl=1.5)
    token, other = new_token(), new_token()
    await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients={"app": token, "other": other})
    assert await status(http, proxy, "app", token) == 200
    redis_server.stop()
    assert await status(http, proxy, "app", token) == 200  # cached: no Redis needed
    assert await status(http, proxy, "other", other) == 503  # never checked: cannot be now
    assert await status(http, proxy, "app", new_token()) == 503
    assert await status(http, proxy, "ghost", new_token()) == 503
    assert await status(http, proxy) == 401
    await eventually(lambda: _refused_with(http, proxy, "app", token, 503), within=3.0)
    assert len(proxy.app[CACHE]) == 0


async def _refused_with(http: aiohttp.ClientSession, proxy: RunningProxy, client: str,
                        token: str, expected: int) -> bool:
    return await status(http, proxy, client, token) == expected


async def test_redis_restarted_empty_keeps_what_the_proxy_knew_until_the_republish(
        start_proxy: StartProxy, redis: Redis, redis_server: RedisServer, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """After Redis returns empty (no epoch), known routes and verified clients keep working,
    anything unverifiable is 503 with Retry-After; the republish makes the proxy exact again."""
    proxy = await start_proxy(cache_ttl=60)
    token, other, gone = new_token(), new_token(), new_token()
    await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients={"app": token, "other": other, "gone": gone})
    assert await status(http, proxy, "app", token) == 200
    assert await status(http, proxy, "gone", gone) == 200
    redis_server.restart()
    await eventually(lambda: not proxy.app[ROUTES].complete)
    await redis.connection_pool.disconnect()  # the test's own connections died with Redis
    assert await status(http, proxy, "app", token) == 200  # cached, route kept
    for client, presented in (("other", other), ("app", new_token())):
        async with http.get(url(proxy.port, PATH),
                            headers={"Authorization": basic(client, presented)}) as response:
            assert response.status == 503
            assert int(response.headers["Retry-After"]) > 0
    async with http.get(url(proxy.port, "/deployment/unknown-1/x")) as response:
        assert (response.status, (await response.json())["error"]) == (
            503, "data_plane_incomplete")
    route = proxy.app[ROUTES].get("iris-abc12")
    assert route is not None
    await replace_everything(redis, deployments=[(route, {
        "app": CONTEXT.hash(token), "other": CONTEXT.hash(other)})], epoch="test")
    await eventually(lambda: proxy.app[ROUTES].complete)
    assert await status(http, proxy, "other", other) == 200
    assert await status(http, proxy, "gone", gone) == 401  # deleted meanwhile: evicted
    assert await status(http, proxy, path="/deployment/unknown-1/x") == 404


async def test_flushall_makes_the_unverifiable_503_and_counts_no_failed_login(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """After FLUSHALL (no epoch), verified clients still pass, every other credential is 503
    with Retry-After, never 401, and no failure counter is written."""
    proxy = await start_proxy(cache_ttl=60, failed_login_limit=1)
    token, other = new_token(), new_token()
    route = await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                         clients={"app": token, "other": other})
    assert await status(http, proxy, "app", token) == 200
    await redis.flushall()
    assert await status(http, proxy, "app", token) == 200
    for client, presented in (("other", other), ("app", new_token()), ("app", new_token()),
                              ("ghost", new_token())):
        async with http.get(url(proxy.port, PATH),
                            headers={"Authorization": basic(client, presented)}) as response:
            assert response.status == 503
            assert int(response.headers["Retry-After"]) > 0
    assert await redis.keys("mg:failed:*") == []
    await replace_everything(redis, deployments=[(route, {
        "app": CONTEXT.hash(token), "other": CONTEXT.hash(other)})], epoch="test")
    await eventually(lambda: _refused_with(http, proxy, "other", other, 200))
    assert await status(http, proxy, "app", new_token()) == 401
