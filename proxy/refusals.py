"""Refusal streaks of client tokens: one audit record per streak, never one per request.

Three streaks, each noticed by exactly one proxy process however many run, because each is
decided by one atomic Redis answer:

=======================  ==================================  ===================================
streak                   starts when                         record
=======================  ==================================  ===================================
a (client, address)      its failure counter reaches the     ``refusedClientToken``
pair is locked out       pair limit (the ``INCR`` that        ``deployment/<id>/client/<name>``,
                         answers exactly the limit)           outcome ``LOCKED_OUT``
an address is locked     its counter reaches the address     ``lockedOutAddress``
out                      limit                                ``address/<address>``, ``LOCKED_OUT``
an expired token keeps   its first refusal: the streak key   ``refusedClientToken``, outcome
being sent               did not exist (:func:`streak_        ``EXPIRED``
                         started`)
=======================  ==================================  ===================================

A wrong token below the pair limit is not a streak (a typo, a restarted client): the
limit is what says "too many". A lockout streak lasts as long as its counter (the failed-login
window from its first failure); an expired token's streak until it has not been sent for the
window. Nothing here runs for a request that passes: the counts come from the ``INCR`` replies
the failure counting already gets, and the expired streak costs one round trip on a refusal
only.

The actor of such a record is the client name as presented; no token is ever in it.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from proxy.audit import AuditTrail, streak_started
from proxy.loginlimits import LoginLimits
from proxy.records import streak_key

log = logging.getLogger(__name__)

REFUSED_CLIENT = "refusedClientToken"
LOCKED_OUT_ADDRESS = "lockedOutAddress"
LOCKED_OUT = "LOCKED_OUT"
EXPIRED = "EXPIRED"


class RefusalStreaks:
    """Writes the record that starts each refusal streak of client tokens."""

    def __init__(self, *, redis: Redis, audit: AuditTrail, limits: LoginLimits) -> None:
        self._redis = redis
        self._audit = audit
        self._limits = limits

    def counted(self, *, deployment_id: str, client: str, address: str, request_id: str,
                pair_failures: int, address_failures: int) -> None:
        """After a failure was counted: record the lockouts it just started."""
        if pair_failures == self._limits.pair:
            self._audit.record(actor=client, token_id=None, action=REFUSED_CLIENT,
                               target=f"deployment/{deployment_id}/client/{client}",
                               outcome=LOCKED_OUT, request_id=request_id, address=address)
        if address_failures == self._limits.address:
            self._audit.record(actor=client, token_id=None, action=LOCKED_OUT_ADDRESS,
                               target=f"address/{address}", outcome=LOCKED_OUT,
                               request_id=request_id, address=address)

    async def expired(self, *, deployment_id: str, client: str, address: str,
                      request_id: str) -> None:
        """After an expired token was refused: record it if that starts a streak."""
        key = streak_key("expired", deployment_id, client, address)
        try:
            started = await streak_started(self._redis, key, gap=self._limits.window)
        except (RedisError, OSError) as error:
            log.warning("could not follow an expired token's refusals: %s", error)
            return
        if started:
            self._audit.record(actor=client, token_id=None, action=REFUSED_CLIENT,
                               target=f"deployment/{deployment_id}/client/{client}",
                               outcome=EXPIRED, request_id=request_id, address=address)
