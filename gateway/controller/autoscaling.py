"""How many replicas a predictor should have for its load (pure; Knative's KPA is the model).

The proxies report each predictor's mean concurrency (requests in flight) every period; the
controller feeds the sum over all proxies to :meth:`History.add` and asks :func:`decide`:

- **stable mode**: the mean over the stable window (60 s by default) divided by
  ``targetConcurrency``, rounded up. Scale-down follows that slow mean, and at most halves the
  replicas per decision, so a dip in load does not throw pods away;
- **panic mode**: when the mean over the short panic window (6 s) asks for at least twice the
  current replicas, the decision jumps to what that window asks for (capacity at least
  doubles within seconds of a burst) and, for a stable window after the last such burst,
  never goes down;
- **scale to zero** (``minReplicas: 0``): only after ``scaleToZeroAfterSeconds`` with no
  request in flight and none admitted; a wake request (a held request at a proxy) counts as
  activity and asks for at least one pod at once.

Everything here is a function of the samples, the clock value passed in and the spec, so every
rule is unit-tested without I/O. The windows are settings, so tests shorten them.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Final

from gateway.kube.autoscaling import Autoscaling

PANIC_THRESHOLD: Final = 2.0  # panic when the panic window asks for twice the replicas
MAX_SCALE_DOWN_RATE: Final = 2.0  # at most halve per decision


@dataclass(frozen=True)
class Windows:
    stable: float = 60.0
    panic: float = 6.0


@dataclass(frozen=True)
class Decision:
    replicas: int
    reason: str
    panic: bool = False


class History:
    """One predictor's recent load and activity (what :func:`decide` looks at).

    ``active_at`` is the last time a request was in flight, admitted or waiting to wake it;
    None when nothing was seen since the controller started watching a predictor that has
    no pod (so a restarted controller wakes nothing by itself).
    """

    def __init__(self, *, active_at: float | None) -> None:
        self.samples: deque[tuple[float, float]] = deque()  # (time, mean concurrency)
        self.active_at = active_at
        self.panic_until: float | None = None

    def add(self, now: float, *, concurrency: float, requests: int, horizon: float) -> None:
        self.samples.append((now, concurrency))
        while self.samples and self.samples[0][0] <= now - horizon:
            self.samples.popleft()
        if concurrency > 0 or requests > 0:
            self.active_at = now

    def woken(self, now: float) -> None:
        self.active_at = now

    def mean(self, now: float, window: float) -> float:
        values = [value for at, value in self.samples if at > now - window]
        return sum(values) / len(values) if values else 0.0


def decide(history: History, *, spec: Autoscaling, current: int, now: float,
           windows: Windows) -> Decision:
    """The replicas ``spec`` wants for ``history``'s load, starting from ``current``."""
    target = spec.target_concurrency or 1.0
    stable_mean = history.mean(now, windows.stable)
    panic_mean = history.mean(now, windows.panic)
    stable_want = math.ceil(round(stable_mean / target, 6))
    panic_want = math.ceil(round(panic_mean / target, 6))
    if panic_want > current and panic_want >= PANIC_THRESHOLD * max(current, 1):
        history.panic_until = now + windows.stable
    if history.panic_until is not None and now >= history.panic_until:
        history.panic_until = None
    per_pod = f"target {target:g} per pod"
    if history.panic_until is not None:
        return Decision(spec.clamp(max(panic_want, stable_want, current)),
                        f"panic: {panic_mean:.2f} in flight over {windows.panic:g} s, "
                        f"{per_pod}", panic=True)
    want = max(stable_want, math.ceil(current / MAX_SCALE_DOWN_RATE))
    reason = f"{stable_mean:.2f} in flight over {windows.stable:g} s, {per_pod}"
    if stable_want == 0 and panic_want == 0:
        active = history.active_at
        if active is None:  # nothing seen since the controller started
            if current == 0:
                return Decision(spec.clamp(0), "no request since the controller started")
            history.active_at = active = now
        idle = now - active
        if spec.min_replicas == 0 and idle >= spec.idle_seconds:
            return Decision(0, f"no request for {idle:.0f} s: scaled to zero")
        want = max(want, 1)  # recently active (or just woken): keep a pod until idle
    return Decision(spec.clamp(want), reason)
