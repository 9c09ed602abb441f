"""Leader election with a ``coordination.k8s.io/v1`` Lease: only one controller replica acts.

The algorithm is client-go's: a candidate takes the lease when it does not exist, is
released (empty holder), or has not changed for ``lease_duration`` *as observed by this
process's monotonic clock* (so clock skew between machines does not matter: we never compare
our clock with a time another machine wrote). The leader renews every ``retry_period``; when
it has not managed to renew for ``renew_deadline`` it stops leading at once, before its lease
can expire for the others (``renew_deadline < lease_duration``), so two leaders never act at
the same time. Leadership lost means the work is cancelled and the campaign starts again.
On shutdown the leader releases the lease so a standby takes over without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from gateway.kube import leases
from gateway.kube.client import Kube
from gateway.kube.errors import AlreadyExists, Conflict, KubeError
from gateway.kube.leases import LeaseRecord, StoredLease

log = logging.getLogger(__name__)


class LeaderElector:
    def __init__(self, kube: Kube, *, namespace: str, name: str, identity: str,
                 lease_duration: float, renew_deadline: float, retry_period: float,
                 on_change: Callable[[bool], None] | None = None) -> None:
        self._kube = kube
        self._namespace = namespace
        self._name = name
        self.identity = identity
        self._duration = lease_duration
        self._renew_deadline = renew_deadline
        self._retry_period = retry_period
        self._on_change = on_change
        self._observed: LeaseRecord | None = None
        self._observed_at = 0.0
        self.leading = False

    async def run(self, lead: Callable[[], Awaitable[None]]) -> None:
        """Campaign; while leading run ``lead()``; on lost leadership cancel it and campaign again.

        Returns when ``lead()`` returns (re-raising what it raises), after releasing the lease.
        """
        while True:
            await self._acquire()
            self._set_leading(True)
            work = asyncio.ensure_future(lead())
            keeper = asyncio.create_task(self._keep(), name="lease-renewal")
            lost = False
            try:
                done, _ = await asyncio.wait({work, keeper}, return_when=asyncio.FIRST_COMPLETED)
                lost = work not in done
            finally:
                await _cancel(keeper)
                await _cancel(work)
                self._set_leading(False)
                if not lost:  # finished, failed or shut down: hand over at once
                    await self._release()
            if not lost:
                work.result()  # re-raise the work's failure
                return
            log.warning("lost the lease %s/%s; campaigning again", self._namespace, self._name)

    # -- acquiring and renewing --------------------------------------------------------------

    async def _acquire(self) -> None:
        while True:
            if await self._attempt():
                return
            await asyncio.sleep(self._retry_period * random.uniform(1.0, 1.2))  # noqa: S311

    async def _keep(self) -> None:
        """Renew until a renewal has failed for ``renew_deadline``; then return (lost)."""
        loop = asyncio.get_running_loop()
        last_success = loop.time()
        while True:
            await asyncio.sleep(self._retry_period)
            remaining = last_success + self._renew_deadline - loop.time()
            renewed = False
            if remaining > 0:
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow the
                # task's cancellation when the attempt finishes at the same moment, and a
                # replica told to stop would then renew forever.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        renewed = await self._attempt()
            if renewed:
                last_success = loop.time()
            elif loop.time() >= last_success + self._renew_deadline:
                return

    async def _attempt(self) -> bool:
        """One try to acquire or renew; True when we hold the lease afterwards."""
        loop = asyncio.get_running_loop()
        stamp = leases.micro_time(datetime.now(UTC))
        try:
            stored = await leases.read(self._kube, namespace=self._namespace, name=self._name)
            if stored is None:
                record = LeaseRecord(holder=self.identity,
                                     duration_seconds=leases.duration_seconds(self._duration),
                                     acquire_time=stamp, renew_time=stamp)
                self._observe(await leases.create(self._kube, namespace=self._namespace,
                                                  name=self._name, record=record), loop.time())
                return True
            now = loop.time()
            if stored.record != self._observed:
                self._observe(stored, now)
            current = stored.record
            ours = current.holder == self.identity
            if current.holder and not ours and \
                    self._observed_at + current.duration_seconds > now:
                return False
            record = LeaseRecord(
                holder=self.identity, duration_seconds=leases.duration_seconds(self._duration),
                acquire_time=current.acquire_time if ours else stamp, renew_time=stamp,
                transitions=current.transitions if ours else current.transitions + 1)
            self._observe(await leases.replace(
                self._kube, namespace=self._namespace, name=self._name, record=record,
                resource_version=stored.resource_version), loop.time())
            return True
        except (AlreadyExists, Conflict):
            return False
        except KubeError as error:
            log.warning("lease %s/%s: %s", self._namespace, self._name, error)
            return False

    def _observe(self, stored: StoredLease, at: float) -> None:
        self._observed = stored.record
        self._observed_at = at

    async def _release(self) -> None:
        """Give the lease up (best effort) so a standby need not wait for it to expire."""
        try:
            stored = await leases.read(self._kube, namespace=self._namespace, name=self._name)
            if stored is None or stored.record.holder != self.identity:
                return
            stamp = leases.micro_time(datetime.now(UTC))
            released = LeaseRecord(holder="", duration_seconds=1,
                                   acquire_time=stored.record.acquire_time, renew_time=stamp,
                                   transitions=stored.record.transitions)
            await leases.replace(self._kube, namespace=self._namespace, name=self._name,
                                 record=released, resource_version=stored.resource_version)
        except KubeError as error:
            log.warning("could not release the lease %s/%s: %s", self._namespace, self._name,
                        error)

    def _set_leading(self, leading: bool) -> None:
        if leading != self.leading:
            self.leading = leading
            log.info("%s %s the lease %s/%s", self.identity,
                     "holds" if leading else "no longer holds", self._namespace, self._name)
            if self._on_change is not None:
                self._on_change(leading)


async def _cancel(task: asyncio.Future[None]) -> None:
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
