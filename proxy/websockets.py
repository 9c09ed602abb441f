"""WebSocket passthrough: the caller's socket relayed message by message to the upstream's.

aiohttp's client makes the upstream handshake (with the same filtered and added headers as an
HTTP request, and the caller's subprotocols); only once it succeeds is the caller's handshake
accepted, with the subprotocol the upstream chose, so a refused upstream still gets a proper
HTTP error answer. Each direction is one task; when either side closes, the other is closed
with the same code. Open relays are tracked so a graceful shutdown can close them with 1001.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Final

import aiohttp
from aiohttp import WSMsgType, web
from yarl import URL

from proxy.headers import PREDICTOR_HEADER, Forwarding, websocket_headers
from proxy.problems import problem
from proxy.records import Upstream

_GOING_AWAY: Final = 1001


def is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


class WebSocketRelay:
    def __init__(self, *, session: aiohttp.ClientSession, connect_timeout: float) -> None:
        self._session = session
        self._connect_timeout = connect_timeout
        self._open: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()

    async def relay(self, request: web.Request, *, upstream: Upstream, target: str,
                    client: str | None, forwarding: Forwarding,
                    request_id: str) -> web.StreamResponse:
        url = URL(f"ws://{upstream.host}:{upstream.port}{target}", encoded=True)
        protocols = [item.strip() for item in
                     request.headers.get("Sec-WebSocket-Protocol", "").split(",") if item.strip()]
        headers = websocket_headers(raw_headers=request.raw_headers, client=client,
                                    forwarded=forwarding, request_id=request_id)
        named = ((PREDICTOR_HEADER, upstream.name),)
        try:
            remote = await self._session.ws_connect(
                url, protocols=protocols, headers=headers, autoping=True,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=self._connect_timeout))
        except aiohttp.WSServerHandshakeError:
            return problem(502, "upstream_refused_websocket",
                           "the deployment refused the WebSocket handshake",
                           headers=named).response()
        except (aiohttp.ClientError, OSError, TimeoutError):
            return problem(502, "upstream_unavailable",
                           "the deployment could not be reached", headers=named).response()
        downstream = web.WebSocketResponse(
            protocols=[remote.protocol] if remote.protocol else ())
        downstream.headers[PREDICTOR_HEADER] = upstream.name
        try:
            await downstream.prepare(request)
            self._open.add(downstream)
            await self._pump_both(downstream, remote)
        finally:
            await remote.close()
        return downstream

    async def close_all(self) -> None:
        """Close every relayed socket towards callers with 1001 (shutting down)."""
        await asyncio.gather(*(ws.close(code=_GOING_AWAY, message=b"proxy shutting down")
                               for ws in list(self._open)), return_exceptions=True)

    @staticmethod
    async def _pump_both(downstream: web.WebSocketResponse,
                         upstream: aiohttp.ClientWebSocketResponse) -> None:
        async def to_upstream() -> None:
            with contextlib.suppress(ConnectionError, aiohttp.ClientError):
                async for message in downstream:
                    if message.type is WSMsgType.TEXT:
                        await upstream.send_str(message.data)
                    elif message.type is WSMsgType.BINARY:
                        await upstream.send_bytes(message.data)
                await upstream.close(code=downstream.close_code or _GOING_AWAY)

        async def to_downstream() -> None:
            with contextlib.suppress(ConnectionError, aiohttp.ClientError):
                async for message in upstream:
                    if message.type is WSMsgType.TEXT:
                        await downstream.send_str(message.data)
                    elif message.type is WSMsgType.BINARY:
                        await downstream.send_bytes(message.data)
                await downstream.close(code=upstream.close_code or _GOING_AWAY)

        tasks = [asyncio.create_task(to_upstream()), asyncio.create_task(to_downstream())]
        try:
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                task.result()
        finally:
            for task in tasks:
                task.cancel()
