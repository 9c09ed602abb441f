"""The autoscaler's decisions: stable and panic windows, slow scale-down, scale to zero."""

from __future__ import annotations

import itertools

from gateway.controller.autoscaling import Decision, History, Windows, decide
from gateway.kube.autoscaling import Autoscaling

WINDOWS = Windows(stable=60.0, panic=6.0)
SPEC = Autoscaling(min_replicas=1, max_replicas=10, target_concurrency=2.0)
TO_ZERO = Autoscaling(min_replicas=0, max_replicas=10, target_concurrency=2.0,
                      scale_to_zero_after_seconds=30)


def run(history: History, spec: Autoscaling, *, start: float, seconds: int,
        concurrency: float, current: int) -> tuple[int, list[Decision]]:
    """Feed one sample a second; follow each decision as the controller would."""
    made = []
    for second in range(seconds):
        now = start + second
        history.add(now, concurrency=concurrency, requests=int(concurrency > 0), horizon=60)
        decision = decide(history, spec=spec, current=current, now=now, windows=WINDOWS)
        made.append(decision)
        current = decision.replicas
    return current, made


def test_steady_load_asks_for_load_over_target() -> None:
    """A steady 7 in flight with a target of 2 per pod settles on 4 pods."""
    current, _ = run(History(active_at=0), SPEC, start=0, seconds=70, concurrency=7,
                     current=1)
    assert current == 4


def test_a_burst_panics_and_doubles_within_seconds() -> None:
    """From 1 pod, a step to 50 in flight reaches the maximum within the panic window."""
    history = History(active_at=0)
    run(history, SPEC, start=0, seconds=30, concurrency=1, current=1)
    current, made = run(history, SPEC, start=30, seconds=6, concurrency=50, current=1)
    assert made[0].panic
    assert made[0].replicas >= 2
    assert current == 10


def test_scale_down_is_slow_and_at_most_halves() -> None:
    """After the load stops, replicas fall only as the stable mean does, never below half."""
    history = History(active_at=0)
    current, _ = run(history, SPEC, start=0, seconds=70, concurrency=16, current=1)
    assert current == 8
    current, made = run(history, SPEC, start=70, seconds=10, concurrency=0, current=current)
    assert current >= 6  # the stable mean still remembers the load
    current, made = run(history, SPEC, start=80, seconds=120, concurrency=0, current=current)
    replicas = [decision.replicas for decision in made]
    assert all(later >= (earlier + 1) // 2 for earlier, later in itertools.pairwise(replicas))
    assert current == 1


def test_idle_scales_to_zero_only_after_the_idle_time_and_min_zero() -> None:
    """minReplicas 0: zero after scaleToZeroAfterSeconds idle; minReplicas 1 never."""
    current, made = run(History(active_at=0), TO_ZERO, start=0, seconds=29, concurrency=0,
                        current=2)
    assert current == 1
    current, made = run(History(active_at=0), TO_ZERO, start=0, seconds=31, concurrency=0,
                        current=2)
    assert current == 0
    assert "scaled to zero" in made[-1].reason
    current, _ = run(History(active_at=0), SPEC, start=0, seconds=200, concurrency=0,
                     current=2)
    assert current == 1


def test_a_wake_asks_for_a_pod_at_once() -> None:
    """A predictor at zero gets one pod on a wake request, before any load is reported."""
    history = History(active_at=None)
    assert decide(history, spec=TO_ZERO, current=0, now=100, windows=WINDOWS).replicas == 0
    history.woken(101)
    assert decide(history, spec=TO_ZERO, current=0, now=101, windows=WINDOWS).replicas == 1


def test_a_restarted_controller_keeps_zero_at_zero() -> None:
    """Nothing seen since start: a predictor at zero stays there, one running keeps a pod."""
    assert decide(History(active_at=None), spec=TO_ZERO, current=0, now=5,
                  windows=WINDOWS).replicas == 0
    assert decide(History(active_at=None), spec=TO_ZERO, current=3, now=5,
                  windows=WINDOWS).replicas == 2
