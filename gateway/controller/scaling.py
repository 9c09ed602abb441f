"""The autoscaler's running part: load and wake requests in, replica decisions out.

:class:`Scaler` lives inside the leading :class:`~gateway.controller.reconciling.Controller`.
Every ``autoscale_period`` it reads the load the proxies reported (:func:`proxy.inflight.
read_load`), feeds each concurrency-autoscaled predictor's (each predictor of a deployment
scales on its own) :class:`~gateway.controller.
autoscaling.History` and asks :func:`~gateway.controller.autoscaling.decide`. A decision that
changes the replicas is kept here and the deployment is queued: the reconcile applies it to the
Deployment (:meth:`Scaler.replicas`) and records it in ``status.autoscaling``
(:meth:`Scaler.status`), so one writer, the reconcile, touches Kubernetes.

Wake requests (``mg:wakes``, added by a proxy holding an admitted request for a predictor at
zero) are read as they come; each counts as activity and decides again at once, so a wake
costs no polling delay. Going to zero takes two steps a period apart: first the route says
the predictor is not ready (requests are held and wake it), then its pods go, so no request
is sent to a pod being removed. A restarted controller starts from the live Deployment's
replicas and wakes nothing by itself.

A CPU target is the HorizontalPodAutoscaler's to follow: the controller keeps whatever replicas
the HPA set (within the bounds) and never fights it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

from redis.asyncio import ConnectionPool, Redis
from redis.exceptions import RedisError

from gateway.controller.autoscaling import Decision, History, Windows, decide
from gateway.kube.autoscaling import Autoscaling
from gateway.kube.client import Object
from gateway.kube.phdeployments import PhDeployment, Predictor, timestamp
from proxy.cancelling import raise_if_cancelled
from proxy.inflight import read_load
from proxy.records import (
    WAKES_KEY,
    Load,
    RecordError,
    split_target,
    target,
)

log = logging.getLogger(__name__)

WAKE_BLOCK_MS: Final = 1000
_IDLE: Final = Load(0.0, 0)


def concurrency_scaled(predictor: Predictor) -> Autoscaling | None:
    """The predictor's autoscaling when the gateway's autoscaler drives it."""
    found = predictor.autoscaling
    return found if found is not None and found.target_concurrency is not None else None


class Scaler:
    """Decisions for every concurrency-autoscaled predictor of one controller, by
    ``<deployment id>@<predictor>``."""

    def __init__(self, *, redis: Redis, windows: Windows, period: float,
                 deployments: Callable[[], Iterable[PhDeployment]],
                 live_replicas: Callable[[str, str], int | None],
                 enqueue: Callable[[str], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._redis = redis
        self._windows = windows
        self._period = period
        self._deployments = deployments
        self._live_replicas = live_replicas
        self._enqueue = enqueue
        self._clock = clock
        self._histories: dict[str, History] = {}
        self._decisions: dict[str, tuple[Decision, str]] = {}  # target -> (decision, when)
        self._sleeping: dict[str, float] = {}  # target -> when its decision became zero

    # -- what the reconcile asks --------------------------------------------------------------

    def replicas(self, view: PhDeployment, predictor: Predictor, live: Object | None) -> int:
        """The replicas the predictor's Deployment should have now (fixed: the spec's)."""
        autoscaling = predictor.autoscaling
        if autoscaling is None:
            return predictor.replicas
        key = target(view.name, predictor.name)
        decided = self._decisions.get(key)
        if decided is not None and autoscaling.target_concurrency is not None:
            since = self._sleeping.get(key)
            if since is not None and live is not None \
                    and self._clock() - since < self._period:
                # the route says "not ready, wakeable" first; the pods go a period later, so
                # no request is sent to a pod that is being removed
                return int((live.get("spec") or {}).get("replicas") or 0)
            return autoscaling.clamp(decided[0].replicas)
        if live is not None:
            return autoscaling.clamp(int((live.get("spec") or {}).get("replicas") or 0))
        return autoscaling.clamp(predictor.replicas)

    def status(self, view: PhDeployment, previous: Any) -> Object | None:
        """``status.autoscaling``: each autoscaled predictor's last decision, by name (the one
        recorded before a restart until a new one is made)."""
        recorded = previous if isinstance(previous, dict) else {}
        found: Object = {}
        for predictor in view.spec.predictors:
            if concurrency_scaled(predictor) is None:
                continue
            decided = self._decisions.get(target(view.name, predictor.name))
            if decided is None:
                if isinstance(recorded.get(predictor.name), dict):
                    found[predictor.name] = recorded[predictor.name]
                continue
            decision, when = decided
            found[predictor.name] = {"desiredReplicas": decision.replicas,
                                     "reason": decision.reason, "time": when}
        return found or None

    def sleeping(self, view: PhDeployment) -> frozenset[str]:
        """The predictors decided to zero: routed as not ready (requests held and waking)
        from the moment of the decision, before their pods go."""
        return frozenset(predictor.name for predictor in view.spec.predictors
                         if target(view.name, predictor.name) in self._sleeping)

    def wakeable(self, view: PhDeployment) -> frozenset[str]:
        """The predictors that may be at zero, which a request wakes."""
        if view.spec.stop:
            return frozenset()
        return frozenset(predictor.name for predictor in view.spec.predictors
                         if (found := concurrency_scaled(predictor)) is not None
                         and found.scales_to_zero)

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Decide every period, and on every wake request, until cancelled."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._every_period(), name="autoscale-decide")
            tasks.create_task(self._follow_wakes(), name="autoscale-wakes")

    async def _every_period(self) -> None:
        while True:
            await asyncio.sleep(self._period)
            try:
                await self.tick()
            except (RedisError, OSError) as error:
                log.warning("reading the proxies' load failed: %s", error)
            raise_if_cancelled()

    async def tick(self) -> None:
        """One period: every autoscaled predictor's load in, changed decisions out."""
        self.observe(await read_load(self._redis, now=time.time(),
                                     max_age=max(3.0, 3 * self._period)))

    def observe(self, loads: Mapping[str, Load]) -> None:
        """Feed one period's load (by ``<id>@<predictor>``; absent: idle) and decide."""
        now = self._clock()
        seen: set[str] = set()
        for view, predictor, spec in self._autoscaled():
            key = target(view.name, predictor.name)
            seen.add(key)
            load = loads.get(key, _IDLE)
            history = self._history(view, predictor, now)
            history.add(now, concurrency=load.concurrency, requests=load.requests,
                        horizon=self._windows.stable)
            self._decide(view, predictor, spec, history, now)
            since = self._sleeping.get(key)
            if since is not None and now - since >= self._period \
                    and (self._live_replicas(view.name, predictor.name) or 0) > 0:
                self._enqueue(view.name)  # the route said "asleep" for a period: now the pods
        for key in set(self._histories) - seen:
            del self._histories[key]
            self._decisions.pop(key, None)
            self._sleeping.pop(key, None)

    def _autoscaled(self) -> Iterator[tuple[PhDeployment, Predictor, Autoscaling]]:
        for view in self._deployments():
            if view.spec.stop:
                continue
            for predictor in view.spec.predictors:
                spec = concurrency_scaled(predictor)
                if spec is not None:
                    yield view, predictor, spec

    async def _follow_wakes(self) -> None:
        """Read wake requests as they come, on a connection of its own: a blocking read
        would hold one of the shared pool's, and is cut when the controller stops."""
        shared = self._redis.connection_pool
        reader = Redis(connection_pool=ConnectionPool(
            connection_class=shared.connection_class, max_connections=1,
            **shared.connection_kwargs))
        try:
            await self._read_wakes(reader)
        finally:
            await reader.aclose(close_connection_pool=True)

    async def _read_wakes(self, reader: Redis) -> None:
        last = "$"
        while True:
            try:
                found: Any = await reader.xread({WAKES_KEY: last}, block=WAKE_BLOCK_MS)
            except (RedisError, OSError) as error:
                log.warning("reading wake requests failed: %s", error)
                await asyncio.sleep(self._period)
                continue
            for _, entries in found or []:
                for entry_id, fields in entries:
                    last = _text(entry_id)
                    self.wake(_text(fields.get(b"target", fields.get("target", b""))))
            raise_if_cancelled()

    def wake(self, wanted: str) -> None:
        """A proxy holds a request for ``wanted`` (``<id>@<predictor>``): decide now."""
        try:
            split_target(wanted)
        except RecordError:
            log.warning("ignoring a malformed wake request %r", wanted[:80])
            return
        for view, predictor, spec in self._autoscaled():
            if target(view.name, predictor.name) == wanted:
                now = self._clock()
                history = self._history(view, predictor, now)
                history.woken(now)
                self._decide(view, predictor, spec, history, now)

    def _history(self, view: PhDeployment, predictor: Predictor, now: float) -> History:
        key = target(view.name, predictor.name)
        history = self._histories.get(key)
        if history is None:
            running = (self._live_replicas(view.name, predictor.name) or 0) > 0
            history = self._histories[key] = History(active_at=now if running else None)
        return history

    def _decide(self, view: PhDeployment, predictor: Predictor, spec: Autoscaling,
                history: History, now: float) -> None:
        key = target(view.name, predictor.name)
        decided = self._decisions.get(key)
        if decided is not None:
            current = decided[0].replicas
        else:
            live = self._live_replicas(view.name, predictor.name)
            current = spec.clamp(predictor.replicas if live is None else live)
        decision = decide(history, spec=spec, current=current, now=now, windows=self._windows)
        if decision.replicas == 0:
            self._sleeping.setdefault(key, now)
        else:
            self._sleeping.pop(key, None)
        if decided is None or decision.replicas != current:
            self._decisions[key] = (decision, timestamp())
            if decision.replicas != current:
                log.info("autoscaling", extra={"fields": {
                    "deployment": view.name, "predictor": predictor.name,
                    "replicas": decision.replicas, "from": current,
                    "detail": decision.reason}})
            self._enqueue(view.name)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
