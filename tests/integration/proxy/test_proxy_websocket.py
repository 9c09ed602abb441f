"""WebSocket passthrough to a private deployment."""

from __future__ import annotations

import aiohttp
from proxykit import Upstream, basic, new_token, routed, url
from redis.asyncio import Redis

from proxy.records import Access
from proxy.serving import RunningProxy


async def test_websocket_echo_through_a_private_deployment(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """Text and binary frames go both ways; the model sees the client name, not the token."""
    token = new_token()
    await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients={"app": token})
    async with http.ws_connect(url(proxy.port, "/deployment/iris-abc12/ws"),
                               protocols=("echo.v1",),
                               headers={"Authorization": basic("app", token),
                                        "X-Forwarded-User": "admin"}) as ws:
        assert ws.protocol == "echo.v1"
        hello = await ws.receive_json()
        assert hello == {"x_forwarded_user": ["app"], "authorization": None}
        await ws.send_str("ping")
        assert await ws.receive_str() == "echo:ping"
        await ws.send_bytes(b"\x01\x02\x03")
        assert await ws.receive_bytes() == b"\x03\x02\x01"
        await ws.close()
    assert ws.close_code == 1000


async def test_websocket_without_credentials_is_refused(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """The handshake to a private deployment needs credentials like any request."""
    await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                 clients={"app": new_token()})
    async with http.get(url(proxy.port, "/deployment/iris-abc12/ws"),
                        headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                 "Sec-WebSocket-Version": "13",
                                 "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}) as response:
        assert response.status == 401


async def test_websocket_reaches_a_predictor_by_name_and_says_which(
        proxy: RunningProxy, redis: Redis, upstream: Upstream,
        http: aiohttp.ClientSession) -> None:
    """<id>@<predictor>/ws relays to that predictor; the handshake names it in X-Model-Predictor."""
    token = new_token()
    other = await Upstream().start()
    try:
        await routed(proxy, redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                     clients={"app": token},
                     predictors=(upstream.predictor("predictor1", 100),
                                 other.predictor("canary", 0)))
        for path, name in (("/deployment/iris-abc12/ws", "predictor1"),
                           ("/deployment/iris-abc12@canary/ws", "canary")):
            async with http.ws_connect(url(proxy.port, path), protocols=("echo.v1",),
                                       headers={"Authorization": basic("app", token)}) as ws:
                assert (await ws.receive_json())["x_forwarded_user"] == ["app"]
                await ws.send_str(name)
                assert await ws.receive_str() == f"echo:{name}"
            async with http.get(url(proxy.port, path), headers={
                    "Authorization": basic("app", token), "Upgrade": "websocket",
                    "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}) as response:
                assert response.status == 101
                assert response.headers["X-Model-Predictor"] == name
        assert (upstream.sockets, other.sockets) == (2, 2)
    finally:
        await other.stop()
