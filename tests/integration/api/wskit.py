"""A graphql-transport-ws client on aiohttp's WebSocket: what ``graphql-ws`` does in the
browser, message for message (connection_init, ack, subscribe, next/error/complete, pings)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from apikit import Api

PROTOCOL = "graphql-transport-ws"
WAIT = 10.0  # seconds a test waits for one message (a bound, not a measurement)


@dataclass
class Socket:
    ws: aiohttp.ClientWebSocketResponse

    async def subscribe(self, key: str, query: str,
                        variables: dict[str, Any] | None = None) -> None:
        await self.ws.send_json({"id": key, "type": "subscribe",
                                 "payload": {"query": query, "variables": variables or {}}})

    async def receive(self) -> dict[str, Any]:
        """The next message that is not a ping (pings are answered, as graphql-ws does)."""
        while True:
            message = await self.ws.receive(timeout=WAIT)
            assert message.type == aiohttp.WSMsgType.TEXT, message
            data: dict[str, Any] = json.loads(message.data)
            if data["type"] == "ping":
                await self.ws.send_json({"type": "pong"})
                continue
            if data["type"] != "pong":
                return data

    async def next(self, key: str) -> dict[str, Any]:
        """The ``data`` of the next result for subscription ``key``; fails on anything else."""
        message = await self.receive()
        assert (message["type"], message.get("id")) == ("next", key), message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data


@contextlib.asynccontextmanager
async def connected(api: Api, *, token: str | None = None,
                    headers: dict[str, str] | None = None) -> AsyncIterator[Socket]:
    """An acknowledged graphql-transport-ws connection to the API's ``/graphql``."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    async with api.session.ws_connect(f"{api.url.replace('http', 'ws', 1)}/graphql",
                                      protocols=(PROTOCOL,), headers=sent) as ws:
        assert ws.protocol == PROTOCOL
        await ws.send_json({"type": "connection_init"})
        socket = Socket(ws)
        assert (await socket.receive())["type"] == "connection_ack"
        yield socket
