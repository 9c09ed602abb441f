"""The in-process cache of verified credentials: the reason a warm request never hashes.

Keys are ``BLAKE2b(key=pepper, deployment NUL Authorization header)``, BLAKE2's keyed mode (a
MAC): the cache never holds a token or anything a token can be recovered from without the
pepper, and the key binds the deployment and the whole header, so client name and token. The
header is keyed as it came, so a warm request neither decodes nor parses it; two spellings
of the same credentials are two entries, each verified once. Only successes are cached;
failures go to Redis counters instead.

Each entry remembers the credential hash it was verified against. When the publisher says a
deployment changed, :meth:`VerifiedCache.reconcile` keeps exactly the entries whose client
still has that same hash, so deleting or replacing one client does not make the others pay a
new verification. Entries expire after ``ttl`` seconds regardless (bounded staleness when an
event is lost, and the limit on how long a verified client works while Redis is down), and
sooner when the token itself expires sooner (``lifetime``), so a cached token never outlives
its expiry.

``generation`` lets a verification that started before an eviction detect it and skip its
insert, so an in-flight check cannot put back a client that was just deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from hashlib import blake2b
from typing import Final

DEFAULT_MAX_ENTRIES: Final = 100_000


@dataclass(frozen=True, slots=True)
class Entry:
    deployment_id: str
    client: str
    credential_hash: str
    expires: float


class VerifiedCache:
    """MAC-keyed, TTL-bounded set of (deployment, client, token) triples known to be valid."""

    def __init__(self, *, pepper: bytes, ttl: float,
                 clock: Callable[[], float] = time.monotonic,
                 max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._pepper = pepper
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[bytes, Entry] = {}
        self._by_deployment: dict[str, set[bytes]] = {}
        self.generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def key(self, deployment_id: str, authorization: str) -> bytes:
        message = f"{deployment_id}\0{authorization}".encode("utf-8", "surrogateescape")
        return blake2b(message, key=self._pepper, digest_size=32).digest()

    def get(self, key: bytes) -> Entry | None:
        """The live entry for ``key``; an expired one is dropped and reads as a miss."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires <= self._clock():
            self._drop(key)
            return None
        return entry

    def put(self, key: bytes, *, deployment_id: str, client: str, credential_hash: str,
            lifetime: float | None = None) -> None:
        """Remember a success for ``ttl`` s, or ``lifetime`` s if that is shorter."""
        if key not in self._entries and len(self._entries) >= self._max_entries:
            self._drop(next(iter(self._entries)))  # the oldest insert
        ttl = self._ttl if lifetime is None else min(self._ttl, lifetime)
        self._entries[key] = Entry(deployment_id, client, credential_hash, self._clock() + ttl)
        self._by_deployment.setdefault(deployment_id, set()).add(key)

    def reconcile(self, deployment_id: str, credentials: Mapping[str, str]) -> None:
        """Drop the deployment's entries whose client no longer has the hash they matched."""
        self.generation += 1
        for key in list(self._by_deployment.get(deployment_id, ())):
            entry = self._entries[key]
            if credentials.get(entry.client) != entry.credential_hash:
                self._drop(key)

    def deployments(self) -> list[str]:
        """Deployments that have at least one cached entry."""
        return list(self._by_deployment)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_deployment.clear()

    def _drop(self, key: bytes) -> None:
        entry = self._entries.pop(key)
        keys = self._by_deployment[entry.deployment_id]
        keys.discard(key)
        if not keys:
            del self._by_deployment[entry.deployment_id]
