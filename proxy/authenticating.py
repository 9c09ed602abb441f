"""Checking a client's token for a private deployment, cheaply when warm and safely when not.

Warm path: an HMAC and a dict lookup in :class:`~proxy.cache.VerifiedCache`, no I/O.

Cold path, once per (deployment, client, token) however many requests arrive together (they
share one task): one pipelined Redis round trip fetches the client's hash and both
failed-login counters; past the limit the answer is 429 before any hashing; otherwise passlib
verifies in a thread pool, never on the event loop. An unknown client costs a dummy
verification too, so timing does not tell which client names exist. Failures increment both
counters (created with the window as TTL); a success resets the client's counter, and a
legacy hash is upgraded and the replacement recorded for the controller.

Fail closed: if Redis cannot be asked, or the stored hash cannot be checked, the answer is
"unavailable" (503), never a pass. Only entries already in the cache keep working.
"""

from __future__ import annotations

import asyncio
import logging
import math
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from passlib.context import CryptContext
from passlib.exc import MissingBackendError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from proxy.cache import VerifiedCache
from proxy.credentials import BasicCredentials
from proxy.metrics import ProxyMetrics
from proxy.publishing import request_hash_upgrade
from proxy.records import HashUpgrade, clients_key, failed_address_key, failed_client_key

log = logging.getLogger(__name__)


class AuthFailure(Exception):
    """The request may not pass; subclasses say which answer to give."""


class Unauthenticated(AuthFailure):
    """No, wrong or malformed credentials: 401."""


class LockedOut(AuthFailure):
    """Too many recent failures for this client or address: 429 after ``retry_after`` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed logins")
        self.retry_after = retry_after


class Unavailable(AuthFailure):
    """The credential cannot be checked now (Redis down, unreadable hash): 503."""


@dataclass(frozen=True, slots=True)
class LoginLimits:
    failures: int
    window: float


class Authenticator:
    def __init__(self, *, redis: Redis, cache: VerifiedCache, context: CryptContext,
                 executor: Executor, limits: LoginLimits, metrics: ProxyMetrics) -> None:
        self._redis = redis
        self._cache = cache
        self._context = context
        self._executor = executor
        self._limits = limits
        self._metrics = metrics
        self._flights: dict[bytes, asyncio.Task[str]] = {}
        self._hit = metrics.cache.labels("hit")
        self._cached = metrics.auth.labels("cached")

    async def authenticate(self, *, deployment_id: str, credentials: BasicCredentials,
                           address: str) -> str:
        """The verified client name, or an :class:`AuthFailure`."""
        key = self._cache.key(deployment_id, credentials.client, credentials.token)
        entry = self._cache.get(key)
        if entry is not None:
            self._hit.inc()
            self._cached.inc()
            return entry.client
        self._metrics.cache.labels("miss").inc()
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.create_task(self._check(key, deployment_id, credentials, address))
            self._flights[key] = flight
            flight.add_done_callback(lambda _: self._flights.pop(key, None))
        # shield: a caller that goes away must not cancel the check others are waiting on.
        return await asyncio.shield(flight)

    async def _check(self, key: bytes, deployment_id: str, credentials: BasicCredentials,
                     address: str) -> str:
        generation = self._cache.generation
        client_counter = failed_client_key(deployment_id, credentials.client)
        address_counter = failed_address_key(address)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hget(clients_key(deployment_id), credentials.client)
                pipe.get(client_counter)
                pipe.pttl(client_counter)
                pipe.get(address_counter)
                pipe.pttl(address_counter)
                stored, client_fails, client_ttl, address_fails, address_ttl = (
                    await pipe.execute())
        except (RedisError, OSError) as error:
            self._metrics.auth.labels("unavailable").inc()
            raise Unavailable("credential store unreachable") from error
        self._check_limits((client_fails, client_ttl), (address_fails, address_ttl))
        stored_hash = stored.decode() if isinstance(stored, bytes) else stored
        ok, replacement = await self._verify(credentials.token, stored_hash)
        if not ok or stored_hash is None:
            await self._count_failure(client_counter, address_counter)
            self._metrics.auth.labels("rejected").inc()
            raise Unauthenticated("wrong credentials")
        if self._cache.generation == generation:
            self._cache.put(key, deployment_id=deployment_id, client=credentials.client,
                            credential_hash=stored_hash)
        await self._after_success(client_counter, HashUpgrade(
            deployment_id, credentials.client, stored_hash, replacement) if replacement else None)
        self._metrics.auth.labels("verified").inc()
        return credentials.client

    def _check_limits(self, *counters: tuple[Any, Any]) -> None:
        waits = [ttl for count, ttl in counters
                 if count is not None and int(count) >= self._limits.failures]
        if waits:
            self._metrics.auth.labels("locked").inc()
            longest = max(waits)
            retry_after = math.ceil(longest / 1000) if longest > 0 else math.ceil(
                self._limits.window)
            raise LockedOut(retry_after)

    async def _verify(self, token: str, stored_hash: str | None) -> tuple[bool, str | None]:
        loop = asyncio.get_running_loop()
        try:
            if stored_hash is None:
                await loop.run_in_executor(self._executor, self._context.dummy_verify)
                return False, None
            ok, replacement = await loop.run_in_executor(
                self._executor, self._context.verify_and_update, token, stored_hash)
        except (ValueError, TypeError, MissingBackendError) as error:
            # A corrupt hash, an unknown scheme, or a scheme whose library is not installed.
            log.error("stored hash for a client cannot be verified: %s", type(error).__name__)
            self._metrics.auth.labels("unavailable").inc()
            raise Unavailable("credential cannot be checked") from error
        return bool(ok), replacement

    async def _count_failure(self, *counters: str) -> None:
        window = math.ceil(self._limits.window)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for counter in counters:
                    pipe.set(counter, 0, ex=window, nx=True)  # start the window once
                    pipe.incr(counter)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("could not count a failed login: %s", error)

    async def _after_success(self, client_counter: str, upgrade: HashUpgrade | None) -> None:
        try:
            await self._redis.delete(client_counter)
            if upgrade is not None:
                await request_hash_upgrade(self._redis, upgrade=upgrade)
        except (RedisError, OSError) as error:
            log.warning("could not record a successful login: %s", error)
