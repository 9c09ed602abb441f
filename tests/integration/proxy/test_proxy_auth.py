"""Private deployments: who gets in, what the model sees, and what never leaves the proxy."""

from __future__ import annotations

import asyncio
import base64
import logging
import time

import aiohttp
import pytest
from multidict import CIMultiDict
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

from proxy.app import METRICS, ROUTES
from proxy.publishing import pending_hash_upgrades, publish_deployment
from proxy.records import Access, CredentialKey, Route, encode_credential
from proxy.serving import RunningProxy

PATH = "/deployment/iris-abc12/api/v1.0/predictions"


def verified(proxy: RunningProxy) -> float:
    return proxy.app[METRICS].value("proxy_auth_total", {"outcome": "verified"})


async def private(proxy: RunningProxy, redis: Redis, upstream: Upstream,
                  clients: dict[str, str]) -> None:
    await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients=clients)


async def test_public_deployments_need_no_credentials_and_name_no_user(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """A public deployment passes anonymous calls and forwards no X-Forwarded-User."""
    await routed(proxy, redis, "iris-abc12", upstream.address)
    async with http.get(url(proxy.port, PATH),
                        headers={"X-Forwarded-User": "admin"}) as response:
        assert response.status == 200
        names = [name.lower() for name, _ in (await response.json())["headers"]]
    assert "x-forwarded-user" not in names


async def test_right_credentials_pass_as_the_client_without_the_token(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """The model sees X-Forwarded-User: <client> once, and neither the header nor the token."""
    token = new_token()
    await private(proxy, redis, upstream, {"app": token})
    async with http.post(url(proxy.port, PATH), data=b"{}",
                         headers={"Authorization": basic("app", token)}) as response:
        assert response.status == 200
        seen = await response.json()
    headers = seen["headers"]
    assert [value for name, value in headers if name.lower() == "x-forwarded-user"] == ["app"]
    assert all(name.lower() != "authorization" for name, _ in headers)
    encoded = base64.b64encode(f"app:{token}".encode()).decode()
    assert not any(token in value or encoded in value for _, value in headers)


@pytest.mark.parametrize("header", [
    None,
    "Bearer something",
    "Basic %%%not-base64%%%",
    "Basic " + base64.b64encode(b"no-colon-here").decode(),
    "Basic " + base64.b64encode(b"app:\xff\xfe-not-utf8").decode(),
    "Basic " + "QUFB" * 1000,
])
async def test_missing_or_malformed_credentials_are_401_with_a_challenge(
        proxy: RunningProxy, redis: Redis, upstream: Upstream, http: aiohttp.ClientSession,
        header: str | None) -> None:
    """Missing, wrong scheme, bad base64, no colon, non-UTF-8 and huge headers: 401 Basic."""
    await private(proxy, redis, upstream, {"app": new_token()})
    headers = {} if header is None else {"Authorization": header}
    async with http.get(url(proxy.port, PATH), headers=headers) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith('Basic realm="')
        assert (await response.json())["error"] == "unauthorized"
    assert upstream.seen == []


@pytest.mark.parametrize("client", ["app", "someone-else"])
async def test_wrong_tokens_and_unknown_clients_are_401(
        proxy: RunningProxy, redis: Redis, upstream: Upstream, http: aiohttp.ClientSession,
        client: str) -> None:
    """A wrong token for a real client, or any token for an unknown one: 401."""
    await private(proxy, redis, upstream, {"app": new_token()})
    async with http.get(url(proxy.port, PATH),
                        headers={"Authorization": basic(client, new_token())}) as response:
        assert response.status == 401
    assert upstream.seen == []


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "aiohttp"])
async def test_caller_sent_address_headers_never_reach_the_model(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession, fast_path: bool) -> None:
    """X-Real-IP, True-Client-IP and kin from the caller are dropped; the model learns the
    caller's address from the proxy's X-Forwarded-For only."""
    proxy = await start_proxy(fast_path=fast_path)
    token = new_token()
    await private(proxy, redis, upstream, {"app": token})
    headers = {"Authorization": basic("app", token), "X-Real-IP": "10.6.6.6",
               "True-Client-IP": "10.6.6.6", "x_real_ip": "10.6.6.6",
               "X-Client-IP": "10.6.6.6"}
    async with http.get(url(proxy.port, PATH), headers=headers) as response:
        seen = await response.json()
    assert not any("10.6.6.6" in value for _, value in seen["headers"])
    forwarded_for = [value for name, value in seen["headers"]
                     if name.lower() == "x-forwarded-for"]
    assert forwarded_for == ["127.0.0.1"]


async def test_spoofed_identity_headers_are_stripped_in_every_spelling(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """Caller-sent X-Forwarded-User in any case, with - or _, never reaches the model."""
    token = new_token()
    await private(proxy, redis, upstream, {"app": token})
    headers: CIMultiDict[str] = CIMultiDict({"Authorization": basic("app", token)})
    for spelling in ("X-Forwarded-User", "x_forwarded_user", "X_FORWARDED-USER",
                     "x-Forwarded_User"):
        headers.add(spelling, "admin")
    headers.add("Connection", "keep-alive, X-Internal-Hop")
    headers.add("X-Internal-Hop", "admin")
    async with http.get(url(proxy.port, PATH), headers=headers) as response:
        seen = await response.json()
    assert not any(value == "admin" for _, value in seen["headers"])
    normalised = [name.lower().replace("_", "-") for name, _ in seen["headers"]]
    assert normalised.count("x-forwarded-user") == 1


async def test_concurrent_first_requests_share_one_verification(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """Twenty simultaneous cold requests with one token cost one hash, later ones none."""
    token = new_token()
    await private(proxy, redis, upstream, {"app": token})
    before = verified(proxy)

    async def call() -> int:
        async with http.get(url(proxy.port, PATH),
                            headers={"Authorization": basic("app", token)}) as response:
            return response.status

    assert await asyncio.gather(*(call() for _ in range(20))) == [200] * 20
    assert verified(proxy) == before + 1
    assert await call() == 200
    assert verified(proxy) == before + 1
    assert proxy.app[METRICS].value("proxy_credential_cache_total", {"result": "hit"}) >= 1


async def test_legacy_apr1_hash_is_accepted_and_its_upgrade_recorded(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """A migrated PrimeHub $apr1$ hash works and a replacement is queued for the controller."""
    token = new_token()
    legacy = CONTEXT.handler("apr_md5_crypt").hash(token)
    route = await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE)
    await publish_deployment(redis, route=route, credentials={"app": legacy})
    async with http.get(url(proxy.port, PATH),
                        headers={"Authorization": basic("app", token)}) as response:
        assert response.status == 200
    [upgrade] = await pending_hash_upgrades(redis)
    assert (upgrade.deployment_id, upgrade.client, upgrade.old_hash) == (
        "iris-abc12", "app", legacy)
    assert not upgrade.new_hash.startswith("$apr1$")
    assert CONTEXT.verify(token, upgrade.new_hash)


async def test_an_unverifiable_stored_hash_fails_closed(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """A corrupt or unknown hash in Redis means 503, never a pass."""
    route = await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE)
    await publish_deployment(redis, route=route, credentials={"app": "not-a-hash"})
    async with http.get(url(proxy.port, PATH),
                        headers={"Authorization": basic("app", new_token())}) as response:
        assert response.status == 503
        assert (await response.json())["error"] == "auth_unavailable"
    assert upstream.seen == []


async def test_an_expired_token_is_refused_at_its_expiry_though_cached(
        proxy: RunningProxy, redis: Redis, upstream: Upstream, http: aiohttp.ClientSession,
        caplog: pytest.LogCaptureFixture) -> None:
    """A cached token stops working at its expiry: 401, access line refused=expired."""
    token = new_token()
    expires = time.time() + 6
    route = Route(deployment_id="iris-abc12", host=upstream.host, port=upstream.port,
                  access=Access.PRIVATE, stopped=False, ready=True)
    await publish_deployment(redis, route=route, credentials={"app": encode_credential(
        (CredentialKey(CONTEXT.hash(token), expires),))})
    await eventually(lambda: proxy.app[ROUTES].get("iris-abc12") == route)
    headers = {"Authorization": basic("app", token)}
    async with http.get(url(proxy.port, PATH), headers=headers) as response:
        assert response.status == 200  # verified now, and cached
    await asyncio.sleep(max(0.0, expires - time.time()))
    caplog.set_level(logging.INFO, logger="proxy.access")
    async with http.get(url(proxy.port, PATH), headers=headers) as response:
        assert response.status == 401
        assert (await response.json())["message"] == "the client token has expired"
    async with http.get(url(proxy.port, PATH),
                        headers={"Authorization": basic("app", new_token())}) as response:
        assert response.status == 401  # a wrong token learns nothing about expiry
        assert "expired" not in (await response.json())["message"]
    lines = [r.fields for r in caplog.records if r.name == "proxy.access"]  # type: ignore[attr-defined]
    assert [(line["status"], line.get("refused")) for line in lines] == [
        (401, "expired"), (401, None)]
    assert len(upstream.seen) == 1


async def test_after_a_rotation_both_tokens_work_until_the_overlap_ends(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """A credential with the new hash and the old one (ending soon): both pass, then the old
    one is refused as expired while the new one still passes."""
    old, new = new_token(), new_token()
    overlap_ends = time.time() + 4
    route = Route(deployment_id="iris-abc12", host=upstream.host, port=upstream.port,
                  access=Access.PRIVATE, stopped=False, ready=True)
    await publish_deployment(redis, route=route, credentials={"app": encode_credential(
        (CredentialKey(CONTEXT.hash(new)), CredentialKey(CONTEXT.hash(old), overlap_ends)))})
    await eventually(lambda: proxy.app[ROUTES].get("iris-abc12") == route)

    async def status(token: str) -> int:
        async with http.get(url(proxy.port, PATH),
                            headers={"Authorization": basic("app", token)}) as response:
            return response.status

    assert (await status(old), await status(new)) == (200, 200)
    await asyncio.sleep(max(0.0, overlap_ends - time.time()))
    assert (await status(old), await status(new)) == (401, 200)
