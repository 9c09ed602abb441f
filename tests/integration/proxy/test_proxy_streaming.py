"""Streaming: 50 MiB each way without buffering, bodies over the limit refused."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from proxykit import CHUNK, StartProxy, Upstream, routed, url
from redis.asyncio import Redis

from proxy.serving import RunningProxy

SIZE = 50 * 1024 * 1024
# Everything (client, proxy, upstream) runs in this process, so the peak counts all three:
# buffering the body anywhere would add at least 50 MiB.
PEAK_LIMIT = 16 * 1024 * 1024


@pytest.fixture
def traced() -> Iterator[None]:
    """Python allocations are traced for the test, so its peak can be read."""
    tracemalloc.start()
    yield
    tracemalloc.stop()


def peak() -> int:
    return tracemalloc.get_traced_memory()[1]


async def generated(size: int, digest: hashlib._Hash | None = None) -> AsyncIterator[bytes]:
    block = bytes(range(256)) * (CHUNK // 256)
    sent = 0
    while sent < size:
        piece = block[:size - sent]
        if digest is not None:
            digest.update(piece)
        sent += len(piece)
        yield piece


@pytest.fixture
async def streaming_proxy(start_proxy: StartProxy, redis: Redis,
                          upstream: Upstream) -> RunningProxy:
    proxy = await start_proxy(body_limit=2 * SIZE)
    await routed(proxy, redis, "big-model01", upstream.address)
    return proxy


@pytest.mark.usefixtures("traced")
async def test_a_50_mib_download_streams(streaming_proxy: RunningProxy,
                                         http: aiohttp.ClientSession) -> None:
    """A 50 MiB chunked response arrives whole while memory stays flat."""
    tracemalloc.reset_peak()
    received = 0
    async with http.get(url(streaming_proxy.port, f"/deployment/big-model01/bytes/{SIZE}")) as r:
        assert r.status == 200
        async for chunk in r.content.iter_chunked(CHUNK):
            received += len(chunk)
    assert received == SIZE
    assert peak() < PEAK_LIMIT


@pytest.mark.usefixtures("traced")
async def test_a_50_mib_upload_streams_with_its_length(streaming_proxy: RunningProxy,
                                                      http: aiohttp.ClientSession) -> None:
    """A 50 MiB Content-Length upload reaches the model intact, with its length, unbuffered."""
    tracemalloc.reset_peak()
    digest = hashlib.sha256()
    async with http.post(url(streaming_proxy.port, "/deployment/big-model01/upload"),
                         data=generated(SIZE, digest),
                         headers={"Content-Length": str(SIZE)}) as response:
        seen = await response.json()
    assert seen["body_bytes"] == SIZE
    assert seen["body_sha256"] == digest.hexdigest()
    assert ["Content-Length", str(SIZE)] in seen["headers"]
    assert peak() < PEAK_LIMIT


@pytest.mark.usefixtures("traced")
async def test_50_mib_both_ways_at_once(streaming_proxy: RunningProxy,
                                        http: aiohttp.ClientSession) -> None:
    """A chunked upload mirrored back while still being sent: no deadlock, no buffering."""
    tracemalloc.reset_peak()
    sent, back = hashlib.sha256(), hashlib.sha256()
    received = 0
    async with http.post(url(streaming_proxy.port, "/deployment/big-model01/mirror"),
                         data=generated(SIZE, sent)) as response:
        async for chunk in response.content.iter_chunked(CHUNK):
            back.update(chunk)
            received += len(chunk)
    assert received == SIZE
    assert back.hexdigest() == sent.hexdigest()
    assert peak() < PEAK_LIMIT


async def test_bodies_over_the_limit_are_413(start_proxy: StartProxy, redis: Redis,
                                              upstream: Upstream,
                                              http: aiohttp.ClientSession) -> None:
    """Declared or streamed past the limit: 413 and the model never gets the request."""
    proxy = await start_proxy(body_limit=1024 * 1024)
    await routed(proxy, redis, "iris-abc12", upstream.address)
    target = url(proxy.port, "/deployment/iris-abc12/api")
    async with http.post(target, data=io.BytesIO(b"x" * (1024 * 1024 + 1))) as response:
        assert response.status == 413
        assert (await response.json())["error"] == "body_too_large"
    async with http.post(target, data=generated(3 * 1024 * 1024)) as response:
        assert response.status == 413
    assert upstream.seen == []
    async with http.post(target, data=generated(1024 * 1024)) as response:
        assert (await response.json())["body_bytes"] == 1024 * 1024
