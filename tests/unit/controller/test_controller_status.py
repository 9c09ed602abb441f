"""A PhDeployment's status computed from observations: phases, messages, deadline, history."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from podstates import pod, running, unschedulable, waiting

from gateway.controller.status import Observation, Outcome, combine, compute

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
BASE = "https://hub.example.com"
DEADLINE = 300.0
SPEC: dict[str, Any] = {
    "displayName": "M", "userId": "u", "groupId": "g", "groupName": "g", "stop": False,
    "predictors": [{"name": "predictor1", "replicas": 2, "modelImage": "m:1",
                    "instanceType": "cpu-1"}]}


def child(*, replicas: int = 2, available: int = 0, updated: int | None = None,
          existing: int | None = None, generation: int = 1) -> dict[str, Any]:
    return {"metadata": {"generation": generation}, "spec": {"replicas": replicas},
            "status": {"observedGeneration": generation, "availableReplicas": available,
                       "updatedReplicas": replicas if updated is None else updated,
                       "replicas": replicas if existing is None else existing}}


def observe(**changes: Any) -> Observation:
    base = Observation(name="iris", generation=1, spec=SPEC, stopped=False, replicas=2,
                       previous={}, problem=None, child=None, child_current=False, pods=[],
                       now=T0)
    return dataclasses.replace(base, **changes)


def run(observed: Observation) -> tuple[dict[str, Any], float | None]:
    computed = compute(observed, base_url=BASE, deadline=DEADLINE)
    return computed.status, computed.recheck_after


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in status["conditions"] if c["type"] == kind]
    assert len(found) == 1
    return found[0]


def test_fully_rolled_out_is_deployed_with_endpoint_counts_and_generation() -> None:
    """Every replica updated and available: Deployed, PrimeHub's text, the endpoint URL."""
    status, recheck = run(observe(child=child(available=2), child_current=True, generation=3))
    assert status["phase"] == "Deployed"
    assert status["message"] == "Deployment is deployed and available now"
    assert status["replicas"] == 2
    assert status["availableReplicas"] == 2
    assert status["endpoint"] == "https://hub.example.com/deployment/iris/api/v1.0/predictions"
    assert status["observedGeneration"] == 3
    assert condition(status, "Available")["status"] == "True"
    assert condition(status, "Progressing")["status"] == "False"
    assert len(status["history"]) == 1
    assert recheck is None


def test_zero_replicas_is_deployed_but_says_nothing_answers() -> None:
    """replicas: 0 is not "available now": the message says requests get 503, and the
    Available condition is False."""
    status, recheck = run(observe(replicas=0, child=child(replicas=0), child_current=True))
    assert status["phase"] == "Deployed"
    assert status["message"] == ("Deployment is deployed with 0 replicas: no pod runs and "
                                 "requests are answered 503 until replicas is raised")
    assert (status["replicas"], status["availableReplicas"]) == (0, 0)
    assert condition(status, "Available")["status"] == "False"
    assert condition(status, "Available")["reason"] == "ScaledToZero"
    assert recheck is None


def test_a_child_not_yet_reflecting_the_last_apply_is_still_deploying() -> None:
    """Old pods all available do not make a new spec Deployed."""
    status, recheck = run(observe(child=child(available=2), child_current=False))
    assert status["phase"] == "Deploying"
    assert status["message"] == "Deployment is being deployed and not available now"
    assert recheck == DEADLINE


def test_old_pods_left_or_missing_replicas_keep_it_deploying() -> None:
    """An extra old pod or a missing available replica is not rolled out yet."""
    for state in (child(available=2, existing=3), child(available=1),
                  child(available=2, updated=1)):
        status, _ = run(observe(child=state, child_current=True))
        assert status["phase"] == "Deploying"


def test_stopped_is_stopping_while_pods_remain_then_stopped() -> None:
    """Stop: Stopping with PrimeHub's text while a pod or replica is left, then Stopped."""
    stopped = observe(stopped=True, child=child(replicas=0, available=0, existing=1),
                      child_current=True)
    status, _ = run(stopped)
    assert (status["phase"], status["message"]) == ("Stopping", "deployment is stopping")
    assert status["replicas"] == 0
    status, _ = run(dataclasses.replace(stopped, child=child(replicas=0, existing=0),
                                        pods=[pod("p")]))
    assert status["phase"] == "Stopping"
    status, recheck = run(dataclasses.replace(stopped, child=child(replicas=0, existing=0)))
    assert (status["phase"], status["message"]) == ("Stopped", "deployment has stopped")
    assert recheck is None
    status, _ = run(dataclasses.replace(stopped, child=None))
    assert status["phase"] == "Stopped"


def test_configuration_problems_fail_with_their_message() -> None:
    """A missing group (or disabled one, or missing instance type) is Failed, as worded."""
    status, recheck = run(observe(problem="Group Not Found", child=child(available=2),
                                  child_current=True))
    assert (status["phase"], status["message"]) == ("Failed", "Group Not Found")
    assert condition(status, "Progressing")["reason"] == "ConfigurationError"
    assert recheck is None


def test_stop_wins_over_a_configuration_problem() -> None:
    """A stopped deployment of a deleted group is simply Stopped."""
    status, _ = run(observe(stopped=True, problem="Group Not Found"))
    assert status["phase"] == "Stopped"


def test_hard_runtime_failures_fail_at_once() -> None:
    """An image pull error makes it Failed immediately, naming the pod."""
    broken = [pod("deploy-iris-1", containers=[waiting("model", "ImagePullBackOff")])]
    status, recheck = run(observe(child=child(), child_current=True, pods=broken))
    assert status["phase"] == "Failed"
    assert status["message"] == ("Failed because of wrong image settings. Pod deploy-iris-1: "
                                 "container model: ImagePullBackOff.")
    assert condition(status, "Available")["reason"] == "ImageFailure"
    assert recheck == DEADLINE


def test_unschedulable_explains_deploying_until_the_deadline_then_fails() -> None:
    """Unschedulable is Deploying with the scheduler's reason; past the deadline, Failed."""
    pods = [pod("p", conditions=unschedulable("0/1 nodes are available: 1 Insufficient cpu."))]
    first = observe(child=child(), child_current=True, pods=pods)
    status, recheck = run(first)
    assert status["phase"] == "Deploying"
    assert status["message"] == ("Certain pods unschedulable. Pod p: 0/1 nodes are available: "
                                 "1 Insufficient cpu.")
    assert recheck == DEADLINE
    later = dataclasses.replace(first, previous=status, now=T0 + timedelta(seconds=DEADLINE))
    status, recheck = run(later)
    assert status["phase"] == "Failed"
    assert status["message"] == ("Failed because the deployment is not available for over "
                                 "5 min. Certain pods unschedulable. Pod p: 0/1 nodes are "
                                 "available: 1 Insufficient cpu.")
    assert condition(status, "Progressing")["reason"] == "ProgressDeadlineExceeded"
    assert recheck is None


def test_deadline_counts_from_the_start_of_the_attempt() -> None:
    """The clock survives recomputation: 200 s in, 100 s are left."""
    first = observe(child=child(), child_current=True)
    status, _ = run(first)
    status, recheck = run(dataclasses.replace(first, previous=status,
                                              now=T0 + timedelta(seconds=200)))
    assert status["phase"] == "Deploying"
    assert recheck == 100


def test_failed_by_deadline_stays_failed_then_recovers_by_itself() -> None:
    """Past the deadline it stays Failed; once replicas are available it is Deployed."""
    first = observe(child=child(), child_current=True)
    status, _ = run(first)
    late = T0 + timedelta(seconds=DEADLINE + 1)
    status, _ = run(dataclasses.replace(first, previous=status, now=late))
    assert status["phase"] == "Failed"
    assert status["message"] == ("Failed because the deployment is not available for over "
                                 "5 min")
    status, _ = run(dataclasses.replace(first, previous=status, now=late + timedelta(hours=1)))
    assert status["phase"] == "Failed"
    ready = [pod("p", containers=[running("model", ready=True)])]
    status, _ = run(dataclasses.replace(first, previous=status, child=child(available=2),
                                        pods=ready, now=late + timedelta(hours=2)))
    assert status["phase"] == "Deployed"


def test_a_new_generation_or_lost_availability_restarts_the_clock() -> None:
    """A new spec after a deadline failure, or a Deployed one losing a pod, starts afresh."""
    first = observe(child=child(), child_current=True)
    status, _ = run(first)
    late = T0 + timedelta(seconds=DEADLINE + 1)
    failed, _ = run(dataclasses.replace(first, previous=status, now=late))
    status, recheck = run(dataclasses.replace(first, previous=failed, generation=2, now=late))
    assert status["phase"] == "Deploying"
    assert recheck == DEADLINE
    deployed, _ = run(dataclasses.replace(first, child=child(available=2), now=late))
    status, recheck = run(dataclasses.replace(first, previous=deployed, child=child(available=1),
                                              now=late + timedelta(seconds=10)))
    assert status["phase"] == "Deploying"
    assert recheck == DEADLINE


def test_an_unchanged_situation_gives_an_identical_status() -> None:
    """Recomputing later with nothing changed yields the same status (no write)."""
    first = observe(child=child(available=2), child_current=True)
    status, _ = run(first)
    again, _ = run(dataclasses.replace(first, previous=status, now=T0 + timedelta(hours=5)))
    assert again == status
    deploying = observe(child=child(), child_current=True)
    status, _ = run(deploying)
    again, _ = run(dataclasses.replace(deploying, previous=status,
                                       now=T0 + timedelta(seconds=5)))
    assert again == status


def test_short_deadlines_are_worded_in_seconds() -> None:
    """A deadline that is not whole minutes is stated in seconds."""
    first = observe(child=child(), child_current=True)
    computed = compute(first, base_url=BASE, deadline=1.5)
    later = dataclasses.replace(first, previous=computed.status,
                                now=T0 + timedelta(seconds=2))
    status = compute(later, base_url=BASE, deadline=1.5).status
    assert status["message"] == "Failed because the deployment is not available for over 1.5 s"


def outcome(name: str, share: int, phase: str) -> Outcome:
    """A predictor's computed status: deployed, being deployed, failed or stopping."""
    observed = {"Deployed": observe(child=child(available=2), child_current=True),
                "Deploying": observe(),
                "Failed": observe(problem="InstanceType not found: gone"),
                "Stopping": observe(stopped=True, child=child(available=2))}[phase]
    return Outcome(name, share, compute(observed, base_url=BASE, deadline=DEADLINE))


def combined(*outcomes: Outcome, routed_shares: int = 100) -> dict[str, Any]:
    return combine(outcomes, routed_shares=routed_shares).status


def test_one_predictor_is_reported_as_before_plus_its_own_entry() -> None:
    """A single predictor's status is compute's, with status.predictors naming it."""
    single = outcome("predictor1", 100, "Deployed")
    status = combined(single)
    assert {key: value for key, value in status.items() if key != "predictors"} == \
        single.computed.status
    assert status["predictors"] == [{"name": "predictor1", "phase": "Deployed",
                                     "message": "Deployment is deployed and available now",
                                     "replicas": 2, "availableReplicas": 2}]


def test_every_predictor_with_a_share_must_be_available() -> None:
    """A canary with a share still being deployed keeps it Deploying, naming the canary; at
    0% it does not."""
    primary = outcome("predictor1", 90, "Deployed")
    status = combined(primary, outcome("canary", 10, "Deploying"))
    assert status["phase"] == "Deploying"
    assert status["message"].startswith("Predictor canary (10% of requests): ")
    assert combined(outcome("predictor1", 100, "Deployed"),
                    outcome("canary", 0, "Deploying"))["phase"] == "Deployed"


def test_a_failing_canary_up_to_ten_percent_is_named_not_fatal() -> None:
    """A failed canary at 10% or 0% is named in the message; above 10% the deployment fails;
    a failed primary with most of the traffic fails it too."""
    status = combined(outcome("predictor1", 90, "Deployed"), outcome("canary", 10, "Failed"))
    assert status["phase"] == "Deployed"
    assert status["message"] == (
        "Deployment is deployed and available now. Predictor canary (10% of requests) "
        "failed: InstanceType not found: gone (its requests go to the other predictors).")
    quiet = combined(outcome("predictor1", 100, "Deployed"), outcome("canary", 0, "Failed"))
    assert quiet["phase"] == "Deployed"
    assert "(reachable only by its own URL)" in quiet["message"]
    assert combined(outcome("predictor1", 89, "Deployed"),
                    outcome("canary", 11, "Failed"))["phase"] == "Failed"
    assert combined(outcome("predictor1", 90, "Failed"),
                    outcome("canary", 10, "Deployed"))["phase"] == "Failed"


def test_stopping_lasts_until_every_predictor_has_stopped() -> None:
    """Stopped only when no predictor has pods left."""
    stopped = outcome("predictor1", 90, "Stopping")
    assert combined(stopped, outcome("canary", 10, "Stopping"))["phase"] == "Stopping"


def test_shares_not_summing_to_100_are_reported() -> None:
    """A spec whose shares do not sum to 100 says that everything goes to the primary."""
    status = combined(outcome("predictor1", 100, "Deployed"), outcome("canary", 0, "Deployed"),
                      routed_shares=140)
    assert status["phase"] == "Deployed"
    assert status["message"].endswith("The predictors' trafficPercent sum to 140, not 100: "
                                      "every request goes to the primary.")
