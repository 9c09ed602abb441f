"""The shape every simulated controller of the local cluster shares.

A controller hears every store event synchronously (:meth:`Reactor.on_event`), but must not
write from there: a listener that writes would re-enter the store while it notifies. So each
one only queues work in ``on_event`` and does its writes in one background task
(:meth:`Reactor.run`), started with the cluster and cancelled with it.
"""

from __future__ import annotations

import asyncio
import contextlib

from gateway.localcluster.store import Event, Store


class Reactor:
    """Subscribe on construction; :meth:`start` the worker task; :meth:`stop` ends both."""

    name = "localcluster-reactor"

    def __init__(self, store: Store) -> None:
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe = store.subscribe(self.on_event)

    def on_event(self, event: Event) -> None:
        """Queue work for an event; never write to the store here."""

    async def run(self) -> None:
        """Do the queued work, forever."""

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
