"""The fast path (httptools protocol) and the aiohttp path give the same answers.

Two proxies read the same Redis, one with ``fast_path`` on and one with it off. Every request
of a corpus goes to both as raw bytes, and the answers are compared whole: status line,
every header (only ``Date``'s value and generated request ids are normalised) and body. The
corpus covers the hot path (cached credentials, small bodies), every answer the proxy makes
itself, header hygiene both ways, upstream framing quirks, predictors (split, by name, unknown,
not ready, ``X-Model-Predictor`` on every answer), and the requests the fast path hands
to aiohttp (WebSocket, chunked and large uploads, HTTP/1.0, malformed heads). A second test
compares the answers that depend on Redis state: a locked-out caller's 429 and the 503s while
Redis has lost the data plane. (Slow callers are cut on both paths: test_proxy_slow_clients.)
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Final

import httptools
import pytest
from proxykit import StartProxy, Upstream, eventually, new_token, publish
from redis.asyncio import Redis
from redis_server import RedisServer

from proxy.app import ROUTES
from proxy.records import Access
from proxy.records import Upstream as Predictor
from proxy.serving import RunningProxy

TOKEN: Final = new_token()
GOOD: Final = "Basic " + base64.b64encode(f"app:{TOKEN}".encode()).decode()
WRONG: Final = "Basic " + base64.b64encode(b"app:mgc_wrong").decode()
ID: Final = "req-0123456789"
_GENERATED: Final = re.compile(rb"[0-9a-f]{32}")

# Raw answers of a scripted upstream, by path: framing the aiohttp stand-in never produces.
SCRIPTED: Final = {
    b"/bare": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"/reason": b"HTTP/1.1 299 Fine Thanks\r\nContent-Length: 2\r\nX-A: 1\r\nX-A: 2\r\n\r\nok",
    b"/latin": (b"HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\nX-Utf: caf\xc3\xa9\r\n"
                b"Content-Length: 0\r\n\r\n"),
    b"/ids": (b"HTTP/1.1 200 OK\r\nX-Request-Id: theirs-1\r\nX-Keep: 1\r\nX-Request-Id: theirs-2"
              b"\r\nContent-Length: 2\r\n\r\nok"),
    b"/hop": (b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\n"
              b"Keep-Alive: timeout=5\r\nProxy-Authenticate: x\r\nContent-Length: 2\r\n\r\nok"),
    b"/chunked": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n"
                  b"\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"),
    b"/empty": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"/nocontent": b"HTTP/1.1 204 No Content\r\nX-B: 1\r\n\r\n",
    b"/closing": (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
                  b"until eof"),
    b"/claims": b"HTTP/1.1 200 OK\r\nX-Model-Predictor: spoofed\r\nContent-Length: 2\r\n\r\nok",
}


class ScriptedUpstream:
    """Answers each request with the raw bytes :data:`SCRIPTED` holds for its path."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> ScriptedUpstream:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while head := await reader.readuntil(b"\r\n\r\n"):
                    path = head.split(b" ", 2)[1]
                    writer.write(SCRIPTED[path])
                    await writer.drain()
                    if path == b"/closing":
                        break
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            writer.close()

        self._server = await asyncio.start_server(answer, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@dataclass
class Answer:
    """One response as bytes on the wire, split for comparison."""

    status_line: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    complete: bool = False


class _Reader:
    def __init__(self) -> None:
        self.answers: list[Answer] = [Answer()]
        self.parser = httptools.HttpResponseParser(self)

    def on_status(self, status: bytes) -> None:
        current = self.answers[-1]
        current.status_line = b"%d %s" % (self.parser.get_status_code(), status)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.answers[-1].headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.answers[-1].body += body

    def on_message_complete(self) -> None:
        self.answers[-1].complete = True
        self.answers.append(Answer())


async def exchange(port: int, raw: bytes, *, answers: int = 1, head: bool = False) -> list[Answer]:
    """Send ``raw``; the answers read back (a HEAD answer ends at its blank line)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    collected = _Reader()
    received = b""
    try:
        async with asyncio.timeout(10):
            while len(collected.answers) <= answers:
                data = await reader.read(65536)
                if not data:
                    break
                received += data
                if head:
                    if b"\r\n\r\n" in received:
                        top, _, _ = received.partition(b"\r\n\r\n")
                        lines = top.split(b"\r\n")
                        answer = Answer(status_line=lines[0].split(b" ", 1)[1], complete=True)
                        answer.headers = [(name, value) for name, _, value in
                                          (line.partition(b": ") for line in lines[1:])]
                        return [answer]
                    continue
                try:
                    collected.parser.feed_data(data)
                except httptools.HttpParserUpgrade:
                    break
    finally:
        writer.close()
    done = [answer for answer in collected.answers if answer.complete or answer.status_line]
    return done[:answers]


def normal(answer: Answer, *,
           request_id: bytes | None) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
    """The answer with what may differ between two runs made equal: Date, generated ids."""
    generated = next((value for name, value in answer.headers
                      if name.lower() == b"x-request-id" and request_id is None), None)
    headers = []
    for name, value in answer.headers:
        if name.lower() == b"date":
            value = b"<date>"
        elif generated is not None and value == generated:
            assert _GENERATED.fullmatch(value)
            value = b"<generated>"
        headers.append((name.lower(), value))
    body = answer.body if generated is None else answer.body.replace(generated, b"<generated>")
    return answer.status_line, sorted(headers), body


def request(method: str, path: str, *headers: str, body: bytes = b"",
            version: str = "1.1") -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: models.example", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def private(path: str, *headers: str, method: str = "GET", body: bytes = b"") -> bytes:
    extra = [f"Content-Length: {len(body)}"] if body or method in ("POST", "PUT") else []
    return request(method, f"/deployment/iris-abc12{path}", f"Authorization: {GOOD}",
                   f"X-Request-Id: {ID}", *extra, *headers, body=body)


# (name, raw request, answers expected, whether the fast path answers it itself)
CORPUS: Final = [
    ("cached client", private("/api/v1.0/predictions?x=1&y=%20z"), 1, True),
    ("small JSON body", private("/api/v1.0/predictions", "Content-Type: application/json",
                                method="POST", body=b'{"data": {"ndarray": [[1, 2]]}}'), 1, True),
    ("empty POST", private("/predict", method="POST"), 1, True),
    ("body over the limit", private("/predict", method="POST", body=b"x" * 3000), 1, True),
    ("generated request id", request("GET", "/deployment/iris-abc12/x",
                                     f"Authorization: {GOOD}"), 1, True),
    ("insane request id", request("GET", "/deployment/iris-abc12/x", f"Authorization: {GOOD}",
                                  "X-Request-Id: <script>"), 1, True),
    ("wrong token", request("GET", "/deployment/iris-abc12/x", f"Authorization: {WRONG}",
                            f"X-Request-Id: {ID}"), 1, True),
    ("no credentials", request("GET", "/deployment/iris-abc12/x", f"X-Request-Id: {ID}"), 1, True),
    ("malformed credentials", request("GET", "/deployment/iris-abc12/x",
                                      "Authorization: Basic !!!", f"X-Request-Id: {ID}"), 1, True),
    ("unknown deployment", request("GET", "/deployment/nope-00000/x", f"X-Request-Id: {ID}"),
     1, True),
    ("outside /deployment/", request("GET", "/admin", f"X-Request-Id: {ID}"), 1, True),
    ("stopped", request("GET", "/deployment/stop-00000/x", f"X-Request-Id: {ID}"), 1, True),
    ("not ready", request("GET", "/deployment/wait-00000/x", f"X-Request-Id: {ID}"), 1, True),
    ("upstream down", request("GET", "/deployment/down-00000/x", f"X-Request-Id: {ID}"), 1, True),
    ("public, encoded path", request("GET", "/deployment/open-00000/a%2Fb/%C3%A9?q=%ff",
                                     f"X-Request-Id: {ID}"), 1, True),
    ("encoded newline", request("GET", "/deployment/open-00000/a%0Ab", f"X-Request-Id: {ID}"),
     1, True),
    ("split traffic", request("GET", "/deployment/split-0000/x", f"X-Request-Id: {ID}"),
     1, True),
    ("one predictor by name", private("@predictor1/x"), 1, True),
    ("a 0% predictor by name", request("GET", "/deployment/split-0000@idle/x",
                                       f"X-Request-Id: {ID}"), 1, True),
    ("unknown predictor", private("@nope/x"), 1, True),
    ("unknown predictor, no credentials", request("GET", "/deployment/iris-abc12@nope/x",
                                                  f"X-Request-Id: {ID}"), 1, True),
    ("malformed predictor name", private("@No_Such/x"), 1, True),
    ("predictor not ready", request("GET", "/deployment/split-0000@down/x",
                                    f"X-Request-Id: {ID}"), 1, True),
    ("no predictor with traffic ready", request("GET", "/deployment/nothing-00/x",
                                                f"X-Request-Id: {ID}"), 1, True),
    ("predictor unreachable", request("GET", "/deployment/split-0000@gone/x",
                                      f"X-Request-Id: {ID}"), 1, True),
    ("model claims a predictor", request("GET", "/deployment/raw-00000/claims",
                                         f"X-Request-Id: {ID}"), 1, True),
    ("headers stripped and set", private(
        "/x", "X-Forwarded-User: mallory", "X_Forwarded_User: mallory", "x-forwarded-for: 6.6.6.6",
        "X-Forwarded-Proto: gopher", "X-Forwarded-Host: evil", "Forwarded: for=6.6.6.6",
        "X-Real-IP: 6.6.6.6", "True-Client-IP: 6.6.6.6", "Connection: X-Drop",
        "X-Drop: gone", "Keep-Alive: 5", "Proxy-Authorization: x", "TE: trailers",
        "X-Kept: yes", "X-Kept: twice"), 1, True),
    ("Connection: close", private("/x", "Connection: close"), 1, True),
    ("HEAD", private("/x", "Connection: close", method="HEAD"), 1, True),
    ("upstream 204", private("/status/204"), 1, True),
    ("upstream 304", private("/status/304"), 1, True),
    ("upstream 404", private("/status/404"), 1, True),
    ("upstream 500", private("/status/500"), 1, True),
    ("streamed answer", private("/bytes/200000"), 1, True),
    ("no Date, Server or type", request("GET", "/deployment/raw-00000/bare",
                                        f"X-Request-Id: {ID}"), 1, True),
    ("own reason, repeated header", request("GET", "/deployment/raw-00000/reason",
                                            f"X-Request-Id: {ID}"), 1, True),
    ("non-ASCII values", request("GET", "/deployment/raw-00000/latin", f"X-Request-Id: {ID}"),
     1, True),
    ("upstream request ids", request("GET", "/deployment/raw-00000/ids", f"X-Request-Id: {ID}"),
     1, True),
    ("upstream hop-by-hop", request("GET", "/deployment/raw-00000/hop", f"X-Request-Id: {ID}"),
     1, True),
    ("upstream chunked", request("GET", "/deployment/raw-00000/chunked", f"X-Request-Id: {ID}"),
     1, True),
    ("upstream empty", request("GET", "/deployment/raw-00000/empty", f"X-Request-Id: {ID}"),
     1, True),
    ("upstream 204 raw", request("GET", "/deployment/raw-00000/nocontent",
                                 f"X-Request-Id: {ID}"), 1, True),
    ("close-delimited", request("GET", "/deployment/raw-00000/closing", f"X-Request-Id: {ID}"),
     1, True),
    ("pipelined", private("/first") + private("/second", method="POST", body=b"abc")
     + request("GET", "/deployment/nope-00000/x", f"X-Request-Id: {ID}"), 3, True),
    ("HTTP/1.0", request("GET", "/deployment/iris-abc12/x", f"Authorization: {GOOD}",
                         f"X-Request-Id: {ID}", version="1.0"), 1, False),
    ("chunked upload", private("/x", "Transfer-Encoding: chunked", method="PATCH")
     + b"3\r\nabc\r\n0\r\n\r\n", 1, False),
    ("large upload", private("/x", method="PUT", body=b"y" * 70_000), 1, False),
    ("Expect: 100-continue", private("/x", "Expect: 100-continue", method="POST",
                                     body=b"abc"), 1, False),
    ("oversized head", private("/x", "X-Big: " + "b" * 9000), 1, False),
    ("malformed request line", b"GET /deployment/iris-abc12/x HTTP/1.1 extra\r\n\r\n", 1, False),
    ("WebSocket", private("/ws", "Upgrade: websocket", "Connection: Upgrade",
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                          "Sec-WebSocket-Version: 13"), 1, False),
]


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedUpstream]:
    """An upstream speaking the raw answers of :data:`SCRIPTED`."""
    server = await ScriptedUpstream().start()
    yield server
    await server.stop()


async def _both(start_proxy: StartProxy) -> tuple[RunningProxy, RunningProxy]:
    options = {"body_limit": 2048}
    return (await start_proxy(fast_path=True, **options),
            await start_proxy(fast_path=False, **options))


async def test_fast_and_aiohttp_paths_answer_alike(
        start_proxy: StartProxy, redis: Redis, upstream: Upstream,
        scripted: ScriptedUpstream) -> None:
    """Every request of the corpus gets the same status, headers and body on both paths."""
    fast, slow = await _both(start_proxy)
    await publish(redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                  clients={"app": TOKEN})
    await publish(redis, "open-00000", upstream.address)
    await publish(redis, "stop-00000", upstream.address, stopped=True)
    await publish(redis, "wait-00000", upstream.address, ready=False)
    await publish(redis, "down-00000", ("127.0.0.1", 9))
    await publish(redis, "raw-00000", ("127.0.0.1", scripted.port))
    await publish(redis, "split-0000", upstream.address, predictors=(
        Predictor("predictor1", *upstream.address, 100, ready=True),
        Predictor("idle", *upstream.address, 0, ready=True),
        Predictor("down", *upstream.address, 0, ready=False),
        Predictor("gone", "127.0.0.1", 9, 0, ready=True)))
    await publish(redis, "nothing-00", upstream.address, ready=False, predictors=(
        Predictor("predictor1", *upstream.address, 100, ready=False),
        Predictor("idle", *upstream.address, 0, ready=True)))
    for running in (fast, slow):
        await eventually(lambda running=running: running.app[ROUTES].get("raw-00000") is not None)
    # Verify the client once on each, so the corpus measures the cached path.
    for running in (fast, slow):
        warm = await exchange(running.port, private("/warm"))
        assert warm[0].status_line == b"200 OK"
    assert fast.front is not None
    for name, raw, count, answered_fast in CORPUS:
        before = fast.front.answered
        got = [await exchange(running.port, raw, answers=count, head=raw.startswith(b"HEAD"))
               for running in (fast, slow)]
        request_id = ID.encode() if ID.encode() in raw else None
        assert len(got[0]) == count, name
        fast_answers = [normal(answer, request_id=request_id) for answer in got[0]]
        slow_answers = [normal(answer, request_id=request_id) for answer in got[1]]
        assert fast_answers == slow_answers, name
        assert (fast.front.answered > before) == answered_fast, name


def _retry_after_normal(answer: tuple[bytes, list[tuple[bytes, bytes]], bytes]
                        ) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
    """Retry-After counts down a Redis TTL: two answers a moment apart may differ by a second."""
    status, headers, body = answer
    normalised = []
    for name, value in headers:
        if name == b"retry-after":
            assert int(value) > 0
            value = b"<seconds>"
        normalised.append((name, value))
    return status, normalised, body


async def test_lockout_and_data_plane_loss_answer_alike(
        start_proxy: StartProxy, redis: Redis, redis_server: RedisServer,
        upstream: Upstream) -> None:
    """A locked-out caller's 429, and after Redis comes back empty the 503s for what cannot be
    verified or routed, are the same on both paths (the cached client still passes on both)."""
    options = {"failed_login_limit": 2, "cache_ttl": 60}
    fast, slow = (await start_proxy(fast_path=True, **options),
                  await start_proxy(fast_path=False, **options))
    other = new_token()
    await publish(redis, "iris-abc12", upstream.address, access=Access.PRIVATE,
                  clients={"app": TOKEN, "other": other})
    await publish(redis, "open-00000", upstream.address)
    for running in (fast, slow):
        await eventually(lambda running=running: running.app[ROUTES].get("open-00000") is not None)
        assert (await exchange(running.port, private("/warm")))[0].status_line == b"200 OK"

    async def compare(raw: bytes) -> bytes:
        got = [await exchange(running.port, raw) for running in (fast, slow)]
        answers = [_retry_after_normal(normal(answer[0], request_id=ID.encode()))
                   for answer in got]
        assert answers[0] == answers[1], raw
        return answers[0][0]

    wrong = request("GET", "/deployment/iris-abc12/x", f"Authorization: {WRONG}",
                    f"X-Request-Id: {ID}")
    assert await compare(wrong) == b"401 Unauthorized"  # two failures: the limit
    assert await compare(wrong) == b"429 Too Many Requests"

    redis_server.restart()  # empty: no epoch until a controller republishes
    for running in (fast, slow):
        await eventually(lambda running=running: not running.app[ROUTES].complete, within=10)
    assert await compare(private("/x")) == b"200 OK"  # verified before: cached
    other_client = "Basic " + base64.b64encode(f"other:{other}".encode()).decode()
    assert await compare(request("GET", "/deployment/iris-abc12/x",
                                 f"Authorization: {other_client}",
                                 f"X-Request-Id: {ID}")) == b"503 Service Unavailable"
    assert await compare(request("GET", "/deployment/unknown-1/x",
                                 f"X-Request-Id: {ID}")) == b"503 Service Unavailable"
    assert await compare(request("GET", "/deployment/open-00000/x",
                                 f"X-Request-Id: {ID}")) == b"200 OK"
