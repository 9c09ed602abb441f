"""Keeping the route table and the verified cache in step with Redis, through pub/sub.

One task per process subscribes to :data:`~proxy.records.EVENTS_CHANNEL`. Every subscription
confirmation, the first one and each one after a reconnect, reloads the whole route table and
clears the verified cache: events may have been missed while disconnected. A ``deployment``
event reloads that route and reconciles the cache with its current credentials, so a deleted
or replaced client stops working at once while the others stay cached; a ``resync`` event does
the same for everything. A malformed event is treated as a resync.

Every read also asks for the epoch (:mod:`proxy.records`). Without it Redis has lost data
(flushed, restarted empty) and what is missing may only be missing for now, so nothing is
removed: the table keeps every route it knew and only takes new ones, the cache keeps its
entries (their TTL still bounds them), and the table is marked incomplete, so the proxy
answers 503, not 404, for deployments it does not know. The controller's resync brings the
epoch back with a ``resync`` event, and that reload makes the table complete again.

While Redis is unreachable the task retries with capped exponential backoff; the proxy keeps
serving the routes it knows and the cache entries until their TTL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from proxy.cache import VerifiedCache
from proxy.cancelling import raise_if_cancelled
from proxy.records import (
    EPOCH_KEY,
    EVENTS_CHANNEL,
    ROUTES_KEY,
    DeploymentChanged,
    RecordError,
    Route,
    clients_key,
    decode_event,
    decode_route,
)
from proxy.routes import RouteTable

log = logging.getLogger(__name__)

RETRY_FIRST: Final = 0.05
RETRY_MAX: Final = 2.0


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _credentials(raw: Mapping[Any, Any]) -> dict[str, str]:
    return {_text(name): _text(value) for name, value in raw.items()}


def _route(deployment_id: str, raw: str | bytes) -> Route | None:
    try:
        return decode_route(deployment_id, raw)
    except RecordError as error:
        log.error("ignoring a malformed route: %s", error)
        return None


class ChangeFollower:
    def __init__(self, *, redis: Redis, routes: RouteTable, cache: VerifiedCache) -> None:
        self._redis = redis
        self._routes = routes
        self._cache = cache

    async def run(self) -> None:
        """Follow events until cancelled, reconnecting as needed."""
        delay = RETRY_FIRST
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(EVENTS_CHANNEL)
                    async for message in pubsub.listen():
                        raise_if_cancelled()
                        if message["type"] == "subscribe":
                            await self._reload(clear=True)
                            delay = RETRY_FIRST
                        elif message["type"] == "message":
                            await self._apply(message["data"])
            except (RedisError, OSError) as error:
                log.warning("event subscription lost (%s); retrying in %.2fs", error, delay)
            raise_if_cancelled()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    async def _apply(self, raw: str | bytes) -> None:
        try:
            event = decode_event(raw)
        except RecordError as error:
            log.error("malformed event (%s); resynchronising", error)
            await self._reload(clear=False)
            return
        if isinstance(event, DeploymentChanged):
            await self._refresh(event.deployment_id)
        else:
            await self._reload(clear=False)

    async def _refresh(self, deployment_id: str) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(EPOCH_KEY)
            pipe.hget(ROUTES_KEY, deployment_id)
            pipe.hgetall(clients_key(deployment_id))
            epoch, raw_route, raw_credentials = await pipe.execute()
        route = None if raw_route is None else _route(deployment_id, raw_route)
        if route is not None:
            self._routes.put(route)
        elif epoch:
            self._routes.remove(deployment_id)
        if epoch or route is not None:  # a route and its credentials are written together
            self._cache.reconcile(deployment_id, _credentials(raw_credentials))

    async def _reload(self, *, clear: bool) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(EPOCH_KEY)
            pipe.hgetall(ROUTES_KEY)
            epoch, raw_routes = await pipe.execute()
        found = (_route(_text(name), raw) for name, raw in raw_routes.items())
        routes = [route for route in found if route is not None]
        if not epoch:
            log.warning("Redis holds no data-plane epoch (flushed or restarted empty); "
                        "keeping the %d known routes until the controller republishes",
                        len(self._routes))
            self._routes.keep_and_add(routes)
            return
        self._routes.replace(routes)
        if clear:
            self._cache.clear()
            return
        cached = self._cache.deployments()
        async with self._redis.pipeline(transaction=False) as pipe:
            for deployment_id in cached:
                pipe.hgetall(clients_key(deployment_id))
            credential_sets = await pipe.execute()
        for deployment_id, raw_credentials in zip(cached, credential_sets, strict=True):
            self._cache.reconcile(deployment_id, _credentials(raw_credentials))
