"""Failed-login limits that stop guessing without locking out the clients being guessed at.

A limit keyed by the client alone lets anyone who knows a client's name lock it out from
anywhere; a limit keyed by the address alone locks out every client behind one NAT or shared
application host because one of them is misconfigured. So three counters, each over the same
sliding ``window`` (a counter expires ``window`` seconds after its first failure):

======================  =============================================  ========================
counter                 counts failures of                              past its limit
======================  =============================================  ========================
(client, address)       one deployment+client from one source address  429 for that pair only
address                 every client from one source address           429 for that address
client                  one deployment+client from every address       slower checks, never 429
======================  =============================================  ========================

- The (client, address) limit (``failed_login_limit``, 10) comes first: a misconfigured
  application hammering with a stale token is stopped without touching anyone else, its own
  client from other addresses, or other clients from the same address.
- The per-address limit (``failed_login_address_limit``, 100) sits well above it: it stops one
  address from guessing across many client names, and is high enough that a NAT with a few
  broken applications behind it does not reach it.
- The per-client counter never refuses. Past ``failed_login_backoff_after`` failures from all
  addresses together, every uncached check of that client waits before it is verified, twice
  as long for each further failure, at most ``failed_login_backoff_max`` seconds: a
  distributed guesser is slowed down, the real application still gets in.

So a correct token from an address that has not itself failed is never refused (at worst it is
delayed by the backoff), and a success clears the (client, address) counter only: the address
proved it knows the token, but neither the guessers elsewhere nor the address's other failures
are forgiven. Requests served from the verified cache never reach these limits at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

BACKOFF_FIRST: Final = 0.05  # seconds, doubled for every failure past the threshold


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """The limits above; each is a proxy setting."""

    pair: int = 10
    address: int = 100
    backoff_after: int = 20
    backoff_max: float = 2.0
    window: float = 300.0

    def backoff(self, client_failures: int) -> float:
        """Seconds an uncached check of a client with this many recent failures waits."""
        over = client_failures - self.backoff_after
        if over < 0:
            return 0.0
        return min(self.backoff_max, BACKOFF_FIRST * 2.0 ** min(over, 64))


@dataclass(frozen=True, slots=True)
class FailureCount:
    """One failure counter as Redis holds it: the count and its remaining lifetime (ms)."""

    failures: int
    ttl_ms: int

    @classmethod
    def parse(cls, count: object, ttl: object) -> FailureCount:
        """From GET and PTTL replies (``None`` and negative TTLs: no counter / no expiry)."""
        failures = int(count) if isinstance(count, (str, bytes, int)) else 0
        return cls(failures, int(ttl) if isinstance(ttl, int) else -1)


def retry_after(limits: LoginLimits, *, pair: FailureCount, address: FailureCount) -> int | None:
    """Seconds until the refused caller may try again, or ``None`` if it may try now."""
    waits = [counter.ttl_ms for counter, limit in ((pair, limits.pair),
                                                   (address, limits.address))
             if counter.failures >= limit]
    if not waits:
        return None
    longest = max(waits)
    return math.ceil(longest / 1000) if longest > 0 else math.ceil(limits.window)
