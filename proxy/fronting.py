"""The fast path: plain HTTP/1.1 requests served by an asyncio protocol on httptools.

Why: profiled under the proxy benchmark, aiohttp's per-request machinery (request and response
objects, router, payload writer, header multidicts) was the largest cost of a proxied request
once credentials are cached (``benchmarks/proxy/profile-before.md``). This protocol parses the
head with llhttp (through httptools, as :mod:`proxy.upstream` does for answers), calls the same
:class:`~proxy.app.ProxyHandler` decisions, and writes the answer as one buffer.

What it serves: a well-formed HTTP/1.1 request whose head is at most :data:`MAX_HEAD` bytes in
at most :data:`MAX_HEADER_LINES` lines, without ``Upgrade``, ``Expect`` or ``Transfer-Encoding``,
with no body or a ``Content-Length`` of at most :data:`~proxy.forwarding.INLINE_BODY`. Anything
else (a WebSocket, a streamed or large upload, HTTP/1.0, a malformed or oversized head) is
handed with its bytes to aiohttp's protocol for the rest of the connection, so aiohttp answers
it exactly as it would without the fast path. Answers follow aiohttp's framing rules
(``Content-Length`` or chunked, ``Date``, ``Server``, the default ``Content-Type``,
``Connection: close``); a test runs a corpus of requests through both paths and compares the
answers, headers included.

Connections are kept alive like aiohttp's (closed after the idle timeout, 75 s by default);
pipelined requests are answered in order. A head or a body that arrives too slowly closes the
connection (:mod:`proxy.readdeadlines`; aiohttp's protocol keeps the same deadlines after a
hand-off, :mod:`proxy.slowclients`). Shutdown stops reading new requests, closes idle
connections, lets requests in progress finish for up to the shutdown timeout, then aborts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Final, cast

import httptools
from aiohttp.helpers import EMPTY_BODY_STATUS_CODES, rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE
from aiohttp.web_response import REASON_PHRASES

from proxy.app import ProxyHandler
from proxy.forwarding import INLINE_BODY
from proxy.headers import PREDICTOR_HEADER, returned_headers
from proxy.problems import Problem, problem
from proxy.readdeadlines import ReadDeadline, ReadTimeouts
from proxy.upstream import UpstreamError, UpstreamResponse

log = logging.getLogger(__name__)

MAX_HEAD: Final = 8190  # aiohttp's longest line: no head this short has a line aiohttp refuses
MAX_HEADER_LINES: Final = 100  # aiohttp refuses more than 128
HIGH_WATER: Final = 256 * 1024  # pipelined bytes buffered before reading pauses
_SERVER: Final = f"Server: {SERVER_SOFTWARE}\r\n".encode()
_CLOSE: Final = b"Connection: close\r\n"
_DEFAULT_TYPE: Final = b"Content-Type: application/octet-stream\r\n"
_PREDICTOR: Final = f"{PREDICTOR_HEADER}: ".encode()
_FAILED: Final = problem(500, "internal_error", "the proxy failed to answer")
# Request headers the fast path reads; any other spelling passes through untouched.
_SLOW: Final = frozenset({b"upgrade", b"expect", b"transfer-encoding"})


class _Head:
    """The request head being parsed, filled by httptools' callbacks.

    One per connection, with one parser: llhttp starts over after each complete message, and
    the next head is parsed only once the current request is answered.
    """

    __slots__ = ("complete", "has_length", "headers", "keep_alive", "method", "parser", "read",
                 "url", "version")

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.reset()

    def reset(self) -> None:
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.complete = False
        self.has_length = False
        self.keep_alive = False
        self.method = ""
        self.version = ""
        self.read: dict[bytes, bytes] = {}  # the first of each header in _READ

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        # Read here: llhttp resets its flags once the message is complete.
        parser = self.parser
        self.complete = True
        self.keep_alive = parser.should_keep_alive()
        self.method = parser.get_method().decode("ascii")
        self.version = parser.get_http_version()


class Front:
    """The fast connections of one process: what they share, and their shutdown."""

    def __init__(self, *, handler: ProxyHandler, slow: Callable[[], asyncio.Protocol],
                 shutdown_timeout: float, timeouts: ReadTimeouts) -> None:
        self.handler = handler
        self.slow = slow
        self.shutdown_timeout = shutdown_timeout
        self.timeouts = timeouts
        self.keepalive_timeout = timeouts.idle
        self.connections: set[FastConnection] = set()
        self.closing = False
        self.answered = 0  # requests this path answered itself (the rest went to aiohttp)
        self._idle_waiter: asyncio.Future[None] | None = None

    def __call__(self) -> FastConnection:
        """A protocol for a new connection (the factory ``create_server`` calls)."""
        return FastConnection(self)

    async def shutdown(self) -> None:
        """Close idle connections, let busy ones finish for a while, then abort the rest."""
        self.closing = True
        for connection in list(self.connections):
            connection.close_if_idle()
        if self.connections:
            self._idle_waiter = waiter = asyncio.get_running_loop().create_future()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.shutdown_timeout):
                    await waiter
        for connection in list(self.connections):
            connection.abort()

    def forget(self, connection: FastConnection) -> None:
        self.connections.discard(connection)
        waiter = self._idle_waiter
        if not self.connections and waiter is not None and not waiter.done():
            waiter.set_result(None)


class FastConnection(asyncio.Protocol):
    """One client connection on the fast path, until it closes or is handed to aiohttp."""

    def __init__(self, front: Front) -> None:
        self._front = front
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._peer = ""
        self._local = ""
        self._buffer = bytearray()
        self._head = _Head()
        self._waiting_body: tuple[_Head, int, int] | None = None
        self._busy = False
        self._answering = False  # some bytes of the current answer were written
        self._reading_paused = False
        self._writing_paused = False
        self._drain: asyncio.Future[None] | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._idle_since: float | None = None  # None while a request is read or answered
        self._deadline = ReadDeadline(self._loop, front.timeouts, self.abort)

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        self._peer = str(peer[0]) if isinstance(peer, tuple) else str(peer or "")
        local = transport.get_extra_info("sockname")  # the Host when none is sent, as aiohttp
        if isinstance(local, tuple):
            self._local = f"[{local[0]}]" if len(local) == 4 else str(local[0])
        self._front.connections.add(self)
        if self._front.closing:
            self.abort()
            return
        self._arm_idle()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiting_body is not None:
            self._deadline.body_progress(len(data))
        if self._busy:
            if len(self._buffer) > HIGH_WATER and not self._reading_paused:
                self._reading_paused = True
                self._transport.pause_reading()  # type: ignore[union-attr]
            return
        self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_idle()
        self._deadline.stop()
        self._front.forget(self)
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    # Lifetime

    def close_if_idle(self) -> None:
        if not self._busy and self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _arm_idle(self) -> None:
        """Mark the connection idle; one timer per connection closes it once idle too long.

        The timer is not moved for each request (a timer per request costs more than the
        check): when it fires early, it sets itself again for the time left.
        """
        self._idle_since = self._loop.time()
        if self._idle_timer is None:
            self._idle_timer = self._loop.call_later(self._front.keepalive_timeout,
                                                     self._check_idle)

    def _check_idle(self) -> None:
        self._idle_timer = None
        if self._idle_since is None:
            left = self._front.keepalive_timeout
        else:
            left = self._idle_since + self._front.keepalive_timeout - self._loop.time()
            if left <= 0:
                self.close_if_idle()
                return
        self._idle_timer = self._loop.call_later(left, self._check_idle)

    def _cancel_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _hand_off(self) -> None:
        """Give the connection, with every byte not yet answered, to aiohttp's protocol."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        self._cancel_idle()
        self._deadline.stop()
        self._front.forget(self)
        slow = self._front.slow()
        transport.set_protocol(slow)
        slow.connection_made(transport)
        data = bytes(self._buffer)
        self._buffer.clear()
        if self._reading_paused:
            self._reading_paused = False
            transport.resume_reading()
        if data:
            slow.data_received(data)

    # Requests

    def _next(self) -> None:
        """Start answering the next complete request in the buffer, if there is one."""
        buffer = self._buffer
        if self._waiting_body is not None:
            head, head_end, length = self._waiting_body
            if len(buffer) < head_end + length:
                return
            self._waiting_body = None
            self._deadline.stop()
            self._start(head, head_end, length)
            return
        if not buffer:
            self._arm_idle()
            return
        self._idle_since = None
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD:
                self._hand_off()
            else:
                self._deadline.head_started()
            return
        head_end = end + 4
        if head_end > MAX_HEAD:
            self._hand_off()
            return
        head = self._head
        head.reset()
        try:
            head.parser.feed_data(bytes(buffer[:head_end]))
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):  # aiohttp answers
            self._hand_off()
            return
        if (not head.complete or head.version != "1.1"
                or len(head.headers) > MAX_HEADER_LINES):
            self._hand_off()
            return
        length = 0
        read = head.read
        for name, value in head.headers:
            lower = name.lower()
            if lower in _READ:
                read.setdefault(lower, value)
            elif lower in _SLOW:
                self._hand_off()
                return
            if lower == b"content-length":
                length = int(value)  # llhttp has checked it is one number
                head.has_length = True
        if length > INLINE_BODY:
            self._hand_off()
            return
        if len(buffer) < head_end + length:
            self._waiting_body = (head, head_end, length)
            self._deadline.body_started()
            return
        self._deadline.stop()
        self._start(head, head_end, length)

    def _start(self, head: _Head, head_end: int, length: int) -> None:
        buffer = self._buffer
        body = bytes(buffer[head_end:head_end + length]) if head.has_length else None
        if body:
            head.parser.feed_data(body)  # ends the message, so the parser takes the next one
        del buffer[:head_end + length]
        self._busy = True
        self._answering = False
        self._front.answered += 1
        self._loop.create_task(self._serve(head, body))

    async def _serve(self, head: _Head, body: bytes | None) -> None:
        handler = self._front.handler
        method, keep_alive = head.method, head.keep_alive
        wanted = {name: value.decode("utf-8", "surrogateescape")
                  for name, value in head.read.items()}
        raw_path = head.url.decode("utf-8", "surrogateescape")
        call = handler.begin(
            peer=self._peer, scheme="http", host=wanted.get(b"host", self._local),
            incoming_for=wanted.get(b"x-forwarded-for"),
            incoming_proto=wanted.get(b"x-forwarded-proto"),
            incoming_host=wanted.get(b"x-forwarded-host"),
            incoming_request_id=wanted.get(b"x-request-id"))
        status = 500
        try:
            admission = await handler.admit(call, raw_path=raw_path,
                                            authorization=wanted.get(b"authorization"))
            if isinstance(admission, Problem):
                status = admission.status
                self._write_problem(admission, call.request_id, method, keep_alive)
            else:
                forwarder = handler.forwarder
                if body is not None and len(body) > forwarder.body_limit:
                    outcome: tuple[UpstreamResponse, float] | Problem = forwarder.too_large()
                else:
                    outcome = await forwarder.exchange(
                        method=method, target=admission.target, upstream=admission.upstream,
                        raw_headers=head.headers, client=admission.client,
                        forwarding=call.forwarded, request_id=call.request_id,
                        length=None if body is None else len(body), body=body, chunked=False)
                if isinstance(outcome, Problem):
                    status = outcome.status
                    self._write_problem(outcome, call.request_id, method, keep_alive)
                else:
                    upstream, call.upstream_seconds = outcome
                    status = upstream.status
                    try:
                        keep_alive = await self._relay(upstream, call.request_id,
                                                       admission.upstream.name, method,
                                                       keep_alive)
                    finally:
                        upstream.release()
        except Exception:
            log.exception("the fast path failed to answer a request")
            status = 500
            keep_alive = False
            if self._answering:
                self.abort()  # part of an answer went out: only a cut connection is honest
            else:
                self._write_problem(_FAILED, call.request_id, method, keep_alive)
        finally:
            handler.finish(call, method=method, raw_path=raw_path, status=status)
        self._done(keep_alive)

    def _done(self, keep_alive: bool) -> None:
        self._busy = False
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if not keep_alive or self._front.closing:
            transport.close()
            return
        if self._reading_paused:
            self._reading_paused = False
            transport.resume_reading()
        self._next()

    # Answers

    def _write(self, data: bytes) -> None:
        self._answering = True
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def _write_problem(self, answer: Problem, rid: str, method: str, keep_alive: bool) -> None:
        lines = [b"HTTP/1.1 %d %s\r\n" % (answer.status,
                                          REASON_PHRASES.get(answer.status, "").encode())]
        for name, value in answer.headers:
            lines.append(f"{name}: {value}\r\n".encode())
        lines.append(b"X-Request-Id: %s\r\nContent-Length: %d\r\nDate: %s\r\n"
                     % (rid.encode(), len(answer.body), rfc822_formatted_time().encode()))
        lines.append(_SERVER)
        if not keep_alive:
            lines.append(_CLOSE)
        lines.append(b"\r\n")
        if method != "HEAD":
            lines.append(answer.body)
        self._write(b"".join(lines))

    async def _relay(self, upstream: UpstreamResponse, rid: str, predictor: str, method: str,
                     keep_alive: bool) -> bool:
        """Write the upstream's answer; whether the connection may serve another request."""
        status = upstream.status
        reason = upstream.reason or REASON_PHRASES.get(status, "")
        lines = [b"HTTP/1.1 %d %s\r\n" % (status, reason.encode())]
        own_id = b"X-Request-Id: " + rid.encode() + b"\r\n"
        has_type = has_date = has_server = False
        for name, value in returned_headers(upstream.headers):
            lower = name.lower()
            if lower == b"x-request-id":
                if own_id:
                    lines.append(own_id)
                    own_id = b""
                continue
            if lower == b"content-type":
                has_type = True
            elif lower == b"date":
                has_date = True
            elif lower == b"server":
                has_server = True
            if not value.isascii():  # aiohttp re-encodes values as UTF-8, replacing errors
                value = value.decode("utf-8", "replace").encode()
            lines.append(name + b": " + value + b"\r\n")
        if own_id:
            lines.append(own_id)
        lines.append(_PREDICTOR + predictor.encode() + b"\r\n")
        empty_status = status in EMPTY_BODY_STATUS_CODES
        body = upstream.body
        complete = body is not None and not upstream.head_only
        chunked = False
        if complete:
            assert body is not None
            sized: int | None = len(body)
            if not empty_status:
                lines.append(b"Content-Length: %d\r\n" % len(body))
        else:
            sized = upstream.content_length
            if sized is not None and not empty_status:
                lines.append(b"Content-Length: %d\r\n" % sized)
            chunked = sized is None and not (empty_status or method == "HEAD")
            if chunked:
                lines.append(b"Transfer-Encoding: chunked\r\n")
        must_be_empty = empty_status or method == "HEAD"
        if not must_be_empty and sized != 0 and not has_type:
            lines.append(_DEFAULT_TYPE)
        if not has_date:
            lines.append(b"Date: " + rfc822_formatted_time().encode() + b"\r\n")
        if not has_server:
            lines.append(_SERVER)
        if not keep_alive:
            lines.append(_CLOSE)
        lines.append(b"\r\n")
        if complete:
            if not must_be_empty and body:
                lines.append(body)
            self._write(b"".join(lines))
            return keep_alive
        self._write(b"".join(lines))
        if must_be_empty:
            return keep_alive
        return await self._stream(upstream, chunked=chunked, keep_alive=keep_alive)

    async def _stream(self, upstream: UpstreamResponse, *, chunked: bool,
                      keep_alive: bool) -> bool:
        transport = self._transport
        try:
            while chunk := await upstream.read():
                if transport is None or transport.is_closing():
                    return False
                self._write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
                if self._writing_paused:
                    self._drain = self._loop.create_future()
                    await self._drain
                    self._drain = None
        except UpstreamError as error:
            log.warning("upstream failed mid-response: %s", error)
            self.abort()  # a truncated body must not look complete
            return False
        if chunked:
            self._write(b"0\r\n\r\n")
        return keep_alive


_READ: Final = frozenset({b"host", b"authorization", b"x-forwarded-for", b"x-forwarded-proto",
                          b"x-forwarded-host", b"x-request-id"})
