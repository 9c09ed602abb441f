"""Dev mode keeps its Redis running: a redis-server that dies is started again, and the log
says so.

A laptop's Redis dies for ordinary reasons: the OOM killer, a stray ``kill``, a crash. The
rest of dev mode rides that out (the proxy serves what it verified and reconnects, the
controller retries its writes and resyncs), but only if Redis comes back, so this puts it
back: on the same port, from its append-only file, so routes, counters and usage survive.
Whatever it lost anyway, the controller republishes. A server that will not start again is
retried with backoff, each failure logged with the server's own output.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Final

from gateway.dev.redisserver import RedisServer

log = logging.getLogger(__name__)

RETRY_FIRST: Final = 0.5  # seconds before the second attempt to start a dead server
RETRY_CAP: Final = 30.0


def exit_status(code: int | None) -> str:
    """How a process ended, in words: ``exit code 1``, ``killed by SIGKILL``."""
    if code is None:
        return "not running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


async def keep_running(server: RedisServer, *, retry_first: float = RETRY_FIRST,
                       retry_cap: float = RETRY_CAP) -> None:
    """Restart ``server`` whenever it exits, until cancelled (cancel this before stopping it)."""
    while True:
        pid = server.pid
        code = await asyncio.to_thread(server.wait)
        log.warning("redis-server exited; restarting it", extra={"fields": {
            "pid": pid, "status": exit_status(code), "url": server.url}})
        delay = retry_first
        while True:
            try:
                await asyncio.to_thread(server.restart)
            except (RuntimeError, OSError) as error:
                log.error("redis-server did not start again; retrying", extra={"fields": {
                    "error": str(error), "retry_seconds": delay}})
                await asyncio.sleep(delay)
                delay = min(delay * 2, retry_cap)
            else:
                break
        log.warning("redis-server restarted", extra={"fields": {
            "pid": server.pid, "url": server.url}})
