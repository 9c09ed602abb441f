"""Checking a client's token for a private deployment, cheaply when warm and safely when not.

Warm path: a keyed hash of the ``Authorization`` header as sent and a dict lookup in
:class:`~proxy.cache.VerifiedCache` (:meth:`Authenticator.cached`), no parsing, no I/O.

Cold path, once per (deployment, client, token) and source address however many requests
arrive together (they share one task; the address is part of the key because the limits
are): one pipelined Redis round trip fetches the client's hash, the data-plane
epoch and the failure counters of :mod:`proxy.loginlimits`. A (client, address) pair or an
address past its limit gets 429 before any hashing; a client past its backoff threshold waits
first; then passlib verifies in a thread pool, never on the event loop. An unknown client
costs a dummy verification too, so timing does not tell which client names exist. A failure
increments the three counters (each created with the window as TTL), and a count that just
reached a limit starts a refusal streak, audited once (:mod:`proxy.refusals`); a success
clears the pair's counter, and a legacy hash is upgraded and the replacement recorded for the
controller.

Expiry: a client's credential may list several hashes, each with its expiry
(:func:`proxy.records.decode_credential`). A token that matches only an expired one is
refused as :class:`Expired` (401, and the access line says so); it counts no failed login,
since whoever sent it once held the right token, and a client that keeps sending it after a
rotation must not lock its own address out of the new one. A success is cached no longer
than its key has left, so a cached token stops working at its expiry, not a TTL later.

Fail closed: if Redis cannot be asked, or the stored hash cannot be checked, the answer is
"unavailable" (503), never a pass. Only entries already in the cache keep working. The same
holds while the data plane is incomplete (no epoch, see :mod:`proxy.records`): a missing hash
may only mean Redis lost it, so it is "unavailable", and no failure is counted.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import Executor

from passlib.context import CryptContext
from passlib.exc import MissingBackendError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from proxy.cache import VerifiedCache
from proxy.credentials import BasicCredentials
from proxy.loginlimits import FailureCount, LoginLimits, retry_after
from proxy.metrics import ProxyMetrics
from proxy.publishing import request_hash_upgrade
from proxy.records import (
    EPOCH_KEY,
    CredentialKey,
    HashUpgrade,
    RecordError,
    clients_key,
    decode_credential,
    failed_address_key,
    failed_client_key,
    failed_pair_key,
)
from proxy.refusals import RefusalStreaks

log = logging.getLogger(__name__)


class AuthFailure(Exception):
    """The request may not pass; subclasses say which answer to give."""


class Unauthenticated(AuthFailure):
    """No, wrong or malformed credentials: 401."""


class Expired(Unauthenticated):
    """The right token, past its expiry: 401, and the access line says "expired"."""


class LockedOut(AuthFailure):
    """Too many recent failures of this client from this address, or from this address: 429
    after ``retry_after`` s."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed logins")
        self.retry_after = retry_after


class Unavailable(AuthFailure):
    """The credential cannot be checked now (Redis down or incomplete, unreadable hash): 503."""


class Authenticator:
    def __init__(self, *, redis: Redis, cache: VerifiedCache, context: CryptContext,
                 executor: Executor, limits: LoginLimits, metrics: ProxyMetrics,
                 streaks: RefusalStreaks, wall_clock: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._streaks = streaks
        self._wall_clock = wall_clock
        self._cache = cache
        self._context = context
        self._executor = executor
        self._limits = limits
        self._metrics = metrics
        # One check per credential and source address: the failure limits depend on both.
        self._flights: dict[tuple[bytes, str], asyncio.Task[str]] = {}
        self._hit = metrics.cache.labels("hit")
        self._cached = metrics.auth.labels("cached")

    def cached(self, deployment_id: str, authorization: str) -> str | None:
        """The client whose ``Authorization`` header was verified recently, without parsing it."""
        entry = self._cache.get(self._cache.key(deployment_id, authorization))
        if entry is None:
            return None
        self._hit.inc()
        self._cached.inc()
        return entry.client

    async def authenticate(self, *, deployment_id: str, authorization: str,
                           credentials: BasicCredentials, address: str,
                           request_id: str = "") -> str:
        """The verified client name, or an :class:`AuthFailure`.

        ``credentials`` are what ``authorization``, the header as sent, holds;
        ``request_id`` names the request in an audit record of a refusal streak it starts.
        """
        key = self._cache.key(deployment_id, authorization)
        entry = self._cache.get(key)
        if entry is not None:
            self._hit.inc()
            self._cached.inc()
            return entry.client
        self._metrics.cache.labels("miss").inc()
        flight_key = (key, address)
        flight = self._flights.get(flight_key)
        if flight is None:
            flight = asyncio.create_task(self._check(key, deployment_id, credentials, address,
                                                     request_id))
            self._flights[flight_key] = flight
            flight.add_done_callback(lambda _: self._flights.pop(flight_key, None))
        # shield: a caller that goes away must not cancel the check others are waiting on.
        return await asyncio.shield(flight)

    async def _check(self, key: bytes, deployment_id: str, credentials: BasicCredentials,
                     address: str, request_id: str) -> str:
        generation = self._cache.generation
        counters = (failed_pair_key(deployment_id, credentials.client, address),
                    failed_address_key(address),
                    failed_client_key(deployment_id, credentials.client))
        pair_counter, address_counter, client_counter = counters
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hget(clients_key(deployment_id), credentials.client)
                pipe.exists(EPOCH_KEY)
                pipe.get(pair_counter)
                pipe.pttl(pair_counter)
                pipe.get(address_counter)
                pipe.pttl(address_counter)
                pipe.get(client_counter)
                (stored, epoch, pair_fails, pair_ttl, address_fails, address_ttl,
                 client_fails) = await pipe.execute()
        except (RedisError, OSError) as error:
            self._metrics.auth.labels("unavailable").inc()
            raise Unavailable("credential store unreachable") from error
        complete = bool(epoch)
        if complete:
            wait = retry_after(self._limits, pair=FailureCount.parse(pair_fails, pair_ttl),
                               address=FailureCount.parse(address_fails, address_ttl))
            if wait is not None:
                self._metrics.auth.labels("locked").inc()
                raise LockedOut(wait)
            delay = self._limits.backoff(FailureCount.parse(client_fails, None).failures)
            if delay:
                await asyncio.sleep(delay)
        stored_value = stored.decode() if isinstance(stored, bytes) else stored
        if stored_value is None and not complete:
            self._metrics.auth.labels("unavailable").inc()
            raise Unavailable("the data plane is being republished")
        matched, replacement = await self._match(credentials.token, self._keys(stored_value))
        if matched is None or stored_value is None:
            if complete:
                counts = await self._count_failure(*counters)
                if counts is not None:
                    self._streaks.counted(
                        deployment_id=deployment_id, client=credentials.client,
                        address=address, request_id=request_id, pair_failures=counts[0],
                        address_failures=counts[1])
            self._metrics.auth.labels("rejected").inc()
            raise Unauthenticated("wrong credentials")
        left = None if matched.expires is None else matched.expires - self._wall_clock()
        if left is not None and left <= 0:
            self._metrics.auth.labels("expired").inc()
            await self._streaks.expired(deployment_id=deployment_id, client=credentials.client,
                                        address=address, request_id=request_id)
            raise Expired("the token has expired")
        if self._cache.generation == generation:
            self._cache.put(key, deployment_id=deployment_id, client=credentials.client,
                            credential_hash=stored_value, lifetime=left)
        await self._after_success(pair_counter, HashUpgrade(
            deployment_id, credentials.client, matched.hash, replacement)
            if replacement else None)
        self._metrics.auth.labels("verified").inc()
        return credentials.client

    def _keys(self, stored_value: str | None) -> tuple[CredentialKey, ...]:
        if stored_value is None:
            return ()
        try:
            return decode_credential(stored_value)
        except RecordError as error:
            log.error("stored credential for a client cannot be read: %s", error)
            self._metrics.auth.labels("unavailable").inc()
            raise Unavailable("credential cannot be checked") from error

    async def _match(self, token: str, keys: tuple[CredentialKey, ...]
                     ) -> tuple[CredentialKey | None, str | None]:
        """The key ``token`` matches (and its upgraded hash, if any); no keys: a dummy check."""
        if not keys:
            await self._verify(token, None)
            return None, None
        for key in keys:
            ok, replacement = await self._verify(token, key.hash)
            if ok:
                return key, replacement
        return None, None

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

    async def _count_failure(self, *counters: str) -> list[int] | None:
        """Count one failure on each counter; their new counts (``None``: not counted)."""
        window = math.ceil(self._limits.window)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for counter in counters:
                    pipe.set(counter, 0, ex=window, nx=True)  # start the window once
                    pipe.incr(counter)
                replies = await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("could not count a failed login: %s", error)
            return None
        return [int(reply) for reply in replies[1::2]]

    async def _after_success(self, pair_counter: str, upgrade: HashUpgrade | None) -> None:
        try:
            await self._redis.delete(pair_counter)
            if upgrade is not None:
                await request_hash_upgrade(self._redis, upgrade=upgrade)
        except (RedisError, OSError) as error:
            log.warning("could not record a successful login: %s", error)
