"""Slow callers of the API: idle connections, trickling heads and bodies are closed on time."""

from __future__ import annotations

import asyncio

from apikit import StartApi
from yarl import URL

from proxy.readdeadlines import ReadTimeouts


async def _cut(port: int, opening: bytes, trickled: bytes) -> bool:
    """Send ``opening``, then ``trickled`` a byte every 50 ms; whether the API hung up first."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(opening)
        for index in range(len(trickled)):
            if writer.transport.is_closing() or reader.at_eof():
                return True
            writer.write(trickled[index:index + 1])
            try:
                await writer.drain()
            except ConnectionError:
                return True
            await asyncio.sleep(0.05)
        return False
    finally:
        writer.close()


async def test_slow_callers_are_disconnected(start_api: StartApi) -> None:
    """Thirty idle connections close after the idle timeout; a head or a GraphQL body that
    trickles in is cut after its own timeout, well before the idle one."""
    api = await start_api(client_timeouts=ReadTimeouts(idle=1.0, header=0.5, body=0.5,
                                                       body_min_rate=1000))
    port = URL(api.url).port
    assert port is not None
    idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(30)]
    async with asyncio.timeout(10):
        for reader, writer in idle:
            assert await reader.read() == b""
            writer.close()
        assert await _cut(port, b"POST /graphql HTTP/1.1\r\n", b"Host: api\r\n" * 20)
        assert await _cut(port, b"POST /graphql HTTP/1.1\r\nHost: api\r\n"
                                b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n",
                          b" " * 60)
