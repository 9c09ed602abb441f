"""The verified-token cache: one slow hash per token and TTL, none for repeats, evictable."""

from __future__ import annotations

import asyncio
import threading

from passlib.context import CryptContext

from gateway.api.verifying import VerifiedCache
from proxy.hashing import make_context

CONTEXT = make_context()
TOKEN = "mga_0123456789ab_" + "x" * 43
HASH = CONTEXT.hash(TOKEN)


class Counting:
    """The real CryptContext, counting verifications; ``gate`` holds them until set."""

    def __init__(self, context: CryptContext) -> None:
        self.context = context
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()

    def verify(self, secret: str, hash: str) -> bool:
        self.calls += 1
        self.gate.wait(10)
        return bool(self.context.verify(secret, hash))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_verified_token_is_not_hashed_again_within_the_ttl() -> None:
    """The second check of the same token and hash costs no hash until the TTL passes."""
    counting, clock = Counting(CONTEXT), Clock()
    cache = VerifiedCache(counting, ttl=10, clock=clock)
    assert await cache.verify(scope="s", token=TOKEN, hash_=HASH)
    assert await cache.verify(scope="s", token=TOKEN, hash_=HASH)
    assert counting.calls == 1
    clock.now += 10.5
    assert await cache.verify(scope="s", token=TOKEN, hash_=HASH)
    assert counting.calls == 2


async def test_wrong_tokens_are_refused_every_time() -> None:
    """A failed check is not remembered: each wrong guess pays a hash."""
    counting = Counting(CONTEXT)
    cache = VerifiedCache(counting, ttl=10)
    for _ in range(2):
        assert not await cache.verify(scope="s", token=TOKEN + "y", hash_=HASH)
    assert counting.calls == 2


async def test_a_replaced_hash_never_matches_an_old_entry() -> None:
    """The cache key includes the stored hash: a new hash is checked afresh."""
    counting = Counting(CONTEXT)
    cache = VerifiedCache(counting, ttl=10)
    assert await cache.verify(scope="s", token=TOKEN, hash_=HASH)
    assert not await cache.verify(scope="s", token=TOKEN, hash_=CONTEXT.hash("other"))


async def test_concurrent_checks_share_one_hash() -> None:
    """Many requests with the same new token wait for one verification (no herd)."""
    counting = Counting(CONTEXT)
    counting.gate.clear()
    cache = VerifiedCache(counting, ttl=10)
    checks = [asyncio.create_task(cache.verify(scope="s", token=TOKEN, hash_=HASH))
              for _ in range(20)]
    await asyncio.sleep(0)
    counting.gate.set()
    assert all(await asyncio.gather(*checks))
    assert counting.calls == 1


async def test_eviction_forgets_a_scope_only() -> None:
    """Evicting a scope (a revoked token) forces a fresh check there, not elsewhere."""
    counting = Counting(CONTEXT)
    cache = VerifiedCache(counting, ttl=10)
    for scope in ("a", "b"):
        assert await cache.verify(scope=scope, token=TOKEN, hash_=HASH)
    cache.evict("a")
    for scope in ("a", "b"):
        assert await cache.verify(scope=scope, token=TOKEN, hash_=HASH)
    assert counting.calls == 3


async def test_unknown_hash_formats_never_match() -> None:
    """A stored value passlib does not recognise is a refusal, not an error."""
    cache = VerifiedCache(CONTEXT, ttl=10)
    assert not await cache.verify(scope="s", token=TOKEN, hash_="not-a-hash")
