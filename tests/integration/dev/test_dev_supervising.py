"""Dev mode's Redis supervisor: a dead redis-server is started again on its port, and a
server that cannot start is retried, each step logged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from gateway.dev.redisserver import RedisServer
from gateway.dev.supervising import exit_status, keep_running

pytestmark = pytest.mark.timeout(60)


@contextlib.asynccontextmanager
async def supervised(server: RedisServer) -> AsyncIterator[None]:
    task = asyncio.create_task(keep_running(server, retry_first=0.05, retry_cap=0.2))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.to_thread(server.stop)


async def logged(caplog: pytest.LogCaptureFixture, message: str, *,
                 where: Callable[[logging.LogRecord], bool] = lambda _: True) -> None:
    """Wait until a record with ``message`` (and ``where``) was logged."""
    async with asyncio.timeout(20):
        while True:
            if any(r.getMessage() == message and where(r) for r in caplog.records):
                return
            await asyncio.sleep(0.02)


async def test_a_killed_server_comes_back_with_its_data(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """SIGKILL: the exit is logged with the signal, the server is back on its URL with its
    append-only data."""
    caplog.set_level(logging.INFO, logger="gateway.dev.supervising")
    server = RedisServer(tmp_path / "redis", persist=True)
    await asyncio.to_thread(server.start)
    async with supervised(server):
        before = Redis.from_url(server.url)
        await before.set("kept", "yes")
        await before.aclose()
        first = server.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await logged(caplog, "redis-server restarted")
        [exited] = [r for r in caplog.records if r.getMessage().startswith("redis-server exited")]
        assert exited.fields == {  # type: ignore[attr-defined]
            "pid": first, "status": "killed by SIGKILL", "url": server.url}
        assert server.pid != first
        after = Redis.from_url(server.url)
        assert await after.get("kept") == b"yes"
        await after.aclose()


async def test_a_server_that_cannot_start_is_retried(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """While the server cannot start (its directory is a file), each failure is logged and
    retried; once the cause is gone, it starts."""
    caplog.set_level(logging.INFO, logger="gateway.dev.supervising")
    blocked = tmp_path / "redis"
    blocked.write_text("not a directory")
    server = RedisServer(blocked)
    async with supervised(server):
        await logged(caplog, "redis-server did not start again; retrying",
                     where=lambda r: r.levelno == logging.ERROR)
        blocked.unlink()
        await logged(caplog, "redis-server restarted")
        assert server.running


def test_exit_statuses_read_as_words() -> None:
    """Exit codes and signals are named the way a person reads them."""
    assert exit_status(1) == "exit code 1"
    assert exit_status(-9) == "killed by SIGKILL"
    assert exit_status(None) == "not running"
