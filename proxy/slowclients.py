"""aiohttp's server with header and body read deadlines (:mod:`proxy.readdeadlines`).

Why this exists: aiohttp's server has one timer per connection, ``keepalive_timeout``. It runs
from the connection's start and from each response until the next complete request head, so
it bounds an idle connection and, with the same value, a head that trickles in; aiohttp has
no separate, shorter header deadline, and nothing at all bounds a request body that trickles
in (a handler reading it waits as long as the client likes). Making the keep-alive timer short
enough for heads would close idle keep-alive connections that load balancers expect to reuse.

So :func:`runner` returns an ``AppRunner`` whose protocol, :class:`GuardedRequestHandler`,
keeps aiohttp's keep-alive timer as the idle limit and adds a :class:`ReadDeadline`:

- bytes arriving while no request is in progress start the header deadline;
- the request factory (the moment aiohttp has a complete head) stops it, and starts the body
  deadline when a body follows; bytes received count as progress, aiohttp's flow control
  (``pause_reading``/``resume_reading``) stops the clock, the body's end stops it;
- bytes that arrive while a request is in progress (a pipelined head) start the header
  deadline only once that request's answer is written (``log_access``, which aiohttp calls
  for every answer, marks the end), so a slow model never costs a pipelining client its
  connection;
- a WebSocket upgrade (``set_parser``) ends all deadlines: its messages are not requests.

A deadline that passes closes the connection (``force_close``); a handler still reading the
body sees the connection lost, as if the client had gone.

The hooks are aiohttp's public protocol methods plus ``AppRunner._make_server``, the method
every runner implements to build its server; the tests in
``tests/integration/proxy/test_proxy_slow_clients.py`` pin the behaviour, so an aiohttp
upgrade that moves these hooks fails there, not in production.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader

from proxy.readdeadlines import ReadDeadline, ReadTimeouts


class GuardedRequestHandler(web.RequestHandler):
    """aiohttp's protocol for one connection, with header and body deadlines."""

    def __init__(self, manager: web.Server, *, timeouts: ReadTimeouts,
                 loop: asyncio.AbstractEventLoop, **options: Any) -> None:
        super().__init__(manager, loop=loop, keepalive_timeout=timeouts.idle, **options)
        self._deadline = ReadDeadline(loop, timeouts, self.force_close)
        self._body: StreamReader | None = None
        self._in_request = False
        self._head_waiting = False  # bytes arrived during a request: a pipelined head
        self._upgraded_away = False

    def data_received(self, data: bytes) -> None:
        if data and not self._upgraded_away:
            body = self._body
            if body is not None and not body.is_eof():
                self._deadline.body_progress(len(data))
            elif self._in_request:
                self._head_waiting = True
            else:
                self._deadline.head_started()
        super().data_received(data)
        if self._body is not None and self._body.is_eof():
            self._body = None
            self._deadline.stop()

    def request_started(self, payload: StreamReader) -> None:
        """aiohttp has a complete head (called by :class:`GuardedServer`'s factory)."""
        self._in_request = True
        self._head_waiting = False
        if payload.is_eof() or self._upgraded_away:
            self._deadline.stop()
        else:
            self._body = payload
            self._deadline.body_started()

    def log_access(self, request: web.BaseRequest, response: web.StreamResponse,
                   time: float | None) -> None:
        """aiohttp calls this once every answer is written: the request is over."""
        self._in_request = False
        if self._head_waiting and not self._upgraded_away:
            self._head_waiting = False
            self._deadline.head_started()
        super().log_access(request, response, time)

    def pause_reading(self) -> None:
        self._deadline.paused()
        super().pause_reading()

    def resume_reading(self, *args: Any, **kwargs: Any) -> None:
        self._deadline.resumed()
        super().resume_reading(*args, **kwargs)

    def set_parser(self, *args: Any, **kwargs: Any) -> None:
        self._upgraded_away = True
        self._body = None
        self._deadline.stop()
        super().set_parser(*args, **kwargs)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._deadline.stop()
        super().connection_lost(exc)


class GuardedServer(web.Server):
    """aiohttp's low-level server making :class:`GuardedRequestHandler` protocols."""

    def __init__(self, plain: web.Server, *, timeouts: ReadTimeouts, **options: Any) -> None:
        super().__init__(plain.request_handler, request_factory=self._request,
                         handler_cancellation=plain.handler_cancellation, **options)
        self._make = plain.request_factory
        self._timeouts = timeouts
        self._options = options
        self._event_loop = asyncio.get_running_loop()

    def __call__(self) -> GuardedRequestHandler:
        return GuardedRequestHandler(self, timeouts=self._timeouts, loop=self._event_loop,
                                     **self._options)

    def _request(self, message: RawRequestMessage, payload: StreamReader,
                 protocol: web.RequestHandler, writer: AbstractStreamWriter,
                 task: asyncio.Task[None]) -> web.BaseRequest:
        if isinstance(protocol, GuardedRequestHandler):
            protocol.request_started(payload)
        return self._make(message, payload, protocol, writer, task)


class GuardedAppRunner(web.AppRunner):
    """An ``AppRunner`` whose server enforces ``timeouts``; otherwise aiohttp's own."""

    def __init__(self, app: web.Application, *, timeouts: ReadTimeouts, **options: Any) -> None:
        super().__init__(app, **options)
        self._timeouts = timeouts

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()  # starts the application up
        options = {name: value for name, value in self._kwargs.items()
                   if name != "handler_cancellation"}  # the server's own, taken from ``plain``
        return GuardedServer(plain, timeouts=self._timeouts, **options)


def runner(app: web.Application, *, timeouts: ReadTimeouts, **options: Any) -> web.AppRunner:
    """``web.AppRunner(app, **options)`` with read deadlines."""
    return GuardedAppRunner(app, timeouts=timeouts, **options)
