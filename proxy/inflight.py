"""Requests in flight per predictor: counted in memory, reported to Redis once per period.

The autoscaler needs the load of every predictor over all proxies. A request only touches a
dict here (no Redis round trip on the hot path): :meth:`Inflight.started` when the proxy
admits it, :meth:`Inflight.ended` when its answer is done. Each predictor's in-flight count is
integrated over time, so a report holds the *mean* concurrency of the period (what Knative's
queue-proxy reports), not a sample that a burst between two reports would miss, plus the
number of requests admitted (a period with a short request in it is not idle).

:meth:`Inflight.report` writes one hash per proxy process (``mg:load:<proxy id>``, replaced
whole, with a time to live) and the process's entry in ``mg:load-reporters``, in one
transaction; a process with nothing to report once writes the empty report and then nothing.
A failed report (Redis down) is dropped: load is a rate, and the next period's counts are
fresh. :func:`read_load` is the controller's side: the sum over every proxy that reported
within the time to live.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from proxy.cancelling import raise_if_cancelled
from proxy.records import (
    LOAD_REPORTERS_KEY,
    LOAD_TTL_PERIODS,
    Load,
    RecordError,
    decode_load,
    encode_load,
    load_key,
)

log = logging.getLogger(__name__)

_IN_FLIGHT: Final = 0
_AREA: Final = 1  # request-seconds since the last report
_SINCE: Final = 2  # when the count last changed
_ADMITTED: Final = 3  # requests started since the last report


class Inflight:
    """One process's in-flight counts and their periodic report."""

    def __init__(self, *, redis: Redis, interval: float, proxy_id: str | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._interval = interval
        self.proxy_id = proxy_id or uuid.uuid4().hex
        self._key = load_key(self.proxy_id)
        self._clock = clock
        self._wall = wall
        self._counts: dict[str, list[float]] = {}  # target -> [in flight, area, since, admitted]
        self._period_start = clock()
        self._reported_empty = False

    def started(self, target: str) -> None:
        now = self._clock()
        entry = self._counts.get(target)
        if entry is None:
            self._counts[target] = [1.0, 0.0, now, 1.0]
            return
        entry[_AREA] += entry[_IN_FLIGHT] * (now - entry[_SINCE])
        entry[_SINCE] = now
        entry[_IN_FLIGHT] += 1
        entry[_ADMITTED] += 1

    def ended(self, target: str) -> None:
        entry = self._counts.get(target)
        if entry is None:  # started before a report dropped it: impossible while in flight
            return
        now = self._clock()
        entry[_AREA] += entry[_IN_FLIGHT] * (now - entry[_SINCE])
        entry[_SINCE] = now
        entry[_IN_FLIGHT] -= 1

    def in_flight(self, target: str) -> int:
        entry = self._counts.get(target)
        return 0 if entry is None else int(entry[_IN_FLIGHT])

    def take(self) -> dict[str, Load]:
        """The period's load per target, starting the next period (idle targets forgotten)."""
        now = self._clock()
        elapsed = max(now - self._period_start, 1e-6)
        self._period_start = now
        loads: dict[str, Load] = {}
        for target, entry in list(self._counts.items()):
            area = entry[_AREA] + entry[_IN_FLIGHT] * (now - entry[_SINCE])
            loads[target] = Load(round(area / elapsed, 3), int(entry[_ADMITTED]))
            if entry[_IN_FLIGHT] == 0:
                del self._counts[target]
            else:
                entry[_AREA], entry[_SINCE], entry[_ADMITTED] = 0.0, now, 0.0
        return loads

    async def report(self) -> None:
        """Write this period's load (replacing the last report), unless idle twice running."""
        loads = self.take()
        if not loads and self._reported_empty:
            return
        ttl = max(1, round(self._interval * LOAD_TTL_PERIODS + 0.5))
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._key)
                if loads:
                    pipe.hset(self._key, mapping={target: encode_load(load)
                                                  for target, load in loads.items()})
                    pipe.expire(self._key, ttl)
                pipe.zadd(LOAD_REPORTERS_KEY, {self.proxy_id: self._wall()})
                pipe.zremrangebyscore(LOAD_REPORTERS_KEY, "-inf", self._wall() - 10 * ttl)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.debug("load report failed (the next one is fresh): %s", error)
            return
        self._reported_empty = not loads

    async def run(self) -> None:
        """Report every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            await self.report()
            raise_if_cancelled()

    async def withdraw(self) -> None:
        """Take this process's report away (it is stopping: its load is not coming back)."""
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._key)
                pipe.zrem(LOAD_REPORTERS_KEY, self.proxy_id)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.debug("withdrawing the load report failed (it expires): %s", error)


async def read_load(redis: Redis, *, now: float, max_age: float) -> dict[str, Load]:
    """Every predictor's load summed over the proxies that reported within ``max_age``."""
    reporters = await redis.zrangebyscore(LOAD_REPORTERS_KEY, now - max_age, "+inf")
    if not reporters:
        return {}
    async with redis.pipeline(transaction=False) as pipe:
        for reporter in reporters:
            try:
                pipe.hgetall(load_key(_text(reporter)))
            except RecordError:
                continue
        reports = await pipe.execute()
    total: dict[str, Load] = {}
    for report in reports:
        for raw_target, raw_load in report.items():
            target = _text(raw_target)
            try:
                load = decode_load(raw_load)
            except RecordError:
                log.warning("ignoring a malformed load report for %r", target[:80])
                continue
            known = total.get(target)
            total[target] = load if known is None else Load(
                known.concurrency + load.concurrency, known.requests + load.requests)
    return total


def _text(value: object) -> str:
    """A Redis reply as text, whether or not the client decodes responses."""
    return value.decode() if isinstance(value, bytes) else str(value)
