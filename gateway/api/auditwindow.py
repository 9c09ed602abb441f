"""Reading the audit trail's query window: pages of records from the Redis stream, newest first.

The stream (written by :class:`proxy.audit.AuditTrail`) is ordered by arrival, and an entry's
id (``<ms>-<seq>``) is its cursor: ``after`` continues below it, ``since`` bounds the range
Redis returns, so a page costs a few ``XREVRANGE`` calls, not a scan of the window. The other
conditions (target, actor, action, until, and what the caller may see) are checked here.

``target`` selects a target and everything below it: ``deployment/iris`` finds the
deployment's own records and those of its clients (``deployment/iris/client/app``).

An entry whose text lacks what the filter names is skipped without decoding it, so a
selective filter costs a substring search per entry. One page scans at most
:data:`MAX_SCAN` entries. A filter that matches little may so end a
page with fewer events than asked for and ``has_next`` true: its ``end_cursor`` is where the
scan stopped, and the next page goes on from there. Entries older than the window (trimming
is approximate) and entries that do not decode are skipped.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, cast

from redis.asyncio import Redis

from proxy.audit import FIELD, AuditRecord, AuditSettings, decode
from proxy.records import AUDIT_STREAM_KEY, RecordError

log = logging.getLogger(__name__)

CURSOR: Final = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")
BATCH: Final = 500
MAX_SCAN: Final = 10_000


@dataclass(frozen=True)
class AuditFilter:
    """What ``auditEvents(where: ...)`` asks for; ``None`` matches anything."""

    target: str | None = None
    actor: str | None = None
    action: str | None = None
    since: float | None = None  # unix s, inclusive
    until: float | None = None  # unix s, inclusive

    def needles(self) -> tuple[str, ...]:
        """Text every matching entry's JSON contains: entries without it are skipped
        undecoded (the target as a prefix, with its opening quote; actor and action whole)."""
        found = []
        if self.target is not None:
            found.append(json.dumps(self.target)[:-1])
        found.extend(json.dumps(value) for value in (self.actor, self.action)
                     if value is not None)
        return tuple(found)

    def matches(self, record: AuditRecord) -> bool:
        if self.target is not None and record.target != self.target and \
                not record.target.startswith(self.target + "/"):
            return False
        if self.actor is not None and record.actor != self.actor:
            return False
        if self.action is not None and record.action != self.action:
            return False
        if self.since is not None and record.time < self.since:
            return False
        return self.until is None or record.time <= self.until


@dataclass(frozen=True)
class AuditPage:
    """Up to ``first`` records, each with its cursor; where the next page starts."""

    entries: list[tuple[str, AuditRecord]]
    has_next: bool
    end_cursor: str | None


class AuditWindow:
    """Pages of the window, as one caller may see them."""

    def __init__(self, redis: Redis, *, settings: AuditSettings,
                 clock: Callable[[], float]) -> None:
        self._redis = redis
        self._window = settings.window
        self._clock = clock

    async def page(self, *, where: AuditFilter, visible: Callable[[AuditRecord], bool],
                   first: int, after: str | None = None) -> AuditPage:
        """Raises ``RedisError``/``OSError`` when Redis cannot be read."""
        oldest = self._clock() - self._window
        lower_s = oldest if where.since is None else max(oldest, where.since)
        lower = f"{max(0, int(lower_s * 1000))}-0"
        upper = "+" if after is None else f"({after}"
        found: list[tuple[str, AuditRecord]] = []
        needles = where.needles()
        scanned = 0
        last: str | None = None
        while scanned < MAX_SCAN:
            rows = cast(list[tuple[str, dict[str, str]]], await self._redis.xrevrange(
                AUDIT_STREAM_KEY, max=upper, min=lower, count=BATCH))  # decode_responses
            for entry_id, fields in rows:
                scanned += 1
                last = entry_id
                raw = fields.get(FIELD, "")
                if not all(needle in raw for needle in needles):
                    continue
                record = _decoded(raw)
                if record is None or record.time < oldest or not where.matches(record) or \
                        not visible(record):
                    continue
                if len(found) == first:
                    return AuditPage(found, has_next=True, end_cursor=found[-1][0])
                found.append((entry_id, record))
            if len(rows) < BATCH:
                return AuditPage(found, has_next=False,
                                 end_cursor=found[-1][0] if found else None)
            upper = f"({last}"
        return AuditPage(found, has_next=True, end_cursor=last)


def _decoded(raw: str) -> AuditRecord | None:
    try:
        return decode(raw)
    except RecordError as error:
        log.warning("skipped an audit window entry: %s", error)
        return None
