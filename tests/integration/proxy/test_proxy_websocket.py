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
