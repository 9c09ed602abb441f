"""Read your writes for tokens: a client token is returned only once the proxy can verify it.

The controller is the data plane's only writer (design.md): it publishes a deployment's route
and its whole credential set in one transaction, from caches that only move forward. The proxy
verifies a token it has not seen by reading the client's hash from Redis
(:func:`proxy.records.clients_key`). So the API does not write Redis itself: a write-through
would race the controller, whose next publish from a cache that has not yet seen the new
client replaces the credential set without it (a 401 after a token that worked). Instead a
mutation that issues or enables tokens waits, bounded by ``API_DATA_PLANE_WAIT``, until each
client's credential in Redis (:func:`proxy.records.decode_credential`: the hash, or the keys
of a rotation's overlap) includes the hash it stored; from then on every publish carries it,
since the controller's caches have seen it.

One case has nothing to wait for: a deployment the controller cannot route (no Service, a
configuration problem reported as ``Failed`` for this spec). Its credentials are published
together with its route if it ever gets one, so the caller decides that through ``settled``.

The wait polls (a few milliseconds at first, backing off), which costs a handful of Redis
round trips per mutation and needs no subscription kept open in every API replica. Redis
being unreachable counts as "not yet" until the deadline: the error then names it.

A promotion waits the same way for a route (:meth:`DataPlane.routed`): until the published
route of the deployment satisfies a condition (everything to the promoted predictor).

The same connection reads the proxies' usage counters for a client's ``lastUsedAt``
(:func:`proxy.usage.last_used`) and the API's own for an API token's
(:mod:`gateway.api.tokenusage`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.api import tokenusage
from proxy.records import (
    ROUTES_KEY,
    RecordError,
    Route,
    clients_key,
    decode_credential,
    decode_route,
)
from proxy.usage import last_used

FIRST_POLL: Final = 0.005
LAST_POLL: Final = 0.1


class NotConfirmed(Exception):
    """The data plane did not show the credentials within the wait; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DataPlane:
    """Waits until the proxy's view of a deployment's credentials includes given hashes."""

    def __init__(self, redis: Redis, *, wait: float) -> None:
        self._redis = redis
        self._wait = wait

    async def confirm(self, deployment_id: str, credentials: Mapping[str, str], *,
                      settled: Callable[[], bool]) -> None:
        """Return once Redis holds ``credentials`` (client -> hash) for the deployment, or it
        has no route and ``settled()`` says none is coming; :class:`NotConfirmed` otherwise."""
        if not credentials:
            return
        names = sorted(credentials)
        delay = FIRST_POLL
        problem = "the controller has not published them"
        try:
            async with asyncio.timeout(self._wait):
                while True:
                    try:
                        found, routed = await self._read(deployment_id, names)
                    except (RedisError, OSError) as error:
                        problem = f"Redis cannot be reached ({type(error).__name__})"
                    else:
                        if all(credentials[name] in hashes
                               for name, hashes in zip(names, found, strict=True)) or (
                                not routed and settled()):
                            return
                        problem = "the controller has not published them"
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, LAST_POLL)
        except TimeoutError:
            raise NotConfirmed(f"{problem} within {self._wait:g} s") from None

    async def routed(self, deployment_id: str, accept: Callable[[Route], bool], *,
                     settled: Callable[[], bool]) -> None:
        """Return once the published route of the deployment satisfies ``accept``, or there is
        none and ``settled()`` says none is coming; :class:`NotConfirmed` otherwise."""
        delay = FIRST_POLL
        problem = "the controller has not published the route"
        try:
            async with asyncio.timeout(self._wait):
                while True:
                    try:
                        raw = await self._redis.hget(ROUTES_KEY, deployment_id)
                    except (RedisError, OSError) as error:
                        problem = f"Redis cannot be reached ({type(error).__name__})"
                    else:
                        if raw is None and settled():
                            return
                        with contextlib.suppress(RecordError):
                            if raw is not None and accept(decode_route(deployment_id, raw)):
                                return
                        problem = "the controller has not published the route"
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, LAST_POLL)
        except TimeoutError:
            raise NotConfirmed(f"{problem} within {self._wait:g} s") from None

    async def last_used(self, deployment_id: str, client: str) -> float | None:
        """When a proxy last let ``client`` in (unix s, as of the last usage flush)."""
        return await last_used(self._redis, deployment_id, client)

    async def token_last_used(self, token_id: str) -> float | None:
        """When an API replica last accepted the API token (unix s, as of its last write)."""
        return await tokenusage.last_used(self._redis, token_id)

    async def _read(self, deployment_id: str,
                    names: list[str]) -> tuple[list[frozenset[str]], bool]:
        """Each client's published hashes (none when absent or unreadable); whether routed."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hmget(clients_key(deployment_id), names)
            pipe.hexists(ROUTES_KEY, deployment_id)
            raw, routed = await pipe.execute()
        return [_hashes(item) for item in raw], bool(routed)


def _hashes(raw: str | bytes | None) -> frozenset[str]:
    if raw is None:
        return frozenset()
    try:
        return frozenset(key.hash for key in decode_credential(raw))
    except RecordError:
        return frozenset()
