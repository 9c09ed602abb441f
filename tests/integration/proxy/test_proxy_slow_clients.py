"""Slow callers: idle connections, heads and bodies that trickle in are closed on time, on the
fast path and on aiohttp's, while keep-alive connections between requests stay open."""

from __future__ import annotations

import asyncio

import pytest
from proxykit import StartProxy, Upstream, eventually, routed
from redis.asyncio import Redis

from proxy.readdeadlines import ReadTimeouts
from proxy.serving import RunningProxy

SHORT = ReadTimeouts(idle=30, header=0.5, body=0.5, body_min_rate=1000)
PATHS = pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "aiohttp"])
HEAD = b"GET /deployment/iris-abc12/x HTTP/1.1\r\nHost: models\r\n\r\n"


async def proxy_with(start_proxy: StartProxy, redis: Redis, upstream: Upstream,
                     timeouts: ReadTimeouts, fast_path: bool) -> RunningProxy:
    proxy = await start_proxy(client_timeouts=timeouts, fast_path=fast_path)
    await routed(proxy, redis, "iris-abc12", upstream.address)
    return proxy


async def closed(reader: asyncio.StreamReader) -> bool:
    """Whether the server closed the connection (everything it sent is read first)."""
    try:
        while await reader.read(65536):
            pass
    except ConnectionError:
        pass
    return True


async def trickle(writer: asyncio.StreamWriter, data: bytes, *, pause: float) -> bool:
    """Send ``data`` a byte at a time; whether the server cut us off before the end."""
    for index in range(len(data)):
        if writer.transport.is_closing():
            return True
        writer.write(data[index:index + 1])
        try:
            await writer.drain()
        except ConnectionError:
            return True
        await asyncio.sleep(pause)
    return False


@PATHS
async def test_many_idle_connections_are_closed_after_the_idle_timeout(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream, fast_path: bool) -> None:
    """Forty connections that never send a byte are all closed once idle too long."""
    proxy = await proxy_with(start_proxy, redis, upstream,
                             ReadTimeouts(idle=0.5, header=10, body=10), fast_path)
    connections = [await asyncio.open_connection("127.0.0.1", proxy.port) for _ in range(40)]
    async with asyncio.timeout(10):
        assert all(await asyncio.gather(*(closed(reader) for reader, _ in connections)))
    for _, writer in connections:
        writer.close()


@PATHS
async def test_a_trickling_head_is_closed_after_the_header_timeout(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream, fast_path: bool) -> None:
    """A byte every 50 ms keeps nothing open: the head must be complete within 0.5 s,
    however long the idle timeout."""
    proxy = await proxy_with(start_proxy, redis, upstream, SHORT, fast_path)
    heads = [await asyncio.open_connection("127.0.0.1", proxy.port) for _ in range(20)]
    async with asyncio.timeout(10):
        cut = await asyncio.gather(*(trickle(writer, HEAD + b"X" * 200, pause=0.05)
                                     for _, writer in heads))
    assert all(cut)
    assert upstream.seen == []
    for _, writer in heads:
        writer.close()


@PATHS
@pytest.mark.parametrize("length", [100, 1 << 20], ids=["small-body", "large-body"])
async def test_a_trickling_body_is_cut(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream, fast_path: bool,
        length: int) -> None:
    """A body arriving at 20 bytes/s (below the minimum rate) is cut after the body timeout,
    small or streamed."""
    proxy = await proxy_with(start_proxy, redis, upstream, SHORT, fast_path)
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(b"POST /deployment/iris-abc12/mirror HTTP/1.1\r\nHost: models\r\n"
                 b"Content-Length: %d\r\n\r\n" % length)
    async with asyncio.timeout(10):
        assert await trickle(writer, b"x" * min(length - 1, 200), pause=0.05)
        assert await closed(reader)
    writer.close()


@PATHS
async def test_a_kept_alive_connection_outlives_the_header_timeout_between_requests(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream, fast_path: bool) -> None:
    """Waiting between requests is idleness, not a slow head: the connection stays usable."""
    proxy = await proxy_with(start_proxy, redis, upstream, SHORT, fast_path)
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    for _ in range(2):
        writer.write(HEAD)
        status = await reader.readline()
        assert status.startswith(b"HTTP/1.1 200"), status
        length = 0
        while (line := await reader.readline()) != b"\r\n":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        await asyncio.sleep(1.0)  # twice the header timeout
    writer.close()


@PATHS
async def test_a_pipelined_head_waits_for_a_slow_answer_without_being_cut(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream, fast_path: bool) -> None:
    """A second request sent while the first waits on a slow model is answered in turn."""
    proxy = await proxy_with(start_proxy, redis, upstream, SHORT, fast_path)
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(b"GET /deployment/iris-abc12/hang HTTP/1.1\r\nHost: models\r\n\r\n" + HEAD)
    await eventually(lambda: upstream.hanging == 1)
    await asyncio.sleep(1.0)  # twice the header timeout, with the second head waiting
    upstream.release.set()
    received = b""
    async with asyncio.timeout(10):
        while received.count(b"HTTP/1.1 200 OK") < 2 or b"body_sha256" not in received:
            data = await reader.read(65536)
            assert data, "the connection was closed"
            received += data
    writer.close()
