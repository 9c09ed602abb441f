"""Metrics on their own port, one structured access line per request, batched usage counters."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from proxykit import StartProxy, Upstream, basic, new_token, routed, url
from redis.asyncio import Redis

from proxy.records import USAGE_LAST_USED_FIELD, USAGE_REQUESTS_FIELD, Access, usage_key
from proxy.serving import RunningProxy

PATH = "/deployment/iris-abc12/api/v1.0/predictions"


async def test_metrics_port_reports_requests_latency_auth_and_cache(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """/metrics counts by deployment, predictor ("" if refused first), client, method, status."""
    token = new_token()
    await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients={"app": token})
    for _ in range(2):
        async with http.post(url(proxy.port, PATH), data=b"{}",
                             headers={"Authorization": basic("app", token)}) as response:
            assert response.status == 200
    async with http.request("PROPFIND", url(proxy.port, PATH)) as response:
        assert response.status == 401
    async with http.get(f"http://127.0.0.1:{proxy.metrics_port}/metrics") as response:
        text = await response.text()
    for line in (
        'proxy_requests_total{client="app",deployment="iris-abc12",method="POST",'
        'predictor="predictor1",status_class="2xx",worker="0"} 2.0',
        'proxy_requests_total{client="",deployment="iris-abc12",method="OTHER",predictor="",'
        'status_class="4xx",worker="0"} 1.0',
        'proxy_request_duration_seconds_count{deployment="iris-abc12",predictor="predictor1",'
        'worker="0"} 2.0',
        'proxy_request_duration_seconds_count{deployment="iris-abc12",predictor="",'
        'worker="0"} 1.0',
        'proxy_upstream_duration_seconds_count{deployment="iris-abc12",predictor="predictor1",'
        'worker="0"} 2.0',
        'proxy_auth_total{outcome="verified",worker="0"} 1.0',
        'proxy_auth_total{outcome="cached",worker="0"} 1.0',
        'proxy_auth_total{outcome="missing",worker="0"} 1.0',
        'proxy_credential_cache_total{result="hit",worker="0"} 1.0',
    ):
        assert line in text
    async with http.get(f"http://127.0.0.1:{proxy.metrics_port}/readyz") as response:
        assert response.status == 200


async def test_each_request_writes_one_access_line_without_secrets(
        proxy: RunningProxy, redis: Redis, upstream: Upstream, http: aiohttp.ClientSession,
        caplog: pytest.LogCaptureFixture) -> None:
    """The access line names request id, caller, deployment, predictor, client; never the token."""
    token = new_token()
    await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients={"app": token})
    caplog.set_level(logging.INFO, logger="proxy.access")
    async with http.get(url(proxy.port, PATH + "?api_key=query-secret"),
                        headers={"Authorization": basic("app", token),
                                 "X-Request-Id": "trace-0001-abcd"}) as response:
        assert response.headers["X-Request-Id"] == "trace-0001-abcd"
    [record] = [r for r in caplog.records if r.name == "proxy.access"]
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["request_id"] == "trace-0001-abcd"
    assert (fields["deployment"], fields["client"], fields["status"]) == ("iris-abc12", "app", 200)
    assert fields["predictor"] == "predictor1"
    assert fields["path"] == PATH
    assert fields["address"] == "127.0.0.1"
    assert fields["upstream_seconds"] <= fields["seconds"]
    assert token not in str(fields)
    assert "query-secret" not in str(fields)


async def test_usage_counters_are_written_in_batches(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """Requests only count in memory until a flush; then one write carries them all."""
    proxy = await start_proxy(usage_flush_interval=3600)
    token = new_token()
    await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients={"app": token})
    for _ in range(7):
        async with http.get(url(proxy.port, PATH),
                            headers={"Authorization": basic("app", token)}) as response:
            assert response.status == 200
    assert await redis.exists(usage_key("iris-abc12", "app")) == 0
    await proxy.stop()  # the last flush happens on the way out
    usage = await redis.hgetall(usage_key("iris-abc12", "app"))
    assert int(usage[USAGE_REQUESTS_FIELD]) == 7
    assert float(usage[USAGE_LAST_USED_FIELD]) > 0
