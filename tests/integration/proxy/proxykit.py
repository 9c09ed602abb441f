"""Test kit for the proxy's integration tests: a real model-server stand-in and small helpers.

:class:`Upstream` is an aiohttp server playing a model: it echoes what it received (method,
path, query, raw headers, body size and digest), streams large bodies, mirrors an upload back
while still reading it, hangs on request, answers any status, and echoes WebSocket messages.
:class:`ResettingUpstream` accepts a request and resets the connection.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web
from redis.asyncio import Redis
from yarl import URL

from proxy.app import ROUTES
from proxy.hashing import make_context
from proxy.publishing import publish_deployment
from proxy.records import Access, Route
from proxy.records import Upstream as Predictor
from proxy.serving import RunningProxy

StartProxy = Callable[..., Awaitable[RunningProxy]]

CHUNK = 64 * 1024
CONTEXT = make_context()


def new_token() -> str:
    """A client token shaped like the API's: short prefix, 256 random bits."""
    return f"mgc_{secrets.token_urlsafe(32)}"


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool],
                     within: float = 5.0, interval: float = 0.01) -> float:
    """Poll ``check`` until it is true; fail after ``within`` s. Returns the seconds it took."""
    started = time.monotonic()
    while True:
        outcome = check()
        if not isinstance(outcome, bool):
            outcome = await outcome
        if outcome:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(interval)


async def publish(redis: Redis, deployment_id: str, upstream: tuple[str, int], *,
                  access: Access = Access.PUBLIC, stopped: bool = False, ready: bool = True,
                  clients: dict[str, str] | None = None,
                  predictors: tuple[Predictor, ...] = (), sticky: bool = False) -> Route:
    """Publish a route (and plain-token clients, hashed here) as the controller would.

    ``upstream`` is the primary's address; ``predictors``, if given, lists it first.
    """
    route = Route(deployment_id=deployment_id, host=upstream[0], port=upstream[1],
                  access=access, stopped=stopped, ready=ready, predictors=predictors,
                  sticky=sticky)
    hashes = {name: CONTEXT.hash(token) for name, token in (clients or {}).items()}
    await publish_deployment(redis, route=route, credentials=hashes)
    return route


async def routed(proxy: RunningProxy, redis: Redis, deployment_id: str,
                 address: tuple[str, int], *, access: Access = Access.PUBLIC,
                 stopped: bool = False, ready: bool = True,
                 clients: dict[str, str] | None = None,
                 predictors: tuple[Predictor, ...] = (), sticky: bool = False) -> Route:
    """Publish a route and wait until ``proxy`` has it (pub/sub is asynchronous)."""
    route = await publish(redis, deployment_id, address, access=access, stopped=stopped,
                          ready=ready, clients=clients, predictors=predictors, sticky=sticky)
    await eventually(lambda: proxy.app[ROUTES].get(deployment_id) == route)
    return route


class Upstream:
    """A model-server stand-in on a loopback address."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.seen: list[dict[str, Any]] = []
        self.release = asyncio.Event()
        self.hanging = 0
        self.sockets = 0  # WebSocket handshakes accepted
        self._runner: web.AppRunner | None = None

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def predictor(self, name: str, weight: int, *, ready: bool = True) -> Predictor:
        """This server as a predictor of a route."""
        return Predictor(name, self.host, self.port, weight, ready=ready)

    async def start(self) -> Upstream:
        app = web.Application(client_max_size=0)
        app.router.add_route("*", "/bytes/{size}", self._bytes)
        app.router.add_route("*", "/mirror", self._mirror)
        app.router.add_route("*", "/hang", self._hang)
        app.router.add_route("*", "/status/{code}", self._status)
        app.router.add_get("/ws", self._websocket)
        app.router.add_route("*", "/{tail:.*}", self._echo)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _echo(self, request: web.Request) -> web.Response:
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.content.iter_chunked(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        seen = {
            "method": request.method, "path": request.path, "raw_path": request.raw_path,
            "query": request.query_string,
            "headers": [[name.decode("latin-1"), value.decode("latin-1")]
                        for name, value in request.raw_headers],
            "body_bytes": size, "body_sha256": digest.hexdigest(),
        }
        self.seen.append(seen)
        return web.json_response(seen, headers={"X-Upstream": "echo"})

    async def _bytes(self, request: web.Request) -> web.StreamResponse:
        remaining = int(request.match_info["size"])
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        block = b"x" * CHUNK
        while remaining > 0:
            await response.write(block[:remaining])
            remaining -= CHUNK
        await response.write_eof()
        return response

    async def _mirror(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        async for chunk in request.content.iter_chunked(CHUNK):
            await response.write(chunk)
        await response.write_eof()
        return response

    async def _hang(self, request: web.Request) -> web.Response:
        self.hanging += 1
        await self.release.wait()
        return web.json_response({"released": True})

    async def _status(self, request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        return web.Response(status=code, text="" if code in (204, 304) else f"status {code}")

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("echo.v1",))
        await ws.prepare(request)
        self.sockets += 1
        await ws.send_json({"x_forwarded_user": request.headers.getall("X-Forwarded-User", []),
                            "authorization": request.headers.get("Authorization")})
        async for message in ws:
            if message.type is WSMsgType.TEXT:
                await ws.send_str(f"echo:{message.data}")
            elif message.type is WSMsgType.BINARY:
                await ws.send_bytes(message.data[::-1])
        return ws


class ResettingUpstream:
    """Reads the start of a request, then resets the connection (RST, not FIN)."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> ResettingUpstream:
        async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readline()
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()

        self._server = await asyncio.start_server(reset, self.host, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


def url(proxy_port: int, path: str) -> URL:
    """The proxy URL for ``path``, sent byte for byte (no client-side normalisation)."""
    return URL(f"http://127.0.0.1:{proxy_port}{path}", encoded=True)


def basic(client: str, token: str) -> str:
    """An Authorization header value, built by hand so tests control every byte."""
    return "Basic " + base64.b64encode(f"{client}:{token}".encode()).decode()
