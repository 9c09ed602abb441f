"""Routing: paths and queries reach the right upstream; every error status is right and small."""

from __future__ import annotations

import aiohttp
import pytest
from proxykit import ResettingUpstream, StartProxy, Upstream, eventually, routed, url
from redis.asyncio import Redis
from redis_server import RedisServer, free_port

from proxy.app import ROUTES
from proxy.publishing import replace_everything
from proxy.serving import RunningProxy


async def assert_problem(response: aiohttp.ClientResponse, status: int, error: str) -> None:
    assert response.status == status
    assert response.headers["Content-Type"].startswith("application/json")
    body = await response.read()
    assert len(body) < 200
    assert b"127.0.0.1" not in body
    assert b"Traceback" not in body
    assert (await response.json())["error"] == error


async def test_path_and_query_reach_the_upstream_unchanged(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """/deployment/<id>/<rest>?q goes to /<rest>?q, percent-encoding and all."""
    await routed(proxy, redis, "iris-abc12", upstream.address)
    path = "/deployment/iris-abc12/api/v1.0/predictions?a=1&b=%2Fx%20y&a=2&empty="
    async with http.get(url(proxy.port, path)) as response:
        assert response.status == 200
        seen = await response.json()
    assert seen["raw_path"] == "/api/v1.0/predictions?a=1&b=%2Fx%20y&a=2&empty="
    assert seen["method"] == "GET"
    assert response.headers["X-Upstream"] == "echo"


async def test_bare_deployment_path_maps_to_root(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """/deployment/<id> and /deployment/<id>?q reach the upstream's /."""
    await routed(proxy, redis, "iris-abc12", upstream.address)
    async with http.get(url(proxy.port, "/deployment/iris-abc12?x=1")) as response:
        assert (await response.json())["raw_path"] == "/?x=1"


async def test_request_bodies_and_methods_pass(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """POST/PUT bodies arrive whole with their length; HEAD gets headers and no body."""
    await routed(proxy, redis, "iris-abc12", upstream.address)
    target = url(proxy.port, "/deployment/iris-abc12/api/v1.0/predictions")
    async with http.post(target, json={"data": {"ndarray": [[1, 2, 3, 4]]}}) as response:
        seen = await response.json()
    assert seen["body_bytes"] == len(b'{"data": {"ndarray": [[1, 2, 3, 4]]}}')
    assert ["Content-Length", str(seen["body_bytes"])] in seen["headers"]
    async with http.put(target, data=b"x" * 200_000) as response:
        assert (await response.json())["body_bytes"] == 200_000
    async with http.head(target) as response:
        assert response.status == 200
        assert await response.read() == b""


async def test_upstream_statuses_and_headers_are_relayed(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """The model's own status codes come back as they are, 204 without a body."""
    await routed(proxy, redis, "iris-abc12", upstream.address)
    for code in (201, 204, 404, 500, 503):
        async with http.get(url(proxy.port, f"/deployment/iris-abc12/status/{code}")) as response:
            assert response.status == code
            assert await response.read() == (b"" if code == 204 else f"status {code}".encode())
            assert len(response.headers["X-Request-Id"]) == 32


async def test_unknown_deployment_and_foreign_paths_are_404(
        proxy: RunningProxy, http: aiohttp.ClientSession) -> None:
    """An id with no route, and any path outside /deployment/, get a JSON 404."""
    async with http.get(url(proxy.port, "/deployment/nope-12345/x")) as response:
        await assert_problem(response, 404, "deployment_not_found")
    async with http.get(url(proxy.port, "/admin")) as response:
        await assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(("stopped", "ready", "error"), [
    (True, True, "deployment_stopped"),
    (False, False, "deployment_not_ready"),
])
async def test_stopped_or_unready_deployments_are_503_with_retry_after(
        proxy: RunningProxy, redis: Redis, upstream: Upstream, http: aiohttp.ClientSession,
        stopped: bool, ready: bool, error: str) -> None:
    """A stopped deployment or one without ready pods answers 503 and Retry-After."""
    await routed(proxy, redis, "iris-abc12", upstream.address, stopped=stopped, ready=ready)
    async with http.get(url(proxy.port, "/deployment/iris-abc12/x")) as response:
        await assert_problem(response, 503, error)
        assert int(response.headers["Retry-After"]) > 0
    assert upstream.seen == []


async def test_refused_upstream_is_502(
        proxy: RunningProxy, redis: Redis, http: aiohttp.ClientSession) -> None:
    """Nothing listening at the Service address: 502."""
    await routed(proxy, redis, "iris-abc12", ("127.0.0.1", free_port()))
    async with http.get(url(proxy.port, "/deployment/iris-abc12/x")) as response:
        await assert_problem(response, 502, "upstream_unavailable")


async def test_reset_upstream_is_502(
        proxy: RunningProxy, redis: Redis, http: aiohttp.ClientSession) -> None:
    """An upstream that resets the connection mid-request: 502."""
    resetting = await ResettingUpstream().start()
    try:
        await routed(proxy, redis, "iris-abc12", (resetting.host, resetting.port))
        async with http.post(url(proxy.port, "/deployment/iris-abc12/x"),
                             data=b"{}") as response:
            await assert_problem(response, 502, "upstream_unavailable")
    finally:
        await resetting.stop()


async def test_slow_upstream_is_504(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """No response headers within the read timeout: 504."""
    proxy = await start_proxy(read_timeout=0.3)
    await routed(proxy, redis, "iris-abc12", upstream.address)
    async with http.get(url(proxy.port, "/deployment/iris-abc12/hang")) as response:
        await assert_problem(response, 504, "upstream_timeout")


async def test_routes_not_yet_loaded_is_503_not_404(
        start_proxy: StartProxy, redis_server: RedisServer,
        http: aiohttp.ClientSession) -> None:
    """Started while Redis is down, the proxy cannot know any route: 503, not 404; nor while
    the Redis it finds has no data plane yet (no epoch); 404 once a resync published one."""
    redis_server.stop()
    proxy = await start_proxy(wait_loaded=False)
    async with http.get(url(proxy.port, "/deployment/iris-abc12/x")) as response:
        await assert_problem(response, 503, "not_ready")
    redis_server.start()
    await eventually(lambda: proxy.app[ROUTES].loaded)
    async with http.get(url(proxy.port, "/deployment/iris-abc12/x")) as response:
        await assert_problem(response, 503, "data_plane_incomplete")
    async with Redis.from_url(redis_server.url) as redis:
        await replace_everything(redis, deployments=[], epoch="test")
    await eventually(lambda: proxy.app[ROUTES].complete)
    async with http.get(url(proxy.port, "/deployment/iris-abc12/x")) as response:
        await assert_problem(response, 404, "deployment_not_found")
