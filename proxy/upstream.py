"""The upstream HTTP/1.1 client: pooled keep-alive connections parsed with httptools.

Why not ``aiohttp.ClientSession`` here: measured on the benchmark machine, aiohttp's server
alone answered 32,600 requests/s on one core, but a bare proxy built from that server and
aiohttp's client only 7,100: the client (request and response objects, timers, tracing hooks)
is most of the cost, and that is no better than nginx checking APR1. This protocol writes a
prebuilt head and feeds the answer to llhttp (through httptools), and nothing else. aiohttp's
client is still used for WebSockets (:mod:`proxy.websockets`), which are not request-bound.

Behaviour:

- One pool per process, idle connections kept per ``(host, port)``, newest first, dropped after
  ``idle_timeout`` (set it below the model servers' keep-alive, so a reused connection is not
  one the server is closing) or beyond ``max_idle`` per upstream.
- The request body is sent by its own task while the response is read, so an upstream that
  answers while still reading (an echo streaming 50 MiB back) cannot deadlock against us.
  Both directions are flow-controlled: writes wait for the transport to drain, and reading
  from the upstream pauses while more than :data:`HIGH_WATER` bytes wait for the caller.
- A request that failed before any response byte, on a reused connection, is retried once on
  a new one when the caller says it is replayable (an idempotent method with no streamed body).
- Errors: :class:`UpstreamUnreachable` (connect failed), :class:`UpstreamFailed` (closed, reset
  or malformed), :class:`UpstreamTimeout` (connect or read timeout); a failure of the request
  body's source is re-raised as is, so the caller can answer 413 or 400.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable
from typing import Final, cast

import httptools

HIGH_WATER: Final = 256 * 1024
LOW_WATER: Final = 64 * 1024

Key = tuple[str, int]


class UpstreamError(Exception):
    """The upstream could not give a complete answer."""


class UpstreamUnreachable(UpstreamError):
    """No connection could be made (refused, no route)."""


class UpstreamFailed(UpstreamError):
    """The connection was closed or reset, or the response was not valid HTTP."""


class UpstreamTimeout(UpstreamError):
    """Connecting, or waiting for the next byte of the response, took too long."""


class UpstreamResponse:
    """One response: status and headers at once, the body as a stream of chunks."""

    def __init__(self, connection: _Connection, *, read_timeout: float, head_only: bool) -> None:
        self._connection = connection
        self._read_timeout = read_timeout
        self.head_only = head_only
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._headers_ready: asyncio.Future[None] = loop.create_future()
        self.status = 0
        self.reason = ""
        self.headers: list[tuple[bytes, bytes]] = []
        self.content_length: int | None = None
        self.keep_alive = False
        self.started = False
        self.complete = False
        self._error: BaseException | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._sender: asyncio.Task[None] | None = None

    async def wait_headers(self) -> None:
        connection = self._connection
        connection.watch(self, self._read_timeout, "no response headers")
        try:
            await self._headers_ready
        finally:
            connection.unwatch()

    def _time_out(self, what: str) -> None:
        self._fail(UpstreamTimeout(what))
        self._connection.abort()

    @property
    def body(self) -> bytes | None:
        """The whole body if it has already arrived, else ``None`` (stream it with read)."""
        if not self.complete or self._error is not None:
            return None
        return b"".join(self._chunks)

    async def read(self) -> bytes:
        """The next chunk of the body; ``b""`` once it is complete."""
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self.complete:
                return b""
            self._waiter = self._loop.create_future()
            self._connection.watch(self, self._read_timeout, "upstream stopped sending")
            try:
                await self._waiter
            finally:
                self._connection.unwatch()
                self._waiter = None
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        if self._buffered < LOW_WATER:
            self._connection.resume_reading()
        return chunk

    def release(self) -> None:
        """Give the connection back to the pool if it is clean, else close it."""
        sender = self._sender
        sender_done = sender is None or (sender.done() and not sender.cancelled()
                                         and sender.exception() is None)
        if sender is not None and not sender.done():
            sender.cancel()
        if self.complete and self._error is None and self.keep_alive and sender_done:
            self._connection.finished()
        else:
            self._connection.abort()

    # Called by the connection.

    def _headers_complete(self, status: int, reason: str, headers: list[tuple[bytes, bytes]],
                          keep_alive: bool) -> None:
        self.status, self.reason, self.headers, self.keep_alive = (
            status, reason, headers, keep_alive)
        for name, value in headers:
            if name.lower() == b"content-length" and value.strip().isdigit():
                self.content_length = int(value)
        if not self._headers_ready.done():
            self._headers_ready.set_result(None)

    def _feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > HIGH_WATER:
            self._connection.pause_reading()
        self._wake()

    def _finish(self) -> None:
        self.complete = True
        self._wake()

    def _fail(self, error: BaseException) -> None:
        if self.complete or self._error is not None:
            return
        self._error = error
        if not self._headers_ready.done():
            self._headers_ready.set_exception(error)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: at most one exchange at a time, each with a fresh parser."""

    def __init__(self, pool: UpstreamPool, key: Key) -> None:
        self._pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._response: UpstreamResponse | None = None
        self._parser: httptools.HttpResponseParser | None = None
        # One parser for the connection's life: llhttp starts over after each complete
        # message, and a connection is reused only after one.
        self._reusable_parser = httptools.HttpResponseParser(self)
        self._loop = asyncio.get_running_loop()
        self._watched: UpstreamResponse | None = None
        self._deadline = 0.0
        self._what = ""
        self._timer: asyncio.TimerHandle | None = None
        self._interim = False
        self._reason = ""
        self._headers: list[tuple[bytes, bytes]] = []
        self._reading_paused = False
        self._drain: asyncio.Future[None] | None = None
        self._writing_paused = False

    def begin(self, *, read_timeout: float, head_only: bool) -> UpstreamResponse:
        self._response = UpstreamResponse(self, read_timeout=read_timeout, head_only=head_only)
        self._parser = self._reusable_parser
        self._interim = False
        self._headers = []
        return self._response

    def write(self, data: bytes) -> None:
        if self.transport is None or self.closed:
            raise UpstreamFailed("connection closed")
        self.transport.write(data)

    async def send_body(self, body: AsyncIterable[bytes], *, chunked: bool) -> None:
        try:
            async for chunk in body:
                if not chunk:
                    continue
                self.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
                if self._writing_paused:
                    self._drain = asyncio.get_running_loop().create_future()
                    await self._drain
            if chunked:
                self.write(b"0\r\n\r\n")
        except BaseException as error:
            if self._response is not None:
                self._response._fail(error)
            self.abort()
            raise

    def finished(self) -> None:
        self._response = None
        self._parser = None
        self._pool._put(self)

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def watch(self, response: UpstreamResponse, timeout: float, what: str) -> None:
        """Time ``response`` out after ``timeout`` s unless :meth:`unwatch` comes first.

        One timer serves all the exchanges of the connection, moved forward only when it
        fires early: a timer made and cancelled per request showed in the profile.
        """
        self._watched, self._what = response, what
        self._deadline = self._loop.time() + timeout
        if self._timer is None:
            self._timer = self._loop.call_at(self._deadline, self._check_deadline)

    def unwatch(self) -> None:
        self._watched = None

    def _check_deadline(self) -> None:
        self._timer = None
        response = self._watched
        if response is None or self.closed:
            return
        if self._loop.time() >= self._deadline:
            self._watched = None
            response._time_out(self._what)
        else:
            self._timer = self._loop.call_at(self._deadline, self._check_deadline)

    def pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None and not self.closed:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._reading_paused and self.transport is not None and not self.closed:
            self._reading_paused = False
            self.transport.resume_reading()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # create_connection gives a stream

    def data_received(self, data: bytes) -> None:
        parser, response = self._parser, self._response
        if parser is None or response is None:
            self.abort()  # bytes nobody asked for: the connection is out of step
            return
        response.started = True
        try:
            parser.feed_data(data)
        except httptools.HttpParserError as error:
            response._fail(UpstreamFailed(f"malformed response: {error}"))
            self.abort()

    def eof_received(self) -> bool | None:
        return None  # let the transport close; connection_lost settles the exchange

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._drain is not None and not self._drain.done():
            self._drain.set_exception(UpstreamFailed("connection closed while sending"))
        response = self._response
        if response is None or response.complete:
            return
        delimited_by_close = (
            response._headers_ready.done() and response.content_length is None
            and not any(name.lower() == b"transfer-encoding" for name, _ in response.headers))
        if delimited_by_close and not response.head_only:
            response.keep_alive = False
            response._finish()
        else:
            response._fail(UpstreamFailed("connection closed before the response was complete"))

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    # httptools callbacks

    def on_status(self, status: bytes) -> None:
        self._reason = status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser, response = self._parser, self._response
        if parser is None or response is None:
            return
        status = parser.get_status_code()
        if 100 <= status < 200:
            self._interim = True  # 100 Continue and friends: wait for the real answer
            self._headers = []
            return
        response._headers_complete(status, self._reason, self._headers,
                                   parser.should_keep_alive())
        if response.head_only:
            response.keep_alive = False  # llhttp would expect a body: do not reuse
            response._finish()

    def on_body(self, body: bytes) -> None:
        if self._response is not None and not self._response.head_only:
            self._response._feed(body)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        if self._response is not None:
            self._response._finish()


class UpstreamPool:
    """Keep-alive connections to every upstream, shared by all requests of one process."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, idle_timeout: float,
                 max_idle: int) -> None:
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._idle_timeout = idle_timeout
        self._max_idle = max_idle
        self._idle: dict[Key, list[_Connection]] = {}
        self._closing = False

    async def request(self, *, host: str, port: int, head: bytes,
                      body: bytes | AsyncIterable[bytes] | None = None, chunked: bool = False,
                      replayable: bool = False, head_only: bool = False) -> UpstreamResponse:
        """Send one request and return once the response headers are in.

        ``body`` is bytes (sent with the head) or an async iterable (sent by a task while the
        response is read; framed as chunks when ``chunked``). Call ``release()`` on the result.
        """
        key = (host, port)
        attempt = 0
        while True:
            connection = self._take_idle(key)
            reused = connection is not None
            if connection is None:
                connection = await self._connect(key)
            response = connection.begin(read_timeout=self._read_timeout, head_only=head_only)
            try:
                if body is None or isinstance(body, bytes):
                    connection.write(head + body if body else head)
                else:
                    connection.write(head)
                    response._sender = asyncio.create_task(
                        connection.send_body(body, chunked=chunked))
                await response.wait_headers()
            except UpstreamFailed:
                response.release()
                if reused and replayable and not response.started and attempt == 0:
                    attempt += 1
                    continue
                raise
            except BaseException:
                response.release()
                raise
            return response

    async def close(self) -> None:
        """Close idle connections; connections in use close when their exchange ends."""
        self._closing = True
        for connections in self._idle.values():
            for connection in connections:
                connection.abort()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports run their close callbacks

    def idle_count(self) -> int:
        return sum(len(connections) for connections in self._idle.values())

    def _take_idle(self, key: Key) -> _Connection | None:
        connections = self._idle.get(key)
        if not connections:
            return None
        deadline = asyncio.get_running_loop().time() - self._idle_timeout
        while connections:
            connection = connections.pop()
            if not connection.closed and connection.idle_since > deadline:
                return connection
            connection.abort()
        return None

    def _put(self, connection: _Connection) -> None:
        connections = self._idle.setdefault(connection.key, [])
        if connection.closed or self._closing or len(connections) >= self._max_idle:
            connection.abort()
            return
        now = asyncio.get_running_loop().time()
        connection.idle_since = now
        connections.append(connection)
        # The oldest idle connection sits first: drop it once it has idled too long.
        if connections[0].idle_since < now - self._idle_timeout or connections[0].closed:
            connections.pop(0).abort()

    async def _connect(self, key: Key) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self, key), key[0], key[1])
        except TimeoutError as error:
            raise UpstreamTimeout(f"connecting to {key[0]}:{key[1]} timed out") from error
        except OSError as error:
            raise UpstreamUnreachable(f"cannot connect to {key[0]}:{key[1]}") from error
        return connection

