"""A work queue of keys: each key at most once in line, never worked on by two workers at once.

The semantics of client-go's workqueue, which reconcilers rely on:

- :meth:`WorkQueue.add` of a key already waiting is a no-op (events coalesce: the reconcile
  reads the latest state anyway);
- a key added while a worker holds it is not handed out again until that worker calls
  :meth:`WorkQueue.done`, and is then queued once more, so an event arriving during a
  reconcile is never lost and the same key is never reconciled concurrently;
- :meth:`WorkQueue.retry` re-adds a key after a per-key exponential backoff (capped), and
  :meth:`WorkQueue.forget` resets it after a success;
- :meth:`WorkQueue.add_after` schedules a key for later (deadlines); of several pending
  schedules for one key only the earliest is kept, since the reconcile it triggers schedules
  whatever it still needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class QueueShutDown(Exception):
    """The queue was shut down; workers should stop."""


class WorkQueue(Generic[K]):
    def __init__(self, *, retry_base: float, retry_cap: float) -> None:
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._line: asyncio.Queue[K | None] = asyncio.Queue()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._failures: dict[K, int] = {}
        self._timers: dict[K, tuple[float, asyncio.TimerHandle]] = {}
        self._closed = False

    def __len__(self) -> int:
        """Keys waiting to be handed out (the queue depth)."""
        return len(self._dirty)

    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing being worked on (timers may still be pending)."""
        return not self._dirty and not self._processing

    def add(self, key: K) -> None:
        if self._closed or key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._line.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        if self._closed:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        due = loop.time() + delay
        pending = self._timers.get(key)
        if pending is not None:
            if pending[0] <= due:
                return
            pending[1].cancel()
        self._timers[key] = (due, loop.call_at(due, self._fire, key))

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def retry(self, key: K) -> float:
        """Re-add ``key`` after its next backoff delay; returns that delay."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay = min(self._retry_cap, self._retry_base * 2.0 ** min(failures, 30))
        self.add_after(key, delay)
        return delay

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)

    async def get(self) -> K:
        """The next key to work on; the caller must call :meth:`done` with it."""
        key = await self._line.get()
        if key is None:
            self._line.put_nowait(None)  # wake the next waiting worker too
            raise QueueShutDown
        self._dirty.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._dirty and not self._closed:
            self._line.put_nowait(key)

    def shutdown(self) -> None:
        """Stop handing out keys; every waiting and future :meth:`get` raises."""
        self._closed = True
        for _, handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self._line.put_nowait(None)
