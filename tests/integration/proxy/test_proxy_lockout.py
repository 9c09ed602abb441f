"""Failed-login limits: guessers are stopped, the clients they guess at are not locked out.

Source addresses come from X-Forwarded-For (one trusted hop), as behind the chart's ingress.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
from proxykit import StartProxy, Upstream, basic, new_token, routed, url
from redis.asyncio import Redis

from proxy.app import METRICS
from proxy.records import Access
from proxy.serving import RunningProxy

PATH = "/deployment/iris-abc12/api/v1.0/predictions"
A, B = "203.0.113.10", "198.51.100.20"


async def call(http: aiohttp.ClientSession, proxy: RunningProxy, client: str, token: str,
               address: str) -> aiohttp.ClientResponse:
    headers = {"Authorization": basic(client, token), "X-Forwarded-For": address}
    async with http.get(url(proxy.port, PATH), headers=headers) as response:
        await response.read()
        return response


async def fail(http: aiohttp.ClientSession, proxy: RunningProxy, client: str, address: str,
               times: int) -> None:
    for _ in range(times):
        assert (await call(http, proxy, client, new_token(), address)).status == 401


async def start(start_proxy: StartProxy, redis: Redis, upstream: Upstream,
                clients: dict[str, str], **limits: float) -> RunningProxy:
    proxy = await start_proxy(trusted_hops=1, failed_login_window=60, **limits)
    await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients=clients)
    return proxy


async def test_a_client_address_pair_past_its_limit_gets_429_before_hashing(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """Past the (client, address) limit even the right token from there gets 429 with
    Retry-After, and nothing is hashed."""
    token = new_token()
    proxy = await start(start_proxy, redis, upstream, {"app": token}, failed_login_limit=3)
    await fail(http, proxy, "app", A, 3)
    metrics = proxy.app[METRICS]
    rejected = metrics.value("proxy_auth_total", {"outcome": "rejected"})
    response = await call(http, proxy, "app", token, A)
    assert response.status == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert metrics.value("proxy_auth_total", {"outcome": "rejected"}) == rejected
    assert metrics.value("proxy_auth_total", {"outcome": "verified"}) == 0
    assert metrics.value("proxy_auth_total", {"outcome": "locked"}) == 1


async def test_failures_from_one_address_lock_out_neither_the_client_elsewhere_nor_neighbours(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """Ten failures of "app" from A (and more refused): "app" still works from B, and
    "other" from A."""
    token, other = new_token(), new_token()
    proxy = await start(start_proxy, redis, upstream, {"app": token, "other": other})
    await fail(http, proxy, "app", A, 10)
    for _ in range(3):
        assert (await call(http, proxy, "app", new_token(), A)).status == 429
    assert (await call(http, proxy, "app", token, A)).status == 429
    assert (await call(http, proxy, "app", token, B)).status == 200
    assert (await call(http, proxy, "other", other, A)).status == 200


async def test_an_attacker_who_knows_a_client_name_cannot_lock_it_out(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """Guesses at "app" from many addresses slow its checks down, but its right token from an
    address that never failed still passes, within the backoff's bound."""
    token = new_token()
    proxy = await start(start_proxy, redis, upstream, {"app": token},
                        failed_login_backoff_after=4, failed_login_backoff_max=0.3)
    for index in range(12):
        await fail(http, proxy, "app", f"192.0.2.{index}", 2)
    started = time.monotonic()
    assert (await call(http, proxy, "app", token, B)).status == 200
    assert time.monotonic() - started >= 0.3  # the backoff applied, at its cap
    assert (await call(http, proxy, "app", token, B)).status == 200  # now cached


async def test_one_address_guessing_across_client_names_is_stopped(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """The per-address limit catches guesses spread over many client names."""
    proxy = await start(start_proxy, redis, upstream, {"app": new_token()},
                        failed_login_limit=2, failed_login_address_limit=5)
    for index in range(5):
        await fail(http, proxy, f"guess-{index}", A, 1)
    response = await call(http, proxy, "guess-9", new_token(), A)
    assert response.status == 429
    assert int(response.headers["Retry-After"]) > 0
    assert (await call(http, proxy, "guess-9", new_token(), B)).status == 401


async def test_a_success_clears_only_its_own_pair(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """After the right token from A, A's earlier failures of "app" are forgiven."""
    token = new_token()
    proxy = await start(start_proxy, redis, upstream, {"app": token}, failed_login_limit=3,
                        cache_ttl=0.1)
    await fail(http, proxy, "app", A, 2)
    assert (await call(http, proxy, "app", token, A)).status == 200
    await fail(http, proxy, "app", A, 2)
    assert (await call(http, proxy, "app", new_token(), A)).status == 401
    assert (await call(http, proxy, "app", new_token(), A)).status == 429


async def test_a_locked_out_address_does_not_share_its_refusal_with_a_clean_one(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """The same right token sent at the same moment from a locked pair's address and from a
    clean one: the clean one passes every time (the locked one may be served from the cache
    the clean one filled: a cached token meets no limit)."""
    token = new_token()
    proxy = await start(start_proxy, redis, upstream, {"app": token}, failed_login_limit=2,
                        cache_ttl=0.1)
    await fail(http, proxy, "app", A, 2)
    for _ in range(5):
        from_a, from_b = await asyncio.gather(call(http, proxy, "app", token, A),
                                              call(http, proxy, "app", token, B))
        assert from_b.status == 200
        assert from_a.status in (429, 200)
        await asyncio.sleep(0.15)  # past the cache TTL: the next round verifies again
