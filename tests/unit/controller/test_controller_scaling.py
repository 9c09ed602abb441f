"""The autoscaler's running part, per predictor: wakes, two-step sleep, what the reconcile
reads (no I/O: wake requests and decisions are fed by hand)."""

from __future__ import annotations

from redis.asyncio import Redis

from gateway.controller.autoscaling import Windows
from gateway.controller.scaling import Scaler
from gateway.kube.autoscaling import Autoscaling
from gateway.kube.phdeployments import DeploymentSpec, PhDeployment, Predictor
from proxy.records import Load

ASLEEP = Autoscaling(min_replicas=0, max_replicas=3, target_concurrency=1,
                     scale_to_zero_after_seconds=10)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def deployment() -> PhDeployment:
    """A fixed primary and a canary that scales to zero."""
    return PhDeployment(name="iris", namespace="default", spec=DeploymentSpec(
        predictor=Predictor(replicas=2, model_image="m:1", instance_type="cpu-1"),
        others=(Predictor(name="canary", replicas=1, model_image="m:2", instance_type="cpu-1",
                          autoscaling=ASLEEP),)))


def scaler(clock: Clock, live: dict[str, int], queued: list[str]) -> Scaler:
    # Never connects: wake(), observe() and the decisions they make do no I/O.
    return Scaler(redis=Redis(), windows=Windows(stable=60, panic=6), period=1.0,
                  deployments=lambda: [deployment()],
                  live_replicas=lambda name, predictor: live.get(predictor),
                  enqueue=queued.append, clock=clock)


def test_a_wake_starts_only_the_predictor_it_names() -> None:
    """A canary at zero: not routed as ready; a wake for it queues the deployment and asks
    one pod for the canary, while the fixed primary keeps its replicas."""
    clock, live, queued = Clock(), {"predictor1": 2, "canary": 0}, []
    running = scaler(clock, live, queued)
    view = deployment()
    primary, canary = view.spec.predictors
    running.wake("iris@nobody")
    running.wake("other@canary")
    assert queued == []
    assert running.wakeable(view) == {"canary"}
    running.wake("iris@canary")
    assert queued == ["iris"]
    assert running.replicas(view, canary, {"spec": {"replicas": 0}}) == 1
    assert running.replicas(view, primary, {"spec": {"replicas": 2}}) == 2
    assert running.sleeping(view) == frozenset()
    assert running.status(view, None)["canary"]["desiredReplicas"] == 1


def test_going_to_zero_routes_asleep_a_period_before_the_pods_go() -> None:
    """Idle past the idle time: first the predictor is routed as asleep with its pod kept,
    a period later the reconcile may take the pod away."""
    clock, live, queued = Clock(), {"predictor1": 2, "canary": 1}, []
    running = scaler(clock, live, queued)
    view = deployment()
    canary = view.spec.predictors[1]
    running.wake("iris@canary")
    clock.now += 9
    running.observe({"iris@canary": Load(0.0, 1)})  # one request: still awake
    assert running.sleeping(view) == frozenset()
    clock.now += 11
    running.observe({})  # a period with no load reported
    assert running.sleeping(view) == {"canary"}
    assert running.replicas(view, canary, {"spec": {"replicas": 1}}) == 1
    clock.now += 1
    assert running.replicas(view, canary, {"spec": {"replicas": 1}}) == 0
