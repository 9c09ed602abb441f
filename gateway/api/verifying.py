"""Checking presented tokens against stored hashes, cheaply on the hot path.

A passlib verification costs milliseconds of CPU by design; a request must not pay it every
time. :class:`VerifiedCache` remembers successful verifications for ``ttl`` seconds, keyed by an
HMAC (a random per-process pepper) of the scope, the stored hash and the presented token, so
the cache never holds a token and a replaced hash can never match an old entry. A miss runs
one verification in a worker thread, and concurrent requests with the same key wait for that
one (no thundering herd). Failures are not remembered: a wrong token costs a hash each time,
which is what makes guessing expensive. :meth:`evict` forgets a scope at once (a revoked token).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
from collections.abc import Callable
from typing import Protocol


class Verifier(Protocol):
    """What the cache needs of a passlib ``CryptContext``."""

    def verify(self, secret: str, hash: str) -> bool: ...


class VerifiedCache:
    """Successful ``(scope, hash, token)`` verifications, each for ``ttl`` seconds."""

    def __init__(self, context: Verifier, *, ttl: float,
                 clock: Callable[[], float] = time.monotonic, max_entries: int = 100_000) -> None:
        self._context = context
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._pepper = os.urandom(32)
        self._verified: dict[bytes, tuple[float, str]] = {}
        self._pending: dict[bytes, asyncio.Future[bool]] = {}

    def _key(self, scope: str, hash_: str, token: str) -> bytes:
        message = "\0".join((scope, hash_, token)).encode()
        return hmac.new(self._pepper, message, hashlib.sha256).digest()

    async def verify(self, *, scope: str, token: str, hash_: str) -> bool:
        """True when ``token`` matches ``hash_`` (from the cache when recently verified)."""
        key = self._key(scope, hash_, token)
        now = self._clock()
        entry = self._verified.get(key)
        if entry is not None:
            if entry[0] > now:
                return True
            del self._verified[key]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            ok = await asyncio.to_thread(self._check, token, hash_)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        else:
            future.set_result(ok)
        finally:
            del self._pending[key]
        if ok:
            if len(self._verified) >= self._max_entries:
                self._verified.clear()
            self._verified[key] = (self._clock() + self._ttl, scope)
        return ok

    def _check(self, token: str, hash_: str) -> bool:
        try:
            return bool(self._context.verify(token, hash_))
        except (ValueError, TypeError):  # not a hash passlib knows: never a match
            return False

    def evict(self, scope: str) -> None:
        """Forget every verification under ``scope``."""
        for key in [key for key, (_, owner) in self._verified.items() if owner == scope]:
            del self._verified[key]
