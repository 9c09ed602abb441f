"""The audit trail: one record format and one writer for every component that audits.

Who writes: the API (every management mutation, and streaks of refused API tokens) and the
proxy (streaks of refused client tokens). Both write through :class:`AuditTrail`, so the
module sits in the proxy package, the bottom layer every component may import (the proxy may
import nothing of the control plane); the API's reading side, ``auditEvents``, is in
:mod:`gateway.api.auditwindow`.

Where a record goes, in order:

1. **The log line** (the store of record, for log shipping): logger ``model_gateway.audit``,
   message ``audit``, the record's fields as structured fields, so the JSON log format writes
   one JSON object per record. It is written synchronously, before anything else, and at a
   level that ``MODEL_GATEWAY_LOG_LEVEL`` cannot silence.
2. **The query window**: a capped Redis stream (:data:`proxy.records.AUDIT_STREAM_KEY`), one
   entry per record (field ``r``, the record's JSON), appended by a background task in
   batches. Each batch trims the stream to the window (``XTRIM MINID``) and to its cap
   (``XADD MAXLEN``), both approximate, so trimming costs Redis next to nothing. While Redis
   is unreachable the records wait in a bounded buffer and are retried; losing Redis loses
   records from the query window only, never from the log.

What a record holds is fixed here and nowhere else: time, component, actor, the actor's token
id, action, target, group, outcome, reason, request id and source address. Callers pass
identifiers, never input values; a reason is the one free text, and anything in it shaped
like one of the product's tokens is replaced by ``[redacted]`` (:func:`redacted`), so no
record ever holds a token, a hash or an env value.

Refusal streaks (:func:`streak_started`): a token refused again and again is one record, not
one per request. A streak key in Redis lives ``gap`` seconds after the last refusal; the
refusal that creates it starts a streak and is recorded, the others only refresh it.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from proxy.environment import SettingsReader
from proxy.records import AUDIT_STREAM_KEY, RecordError

log = logging.getLogger(__name__)
audit_log = logging.getLogger("model_gateway.audit")
# The store of record: written whatever the process's log level (handlers have no level).
audit_log.setLevel(logging.INFO)

VERSION: Final = 1
SUCCESS: Final = "success"
FIELD: Final = "r"
REDACTED: Final = "[redacted]"
BUFFER: Final = 10_000  # records kept for the window while Redis is unreachable
RETRY_FIRST: Final = 0.5
RETRY_LAST: Final = 30.0
_TOKEN_LIKE: Final = re.compile(r"mg[acs]_[A-Za-z0-9_-]{8,}|\$[a-z0-9-]{2,}\$[^\s]{8,}")
MAX_REASON: Final = 256


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """How long the query window keeps records, and the most it keeps; shared by every
    writer (``MODEL_GATEWAY_AUDIT_WINDOW``, seconds, and ``MODEL_GATEWAY_AUDIT_STREAM_CAP``)."""

    window: float = 7 * 86400.0
    cap: int = 100_000

    @classmethod
    def read(cls, read: SettingsReader) -> AuditSettings:
        defaults = cls()
        return cls(window=read.seconds("AUDIT_WINDOW", defaults.window, minimum=60,
                                       maximum=366 * 86400),
                   cap=read.integer("AUDIT_STREAM_CAP", defaults.cap, minimum=100,
                                    maximum=10_000_000))


def redacted(text: str | None) -> str | None:
    """``text`` with anything shaped like a token or a passlib hash replaced."""
    if text is None:
        return None
    return _TOKEN_LIKE.sub(REDACTED, text)[:MAX_REASON]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audited event. ``outcome`` is ``success`` or an error code (``NOT_AUTH``, ...)."""

    id: str
    time: float  # unix seconds
    component: str  # api, proxy
    actor: str  # a username; for a refused token, whom it names ("" if nobody)
    token_id: str | None  # the actor's API token id (bootstrap: "bootstrap"), if any
    action: str
    target: str  # kind/name[/kind/name]: deployment/iris, deployment/iris/client/app
    outcome: str
    request_id: str
    address: str
    group: str | None = None  # the deployment's group, when known
    reason: str | None = None

    @property
    def at(self) -> str:
        """The time as ISO 8601 (UTC, milliseconds)."""
        return datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds")


def encode(record: AuditRecord) -> str:
    return json.dumps({"v": VERSION, **asdict(record)}, separators=(",", ":"))


def decode(raw: str | bytes) -> AuditRecord:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise RecordError("audit record is not JSON") from error
    if not isinstance(value, dict) or value.pop("v", None) != VERSION:
        raise RecordError("audit record has an unknown version")
    try:
        record = AuditRecord(**value)
    except TypeError as error:
        raise RecordError("audit record has unknown or missing fields") from error
    text = (record.id, record.component, record.actor, record.action, record.target,
            record.outcome, record.request_id, record.address)
    if not all(isinstance(item, str) for item in text) or \
            not isinstance(record.time, int | float) or isinstance(record.time, bool):
        raise RecordError("audit record has fields of the wrong type")
    return record


def log_fields(record: AuditRecord) -> dict[str, Any]:
    """The log line's fields: the record's, ``time`` as ``at`` (the line has its own time)."""
    fields = asdict(record)
    fields["at"] = record.at
    del fields["time"]
    return {"audit_id" if key == "id" else key: value for key, value in fields.items()}


async def streak_started(redis: Redis, key: str, *, gap: float) -> bool:
    """Whether this refusal starts a streak (one round trip): the key is created if absent
    and lives ``gap`` seconds after the last refusal either way."""
    seconds = max(1, int(gap))
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(key, 1, ex=seconds, nx=True)
        pipe.expire(key, seconds)
        created, _ = await pipe.execute()
    return bool(created)


class AuditTrail:
    """Writes records: the log line at once, the Redis window from a background task.

    :meth:`run` is that task; :meth:`flush` writes what is pending (at shutdown).
    """

    def __init__(self, redis: Redis, *, component: str, settings: AuditSettings,
                 clock: Callable[[], float] = time.time, buffer: int = BUFFER) -> None:
        self._redis = redis
        self._component = component
        self._window = settings.window
        self._cap = settings.cap
        self._clock = clock
        self._pending: collections.deque[AuditRecord] = collections.deque(maxlen=buffer)
        self._wake = asyncio.Event()
        self.dropped = 0

    def record(self, *, actor: str, token_id: str | None, action: str, target: str,
               outcome: str, request_id: str, address: str, group: str | None = None,
               reason: str | None = None) -> AuditRecord:
        """Write one record: its log line now, its window entry soon."""
        record = AuditRecord(
            id=uuid.uuid4().hex, time=round(self._clock(), 3), component=self._component,
            actor=actor, token_id=token_id, action=action, target=target, outcome=outcome,
            request_id=request_id, address=address, group=group, reason=redacted(reason))
        audit_log.info("audit", extra={"fields": log_fields(record)})
        if len(self._pending) == self._pending.maxlen:
            self.dropped += 1
            log.warning("the audit window's buffer is full (Redis unreachable): a record is "
                        "only in the log", extra={"fields": {"dropped": self.dropped}})
        self._pending.append(record)
        self._wake.set()
        return record

    async def flush(self) -> bool:
        """Append what is pending to the stream; on failure keep it. Whether all went."""
        batch = list(self._pending)
        if not batch:
            return True
        cutoff_ms = int((self._clock() - self._window) * 1000)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for record in batch:
                    pipe.xadd(AUDIT_STREAM_KEY, {FIELD: encode(record)}, maxlen=self._cap,
                              approximate=True)
                pipe.xtrim(AUDIT_STREAM_KEY, minid=f"{max(cutoff_ms, 0)}-0", approximate=True)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("audit records wait for Redis: %s", error,
                        extra={"fields": {"pending": len(batch)}})
            return False
        sent = {id(record) for record in batch}
        while self._pending and id(self._pending[0]) in sent:  # some may have been dropped
            self._pending.popleft()
        return True

    async def run(self) -> None:
        """Write records as they come, retrying with backoff while Redis is unreachable."""
        delay = RETRY_FIRST
        while True:
            await self._wake.wait()
            self._wake.clear()
            if await self.flush():
                delay = RETRY_FIRST
                continue
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_LAST)
            self._wake.set()
