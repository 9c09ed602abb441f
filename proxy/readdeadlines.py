"""How long a client may take to send a request: the deadlines that close slow connections.

A server that waits as long as a client likes can be held by a few hundred connections that
send a byte now and then (slowloris), or a body that trickles in. Three limits, each a setting
of the proxy and the API:

- ``idle``: a kept-alive connection waiting for its next request (and a new one that has sent
  nothing) is closed after this long;
- ``header``: once the first byte of a request head has arrived, the whole head must arrive
  within this long;
- ``body``: a request body must arrive within ``body`` seconds plus one second for every
  ``body_min_rate`` bytes received, so a large upload over a slow but honest link finishes,
  and a body that trickles in slower than that rate is cut. Time the server itself is not
  reading (flow control, because the model reads slowly) is not counted against the client.

:class:`ReadDeadline` is the clock of one connection, independent of the server code around
it: a front end tells it what it is reading (``head_started``, ``body_started``,
``body_progress``, ``paused``/``resumed``, ``stop``) and it calls ``expire`` once a limit
passes. Both front ends use it: the proxy's fast path (:mod:`proxy.fronting`) and aiohttp's
protocol (:mod:`proxy.slowclients`). The idle limit is each front end's keep-alive timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from proxy.environment import SettingsReader


@dataclass(frozen=True, slots=True)
class ReadTimeouts:
    """The limits above, in seconds (``body_min_rate`` in bytes per second)."""

    idle: float = 75.0
    header: float = 10.0
    body: float = 30.0
    body_min_rate: int = 4096


def read_timeouts(read: SettingsReader, component: str) -> ReadTimeouts:
    """``<component>_CLIENT_IDLE_TIMEOUT``, ``_HEADER_TIMEOUT``, ``_BODY_TIMEOUT`` (seconds) and
    ``_BODY_MIN_RATE`` (bytes per second), the same four settings for every server."""
    defaults = ReadTimeouts()
    return ReadTimeouts(
        idle=read.seconds(f"{component}_CLIENT_IDLE_TIMEOUT", defaults.idle,
                          minimum=0.1, maximum=86_400),
        header=read.seconds(f"{component}_CLIENT_HEADER_TIMEOUT", defaults.header,
                            minimum=0.1, maximum=3600),
        body=read.seconds(f"{component}_CLIENT_BODY_TIMEOUT", defaults.body,
                          minimum=0.1, maximum=86_400),
        body_min_rate=read.integer(f"{component}_CLIENT_BODY_MIN_RATE", defaults.body_min_rate,
                                   minimum=1, maximum=1 << 40))


class ReadDeadline:
    """One connection's deadline for the head or body it is reading; at most one timer."""

    __slots__ = ("_body_started", "_expire", "_loop", "_paused_at", "_received", "_timeouts",
                 "_timer", "_waited")

    def __init__(self, loop: asyncio.AbstractEventLoop, timeouts: ReadTimeouts,
                 expire: Callable[[], None]) -> None:
        self._loop = loop
        self._timeouts = timeouts
        self._expire = expire
        self._timer: asyncio.TimerHandle | None = None
        self._body_started: float | None = None  # None: reading a head (if the timer runs)
        self._received = 0
        self._waited = 0.0  # seconds the server paused reading during this body
        self._paused_at: float | None = None

    @property
    def running(self) -> bool:
        return self._timer is not None

    def head_started(self) -> None:
        """The first byte of a head arrived; a no-op while a deadline already runs."""
        if self._timer is None:
            self._body_started = None
            self._timer = self._loop.call_later(self._timeouts.header, self._fire)

    def body_started(self) -> None:
        """The head is complete and a body follows."""
        self.stop()
        self._body_started = self._loop.time()
        self._received = 0
        self._waited = 0.0
        self._timer = self._loop.call_later(self._timeouts.body, self._fire)

    def body_progress(self, size: int) -> None:
        self._received += size

    def paused(self) -> None:
        """The server stopped reading (its own buffers are full)."""
        if self._body_started is not None and self._paused_at is None:
            self._paused_at = self._loop.time()

    def resumed(self) -> None:
        if self._paused_at is not None:
            self._waited += self._loop.time() - self._paused_at
            self._paused_at = None
            if self._timer is None and self._body_started is not None:
                self._fire()  # the deadline passed while paused: recompute it now

    def stop(self) -> None:
        """Nothing is being read that the client could be slow with (or the head is done)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._body_started = None
        self._paused_at = None

    def _fire(self) -> None:
        self._timer = None
        started = self._body_started
        if started is not None:
            if self._paused_at is not None:
                return  # the server is not reading: :meth:`resumed` looks again
            now = self._loop.time()
            deadline = (started + self._timeouts.body + self._waited
                        + self._received / self._timeouts.body_min_rate)
            if now < deadline:
                self._timer = self._loop.call_at(deadline, self._fire)
                return
        self._body_started = None
        self._expire()
