"""Refusal streaks of client tokens: one audit record per streak, in the log and the window,
and nothing for a request that passes."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from typing import Any

import aiohttp
import pytest
from proxykit import CONTEXT, StartProxy, Upstream, basic, eventually, new_token, routed, url
from redis.asyncio import Redis

from proxy.audit import decode
from proxy.records import AUDIT_STREAM_KEY, Access, CredentialKey, clients_key, encode_credential
from proxy.serving import RunningProxy

PATH = "/deployment/iris-abc12/api/v1.0/predictions"
A, B = "203.0.113.10", "198.51.100.20"


async def call(http: aiohttp.ClientSession, proxy: RunningProxy, client: str, token: str,
               address: str) -> int:
    headers = {"Authorization": basic(client, token), "X-Forwarded-For": address,
               "X-Request-Id": f"req-{client}-{address}-{time.monotonic_ns()}"}
    async with http.get(url(proxy.port, PATH), headers=headers) as response:
        await response.read()
        return response.status


async def window(redis: Redis) -> list[dict[str, Any]]:
    """The records in the audit window, oldest first, as the log line's fields name them."""
    entries = await redis.xrange(AUDIT_STREAM_KEY)
    return [asdict(decode(fields["r"])) for _, fields in entries]


@pytest.fixture
async def proxy(start_proxy: StartProxy, redis: Redis, upstream: Upstream) -> RunningProxy:
    """A proxy behind one trusted hop, with low limits, in front of a private deployment."""
    running = await start_proxy(trusted_hops=1, failed_login_window=60, failed_login_limit=3,
                                failed_login_address_limit=5)
    await routed(running, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients={"app": new_token(), "other": new_token()})
    return running


async def test_a_pair_lockout_is_one_record_however_long_it_lasts(
        proxy: RunningProxy, redis: Redis, http: aiohttp.ClientSession,
        caplog: pytest.LogCaptureFixture) -> None:
    """The failure that reaches the pair limit writes the one record (log line and window);
    the 429s that follow and failures below the limit write none."""
    caplog.set_level(logging.INFO, logger="model_gateway.audit")
    guesses = [new_token() for _ in range(8)]
    statuses = [await call(http, proxy, "app", guess, A) for guess in guesses]
    assert statuses == [401] * 3 + [429] * 5
    assert await call(http, proxy, "other", new_token(), B) == 401

    async def recorded() -> bool:
        return len(await window(redis)) >= 1

    await eventually(recorded)
    (record,) = await window(redis)
    assert record | {"id": "", "time": 0, "request_id": ""} == {
        "id": "", "time": 0, "component": "proxy", "actor": "app", "token_id": None,
        "action": "refusedClientToken", "target": "deployment/iris-abc12/client/app",
        "outcome": "LOCKED_OUT", "request_id": "", "address": A, "group": None,
        "reason": None}
    assert record["request_id"].startswith(f"req-app-{A}-")
    lines = [line.fields for line in caplog.records  # type: ignore[attr-defined]
             if line.name == "model_gateway.audit"]
    assert [line["audit_id"] for line in lines] == [record["id"]]
    text = caplog.text + repr(await redis.xrange(AUDIT_STREAM_KEY))
    assert not [guess for guess in guesses if guess in text]


async def test_an_address_lockout_is_one_record_for_the_address(
        proxy: RunningProxy, redis: Redis, http: aiohttp.ClientSession) -> None:
    """Failures of several clients from one address reaching the address limit: one
    lockedOutAddress record naming the address (and no pair lockout below its limit)."""
    for client in ("app", "other", "app", "other", "app"):
        assert await call(http, proxy, client, new_token(), A) == 401
    assert await call(http, proxy, "other", new_token(), A) == 429

    async def recorded() -> bool:
        return len(await window(redis)) >= 2

    await eventually(recorded)
    assert [(item["action"], item["target"], item["outcome"])
            for item in await window(redis)] == [
        ("refusedClientToken", "deployment/iris-abc12/client/app", "LOCKED_OUT"),
        ("lockedOutAddress", f"address/{A}", "LOCKED_OUT")]


async def test_an_expired_token_sent_again_and_again_is_one_record_per_address(
        proxy: RunningProxy, redis: Redis, http: aiohttp.ClientSession) -> None:
    """Expired refusals count no failures; their streak is one EXPIRED record per
    (client, address), however often the token is sent."""
    token = new_token()
    await redis.hset(clients_key("iris-abc12"), "app", encode_credential(
        (CredentialKey(CONTEXT.hash(token), time.time() - 5),)))
    for address in (A, A, A, A, A, B, B):
        assert await call(http, proxy, "app", token, address) == 401

    async def recorded() -> bool:
        return len(await window(redis)) >= 2

    await eventually(recorded)
    found = await window(redis)
    assert [(item["outcome"], item["address"]) for item in found] == [
        ("EXPIRED", A), ("EXPIRED", B)]
    assert {item["target"] for item in found} == {"deployment/iris-abc12/client/app"}
    assert token not in repr(found)


async def test_a_passing_request_writes_nothing_for_the_audit_trail(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """Requests that pass (verified, then cached) send Redis no audit or streak command."""
    token = new_token()
    proxy = await start_proxy(trusted_hops=1)
    await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients={"app": token})

    async def writes() -> dict[str, int]:
        stats = await redis.info("commandstats")
        return {name: int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))
                for name in ("xadd", "xtrim", "expire", "incr")}

    before = await writes()
    for _ in range(20):
        assert await call(http, proxy, "app", token, A) == 200
    assert await writes() == before
    assert await redis.exists(AUDIT_STREAM_KEY) == 0
