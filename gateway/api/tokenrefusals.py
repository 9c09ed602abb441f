"""Refusal streaks of API tokens: one audit record per (token, address) streak.

A Bearer token the GraphQL endpoint turns away, or a token the console's sign-in turns away,
is one of: an expired token of ours
(``EXPIRED``), a token of our format whose id names no token (``UNKNOWN_TOKEN``: revoked, or
never issued), one whose secret part does not match (``INVALID_TOKEN``), or something else
that is not the bootstrap token either (``INVALID_TOKEN``, no id). The reason is read from the
watch cache after the authenticator's answer, so telling them apart costs no extra hash.

A streak is the refusals of one token id (or of id-less tokens) from one address, until none
has come for :data:`STREAK_GAP` seconds; its first refusal writes the record
(:func:`proxy.audit.streak_started`, one Redis round trip, so one record however many API
replicas see the streak). The round trip runs beside the answer, never delaying it. If Redis
cannot be asked, the refusal is recorded anyway: a repeated record beats a lost one, and the
access log already writes a line per request.

The actor is the user the token id names, if any; the token id is in the record, never the
token.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.api.requestids import REQUEST_ID, caller_address
from gateway.api.store import Store
from gateway.api.tokens import api_token_id
from gateway.kube.apitokens import secret_name
from proxy.audit import AuditTrail, streak_started
from proxy.records import streak_key

log = logging.getLogger(__name__)

STREAK_GAP: Final = 300.0
ACTION: Final = "refusedApiToken"
EXPIRED: Final = "EXPIRED"
UNKNOWN: Final = "UNKNOWN_TOKEN"
INVALID: Final = "INVALID_TOKEN"


class ApiTokenRefusals:
    """Notices refused Bearer tokens and records the start of each streak."""

    def __init__(self, *, store: Store, redis: Redis, audit: AuditTrail,
                 trusted_hops: int) -> None:
        self._store = store
        self._trusted_hops = trusted_hops
        self._redis = redis
        self._audit = audit
        self._pending: set[asyncio.Task[None]] = set()

    def refused(self, request: web.Request, token: str, *, expired: bool) -> None:
        """``request`` presented ``token`` (as Bearer, or to sign in) and it was refused
        (``expired``: it was genuine)."""
        address = caller_address(request, trusted_hops=self._trusted_hops)
        request_id = str(request.get(REQUEST_ID, "-"))
        token_id = api_token_id(token)
        stored = self._store.tokens.get(secret_name(token_id)) if token_id else None
        if expired:
            outcome = EXPIRED
        elif token_id is not None and stored is None:
            outcome = UNKNOWN
        else:
            outcome = INVALID
        task = asyncio.create_task(self._streak(
            token_id=token_id, actor=stored.username if stored is not None else "",
            outcome=outcome, address=address, request_id=request_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _streak(self, *, token_id: str | None, actor: str, outcome: str, address: str,
                      request_id: str) -> None:
        key = streak_key("apitoken", token_id or "-", address)
        try:
            started = await streak_started(self._redis, key, gap=STREAK_GAP)
        except (RedisError, OSError) as error:
            log.warning("refused API tokens are recorded one by one while Redis is "
                        "unreachable: %s", error)
            started = True
        if started:
            self._audit.record(actor=actor, token_id=token_id, action=ACTION,
                               target=f"apiToken/{token_id or '?'}", outcome=outcome,
                               request_id=request_id, address=address)
