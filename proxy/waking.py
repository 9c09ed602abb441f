"""Holding a request while a predictor scaled to zero wakes up.

A route's predictor is ``wakeable`` when the autoscaler scaled it to zero. The proxy calls
:meth:`Waker.hold` only for a request it has admitted: the credentials of a private
deployment are checked first, so a caller without a valid token never wakes anything (a
public deployment wakes on any request; its owner chose that). The waker then:

1. asks the controller for a pod by adding a wake request to the ``mg:wakes`` stream (at
   most once per :data:`ASK_EVERY` seconds per predictor and process, so a burst of held
   requests costs one entry, and a wake lost with a restarting controller is asked again);
2. waits for the route table, which the controller's publish updates when a pod is ready,
   re-checking every :data:`POLL` seconds (only held requests pay for that);
3. gives up after ``timeout`` with 503 and ``Retry-After``.

At most ``max_held`` requests per process wait at once; more are answered 503 at once, so a
flood cannot pile up memory and connections behind a pod that is not there yet.

A predictor asleep while others of the deployment serve its split share (a canary scaled to
zero) is woken by :meth:`Waker.nudge` without holding the request: the others answer until it
is ready, then it gets its share (and its load) back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Final, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from proxy.problems import Problem, retry_later
from proxy.records import WAKES_KEY, WAKES_MAX_LENGTH, target

log = logging.getLogger(__name__)

POLL: Final = 0.05
ASK_EVERY: Final = 1.0
T = TypeVar("T")


class Waker:
    """One process's held requests and its wake requests."""

    def __init__(self, *, redis: Redis, timeout: float, max_held: int,
                 retry_after: int) -> None:
        self._redis = redis
        self._timeout = timeout
        self._max_held = max_held
        self._retry_after = retry_after
        self.held = 0
        self._asked: dict[str, float] = {}  # target -> loop time of the last wake request
        self._nudges: set[asyncio.Task[None]] = set()
        self._full = retry_later(503, "wake_queue_full", "too many requests are waiting for "
                                 "deployments to wake up; try again", retry_after)
        self._late = retry_later(503, "waking_up", "the deployment is waking up from zero "
                                 "replicas and has no ready pod yet; try again", retry_after)

    async def hold(self, *, deployment_id: str, predictors: Iterable[str],
                   ready: Callable[[], T | None]) -> T | Problem:
        """Wake ``predictors`` and wait until ``ready()`` gives a value, or a 503 problem."""
        if self.held >= self._max_held:
            return self._full
        names = tuple(predictors)
        self.held += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        try:
            while True:
                found = ready()
                if found is not None:
                    return found
                now = loop.time()
                if now >= deadline:
                    return self._late
                for name in names:
                    await self._ask(target(deployment_id, name), now)
                await asyncio.sleep(min(POLL, max(deadline - now, 0.0)))
        finally:
            self.held -= 1

    def nudge(self, *, deployment_id: str, predictors: tuple[str, ...]) -> None:
        """Ask for ``predictors`` to wake without holding anything (split traffic is served
        by the others meanwhile); costs a Redis write at most once a second per predictor."""
        now = asyncio.get_running_loop().time()
        for name in predictors:
            wanted = target(deployment_id, name)
            if self._due(wanted, now):
                task = asyncio.get_running_loop().create_task(self._send(wanted))
                self._nudges.add(task)
                task.add_done_callback(self._nudges.discard)

    async def _ask(self, wanted: str, now: float) -> None:
        if self._due(wanted, now):
            await self._send(wanted)

    def _due(self, wanted: str, now: float) -> bool:
        last = self._asked.get(wanted)
        if last is not None and now - last < ASK_EVERY:
            return False
        self._asked[wanted] = now
        if len(self._asked) > 4 * self._max_held + 64:  # forget old entries, keep it bounded
            self._asked = {key: at for key, at in self._asked.items() if now - at < ASK_EVERY}
        return True

    async def _send(self, wanted: str) -> None:
        try:
            await self._redis.xadd(WAKES_KEY, {"target": wanted}, maxlen=WAKES_MAX_LENGTH,
                                   approximate=True)
        except (RedisError, OSError) as error:
            log.warning("cannot ask for %s to wake (asking again): %s", wanted, error)
            self._asked.pop(wanted, None)
