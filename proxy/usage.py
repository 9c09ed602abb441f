"""Per-client usage counters in Redis (request count, last use), written in batches.

Requests only touch a dict; a task flushes it every ``interval`` seconds in one pipelined round
trip, so usage costs Redis one write per active client per interval, not one per request.
A flush that fails (Redis down) puts its counts back to be retried, so counts are delayed,
not lost, unless the process dies first. ``last_used`` only moves forward, whatever the order
in which several proxies flush. :func:`last_used` is the reading side (the API's
``lastUsedAt``). The API records its own API tokens' use with the same recorder under other
keys (``key``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final, TypeAlias

from redis.asyncio import Redis
from redis.exceptions import RedisError

from proxy.cancelling import raise_if_cancelled
from proxy.records import USAGE_LAST_USED_FIELD, USAGE_REQUESTS_FIELD, usage_key

log = logging.getLogger(__name__)

_ADD_USAGE: Final = f"""
redis.call('HINCRBY', KEYS[1], '{USAGE_REQUESTS_FIELD}', ARGV[1])
local last = tonumber(redis.call('HGET', KEYS[1], '{USAGE_LAST_USED_FIELD}') or '0')
if tonumber(ARGV[2]) > last then
  redis.call('HSET', KEYS[1], '{USAGE_LAST_USED_FIELD}', ARGV[2])
end
return 1
"""


async def last_used(redis: Redis, deployment_id: str, client: str) -> float | None:
    """When the proxies last let ``client`` in (unix s, as of their last flush); None: never."""
    raw = await redis.hget(usage_key(deployment_id, client), USAGE_LAST_USED_FIELD)
    return None if raw is None else float(raw)


UsageKey: TypeAlias = Callable[[str, str], str]


class UsageRecorder:
    def __init__(self, *, redis: Redis, interval: float,
                 clock: Callable[[], float] = time.time, key: UsageKey = usage_key) -> None:
        self._redis = redis
        self._interval = interval
        self._clock = clock
        self._key = key
        self._pending: dict[tuple[str, str], tuple[int, float]] = {}
        self._script = redis.register_script(_ADD_USAGE)

    def record(self, deployment_id: str, client: str) -> None:
        key = (deployment_id, client)
        count, _ = self._pending.get(key, (0, 0.0))
        self._pending[key] = (count + 1, self._clock())

    async def flush(self) -> None:
        """Write everything recorded so far; on failure keep it for the next flush."""
        batch, self._pending = self._pending, {}
        if not batch:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for (deployment_id, client), (count, last_used) in batch.items():
                    await self._script(keys=[self._key(deployment_id, client)],
                                       args=[count, f"{last_used:.3f}"], client=pipe)
                await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("usage flush failed, will retry: %s", error)
            for key, (count, last_used) in batch.items():
                newer_count, newer_last = self._pending.get(key, (0, 0.0))
                self._pending[key] = (count + newer_count, max(last_used, newer_last))

    async def run(self) -> None:
        """Flush every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()
            raise_if_cancelled()
