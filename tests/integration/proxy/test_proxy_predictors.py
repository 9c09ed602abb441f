"""Several predictors behind one deployment: split by weight, by name, sticky, never dropped.

Real upstream servers, one per predictor, behind the real proxy on both front ends (the fast
path and aiohttp's); the proxy says which predictor answered in ``X-Model-Predictor``, and
each server's own count of what it saw must agree.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import httptools
import pytest
from proxykit import StartProxy, Upstream, basic, eventually, new_token, publish, routed, url
from redis.asyncio import Redis

from proxy.app import METRICS, ROUTES
from proxy.records import Access
from proxy.records import Upstream as Predictor
from proxy.serving import RunningProxy

PATHS = pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "aiohttp"])


@pytest.fixture
async def servers() -> AsyncIterator[list[Upstream]]:
    """Four model-server stand-ins: one per predictor."""
    started = [await Upstream().start() for _ in range(4)]
    yield started
    for server in started:
        await server.stop()


async def _get(http: aiohttp.ClientSession, port: int, path: str,
               headers: dict[str, str]) -> tuple[int, str | None, dict[str, str]]:
    async with http.get(url(port, path), headers=headers) as response:
        body = await response.read()
        problem = json.loads(body) if response.content_type == "application/json" else {}
        return response.status, response.headers.get("X-Model-Predictor"), problem


class CountingUpstream:
    """A minimal model server: answers every request ``200 ok`` and counts them.

    The 10,000-request test measures the proxy's split; a lighter server and client than
    aiohttp's keep the test's own cost down (all of it shares one event loop).
    """

    def __init__(self) -> None:
        self.requests = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> CountingUpstream:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while await reader.readuntil(b"\r\n\r\n"):  # GETs without a body
                    self.requests += 1
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
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


class _Answers:
    """httptools callbacks: the status and ``X-Model-Predictor`` of each answer read."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.named: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self._predictor = ""

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"x-model-predictor":
            self._predictor = value.decode()

    def on_message_complete(self) -> None:
        self.statuses[self.parser.get_status_code()] += 1
        self.named[self._predictor] += 1
        self._predictor = ""


async def _pipelined(port: int, raw: bytes, count: int) -> _Answers:
    """Send ``raw`` ``count`` times on one connection; the answers, once all are read."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = _Answers()
    writer.write(raw * count)
    try:
        while sum(answers.statuses.values()) < count:
            data = await reader.read(65536)
            assert data, "the proxy closed the connection early"
            answers.parser.feed_data(data)
    finally:
        writer.close()
    return answers


# The fast path serves nearly every request; the aiohttp path shares the same split, so a
# shorter run (still 20 whole cycles) checks its plumbing at a fraction of the time.
@pytest.mark.parametrize(("fast_path", "requests"), [(True, 10_000), (False, 2_000)],
                         ids=["fast", "aiohttp"])
async def test_split_traffic_meets_the_weights_over_ten_thousand_requests(
        fast_path: bool, requests: int, start_proxy: StartProxy, redis: Redis) -> None:
    """70/20/10/0: each share within 2 points over 10,000 requests, 0% none, counted per label."""
    proxy = await start_proxy(fast_path=fast_path)
    token = new_token()
    servers = [await CountingUpstream().start() for _ in range(4)]
    weights = {"predictor1": 70, "canary": 20, "third": 10, "idle": 0}
    try:
        await routed(proxy, redis, "iris-abc12", ("127.0.0.1", servers[0].port),
                     access=Access.PRIVATE, clients={"app": token}, predictors=tuple(
                         Predictor(name, "127.0.0.1", server.port, weight, ready=True)
                         for (name, weight), server in zip(weights.items(), servers,
                                                           strict=True)))
        raw = (f"GET /deployment/iris-abc12/x HTTP/1.1\r\nHost: models.example\r\n"
               f"Authorization: {basic('app', token)}\r\n\r\n").encode()
        connections = 16
        read = await asyncio.gather(*(_pipelined(proxy.port, raw, requests // connections)
                                      for _ in range(connections)))
    finally:
        for server in servers:
            await server.stop()
    named = sum((answers.named for answers in read), Counter[str]())
    assert sum((answers.statuses for answers in read), Counter[int]()) == {200: requests}
    for (name, weight), server in zip(weights.items(), servers, strict=True):
        assert abs(named[name] * 100 / requests - weight) <= 2, named
        assert server.requests == named[name]  # the header names the server that answered
        assert proxy.app[METRICS].value("proxy_requests_total", {
            "deployment": "iris-abc12", "predictor": name, "client": "app", "method": "GET",
            "status_class": "2xx"}) == named[name]
    assert named["idle"] == 0
    assert sum(named.values()) == requests


@PATHS
async def test_each_predictor_has_its_own_url_with_the_deployments_credentials(
        fast_path: bool, start_proxy: StartProxy, redis: Redis, servers: list[Upstream],
        http: aiohttp.ClientSession) -> None:
    """<id>@<name> reaches that predictor, 0% included; unknown or malformed names are 404."""
    proxy = await start_proxy(fast_path=fast_path)
    token = new_token()
    primary, idle = servers[:2]
    await routed(proxy, redis, "iris-abc12", primary.address, access=Access.PRIVATE,
                 clients={"app": token},
                 predictors=(primary.predictor("predictor1", 100), idle.predictor("idle", 0)))
    auth = {"Authorization": basic("app", token)}
    status, predictor, _ = await _get(http, proxy.port, "/deployment/iris-abc12@idle/a?b=1",
                                      auth)
    assert (status, predictor) == (200, "idle")
    assert [(seen["path"], seen["query"]) for seen in idle.seen] == [("/a", "b=1")]
    forwarded_user = [value for name, value in idle.seen[0]["headers"]
                      if name.lower() == "x-forwarded-user"]
    assert forwarded_user == ["app"]
    status, predictor, _ = await _get(http, proxy.port, "/deployment/iris-abc12@predictor1/a",
                                      auth)
    assert (status, predictor) == (200, "predictor1")

    status, _, problem = await _get(http, proxy.port, "/deployment/iris-abc12@nope/a", auth)
    assert (status, problem["error"]) == (404, "predictor_not_found")
    assert "no predictor named nope" in problem["message"]
    # Without credentials a private deployment reveals nothing about its predictors.
    status, _, problem = await _get(http, proxy.port, "/deployment/iris-abc12@nope/a", {})
    assert status == 401
    status, _, problem = await _get(http, proxy.port, "/deployment/iris-abc12@idle/a",
                                    {"Authorization": basic("app", "mgc_wrong")})
    assert status == 401
    for malformed in ("Idle", "idle_1", "", "a" * 17, "-idle", "idle@x", "idle%0A"):
        status, _, problem = await _get(
            http, proxy.port, f"/deployment/iris-abc12@{malformed}/a", auth)
        assert (status, problem["error"]) == (404, "predictor_not_found"), malformed
        assert "predictor name" in problem["message"]
    status, _, problem = await _get(http, proxy.port, "/deployment/nope-00000@idle/a", auth)
    assert (status, problem["error"]) == (404, "deployment_not_found")
    assert len(idle.seen) == 1


@PATHS
async def test_split_traffic_avoids_a_predictor_that_is_not_ready(
        fast_path: bool, start_proxy: StartProxy, redis: Redis, servers: list[Upstream],
        http: aiohttp.ClientSession) -> None:
    """A not-ready canary's share goes to the primary; its own URL answers 503 until ready."""
    proxy = await start_proxy(fast_path=fast_path)
    primary, canary = servers[:2]
    await routed(proxy, redis, "open-00000", primary.address, ready=False,
                 predictors=(primary.predictor("predictor1", 50),
                             canary.predictor("canary", 50, ready=False)))
    for _ in range(6):
        assert (await _get(http, proxy.port, "/deployment/open-00000/x", {}))[:2] == (
            200, "predictor1")
    status, _, problem = await _get(http, proxy.port, "/deployment/open-00000@canary/x", {})
    assert (status, problem["error"]) == (503, "predictor_not_ready")
    assert canary.seen == []

    await routed(proxy, redis, "open-00000", primary.address, ready=False,
                 predictors=(primary.predictor("predictor1", 100, ready=False),
                             canary.predictor("canary", 0)))
    status, _, problem = await _get(http, proxy.port, "/deployment/open-00000/x", {})
    assert (status, problem["error"]) == (503, "deployment_not_ready")
    assert (await _get(http, proxy.port, "/deployment/open-00000@canary/x", {}))[:2] == (
        200, "canary")


@PATHS
async def test_sticky_deployments_keep_each_client_on_one_predictor(
        fast_path: bool, start_proxy: StartProxy, redis: Redis, servers: list[Upstream],
        http: aiohttp.ClientSession) -> None:
    """Private: by client name; public: by caller address; both spread over the predictors."""
    proxy = await start_proxy(fast_path=fast_path, trusted_hops=1)
    primary, canary = servers[:2]
    predictors = (primary.predictor("predictor1", 50), canary.predictor("canary", 50))
    tokens = {f"app-{n}": new_token() for n in range(12)}
    await routed(proxy, redis, "iris-abc12", primary.address, access=Access.PRIVATE,
                 clients=tokens, predictors=predictors, sticky=True)
    await routed(proxy, redis, "open-00000", primary.address, predictors=predictors,
                 sticky=True)
    by_client = {}
    for client, token in tokens.items():
        seen = {(await _get(http, proxy.port, "/deployment/iris-abc12/x",
                            {"Authorization": basic(client, token)}))[1] for _ in range(4)}
        assert len(seen) == 1, client
        by_client[client] = seen.pop()
    by_address = {}
    for n in range(12):
        address = f"192.0.2.{n}"
        seen = {(await _get(http, proxy.port, "/deployment/open-00000/x",
                            {"X-Forwarded-For": address}))[1] for _ in range(4)}
        assert len(seen) == 1, address
        by_address[address] = seen.pop()
    # Both spread: the hash is deterministic, and these twelve names and addresses split.
    assert set(by_client.values()) == {"predictor1", "canary"}
    assert set(by_address.values()) == {"predictor1", "canary"}


@PATHS
async def test_a_request_in_flight_to_a_removed_predictor_finishes(
        fast_path: bool, start_proxy: StartProxy, redis: Redis, servers: list[Upstream],
        http: aiohttp.ClientSession) -> None:
    """Promote: the canary leaves the route while answering; its requests still complete."""
    proxy = await start_proxy(fast_path=fast_path)
    primary, canary = servers[:2]
    await routed(proxy, redis, "open-00000", primary.address,
                 predictors=(primary.predictor("predictor1", 50),
                             canary.predictor("canary", 50)))
    hanging = [asyncio.create_task(_get(http, proxy.port, path, {})) for path in (
        "/deployment/open-00000@canary/hang", "/deployment/open-00000/hang",
        "/deployment/open-00000/hang")]
    await eventually(lambda: canary.hanging == 2 and primary.hanging == 1)
    promoted = await publish(redis, "open-00000", canary.address,
                             predictors=(canary.predictor("canary", 100),))
    await eventually(lambda: proxy.app[ROUTES].get("open-00000") == promoted)
    assert (await _get(http, proxy.port, "/deployment/open-00000/x", {}))[:2] == (200, "canary")
    status, _, problem = await _get(http, proxy.port, "/deployment/open-00000@predictor1/x", {})
    assert (status, problem["error"]) == (404, "predictor_not_found")
    assert not any(task.done() for task in hanging)
    primary.release.set()
    canary.release.set()
    answers = sorted((status, predictor) for status, predictor, _ in
                     await asyncio.gather(*hanging))
    assert answers == [(200, "canary"), (200, "canary"), (200, "predictor1")]


@PATHS
async def test_a_failing_predictor_is_named_in_the_proxys_own_answer(
        fast_path: bool, start_proxy: StartProxy, redis: Redis, servers: list[Upstream],
        http: aiohttp.ClientSession) -> None:
    """A 502 for an unreachable predictor carries X-Model-Predictor, so a failing canary shows."""
    proxy = await start_proxy(fast_path=fast_path)
    primary = servers[0]
    await routed(proxy, redis, "open-00000", primary.address, predictors=(
        primary.predictor("predictor1", 100), Predictor("canary", "127.0.0.1", 9, 0, ready=True)))
    status, predictor, problem = await _get(http, proxy.port, "/deployment/open-00000@canary/x",
                                            {})
    assert (status, predictor, problem["error"]) == (502, "canary", "upstream_unavailable")


async def test_the_proxy_picks_up_a_new_split_without_restarting(
        proxy: RunningProxy, redis: Redis, servers: list[Upstream],
        http: aiohttp.ClientSession) -> None:
    """Publishing new weights changes where split traffic goes on the next request."""
    primary, canary = servers[:2]
    await routed(proxy, redis, "open-00000", primary.address)
    assert (await _get(http, proxy.port, "/deployment/open-00000/x", {}))[1] == "predictor1"
    await routed(proxy, redis, "open-00000", primary.address,
                 predictors=(primary.predictor("predictor1", 0), canary.predictor("canary", 100)))
    assert (await _get(http, proxy.port, "/deployment/open-00000/x", {}))[1] == "canary"
