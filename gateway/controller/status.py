"""A PhDeployment's status, computed from what the controller observes (pure).

:func:`compute` gets the resource, its live Deployment and pods, any configuration problem and
the time, and returns the whole ``status`` plus how long until the availability deadline could
change it. Nothing here reads a clock or the API, so every rule is unit-tested.

Phases (messages are PrimeHub's where it had one):

- stopped: ``Stopping`` while any pod or replica is left, then ``Stopped``;
- a configuration problem (group missing or not enabled, instance type missing, a model URI
  no initializer handles): ``Failed`` with the problem;
- every replica updated and available: ``Deployed``; with ``replicas: 0`` that is still
  ``Deployed`` (the spec is carried out, and PrimeHub's clients show any other phase of a
  running deployment as "Deploying" forever), but the message says what it is: nothing runs
  and the proxy answers 503 until replicas is raised, and ``Available`` is ``False``; the
  autoscaler's zero says instead that the next request wakes it (:data:`WAKEABLE`);
- otherwise ``Deploying``, unless :mod:`~gateway.controller.diagnosis` finds a hard failure
  (``Failed`` at once) or the deployment has not become available within the deadline
  (``Failed``, with any softer explanation such as an unschedulable pod). It recovers to
  ``Deployed`` by itself as soon as the replicas are available.

The deadline clock lives in the ``Progressing`` condition, like a Kubernetes Deployment's: its
``lastTransitionTime`` is when the current attempt started (a new generation, a start, or the
loss of availability), and reason ``ProgressDeadlineExceeded`` remembers that the deadline
passed for this generation. Status is only ever derived from stored state, so a restarted
controller computes exactly what it would have computed before.

Several predictors (:func:`combine`): each gets its own phase, message and replica counts
from :func:`compute` (``status.predictors``); the flat fields stay the primary's, as PrimeHub's
clients expect. The deployment is ``Deployed`` when every predictor with a share of the
requests is available. A predictor with a share above :data:`CANARY_SHARE` that fails makes the
deployment ``Failed``; a canary at :data:`CANARY_SHARE` or less that fails is named in the
message instead (the proxy sends its share to the others), and so is a predictor at 0%. A
predictor being deployed with a share keeps the deployment ``Deploying``. Each predictor other
than the primary keeps its own conditions in ``status.predictors[].conditions`` (the primary's
are the deployment's), so its deadline clock runs on its own: a canary that never becomes
available fails after the deadline like a deployment would (:func:`predictor_previous`).

Conditions use the ``metav1.Condition`` shape; ``lastTransitionTime`` changes only when the
condition's status does, so an unchanged situation yields an identical status (no write).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from gateway.controller.diagnosis import Problem, diagnose
from gateway.controller.history import updated
from gateway.kube.client import Object
from gateway.kube.phdeployments import timestamp

DEPLOYING: Final = "Deployment is being deployed and not available now"
DEPLOYED: Final = "Deployment is deployed and available now"
SCALED_TO_ZERO: Final = ("Deployment is deployed with 0 replicas: no pod runs and requests are "
                         "answered 503 until replicas is raised")
WAKEABLE: Final = "scaled to zero; wakes on the next request"
STOPPING: Final = "deployment is stopping"
STOPPED: Final = "deployment has stopped"
DEADLINE_REASON: Final = "ProgressDeadlineExceeded"
CONFIGURATION_REASON: Final = "ConfigurationError"


@dataclass(frozen=True)
class Observation:
    """Everything the status depends on."""

    name: str
    generation: int
    spec: Mapping[str, Any]  # the stored spec, as is
    stopped: bool
    replicas: int  # the spec's replicas
    previous: Mapping[str, Any]  # the stored status
    problem: str | None  # a configuration problem, worded for the user
    child: Mapping[str, Any] | None  # the live Deployment
    child_current: bool  # the live Deployment is the one last applied, and its status is
    pods: Sequence[Mapping[str, Any]]
    now: datetime
    wakeable: bool = False  # the autoscaler may scale it to zero and a request wakes it
    autoscaled: bool = False  # replicas follow the load, so a scale-up is no new rollout


@dataclass(frozen=True)
class Computed:
    status: Object
    recheck_after: float | None  # seconds until the deadline passes, when it still may


CANARY_SHARE: Final = 10  # percent: a failing predictor with at most this share is named only


@dataclass(frozen=True)
class Outcome:
    """One predictor's computed status and its share of the requests."""

    name: str
    share: int
    computed: Computed

    @property
    def phase(self) -> str:
        return str(self.computed.status["phase"])

    @property
    def message(self) -> str:
        return str(self.computed.status["message"])


def combine(outcomes: Sequence[Outcome], *, routed_shares: int = 100) -> Computed:
    """The deployment's status from its predictors' (the primary's first, with the history
    and conditions). ``routed_shares``: what the spec's shares sum to (not 100: the proxy
    sends everything to the primary, and the message says so)."""
    primary = outcomes[0]
    status = dict(primary.computed.status)
    status["predictors"] = [{"name": item.name, "phase": item.phase, "message": item.message,
                             "replicas": item.computed.status["replicas"],
                             "availableReplicas": item.computed.status["availableReplicas"],
                             **({} if item is primary else
                                {"conditions": item.computed.status["conditions"]})}
                            for item in outcomes]
    rechecks = [item.computed.recheck_after for item in outcomes
                if item.computed.recheck_after is not None]
    recheck = min(rechecks) if rechecks else None
    if len(outcomes) == 1 and routed_shares == 100:
        return Computed(status=status, recheck_after=recheck)
    notes: list[str] = []
    if primary.phase in ("Stopping", "Stopped"):
        left = any(item.phase == "Stopping" for item in outcomes)
        status["phase"], status["message"] = ("Stopping", STOPPING) if left else \
            ("Stopped", STOPPED)
        return Computed(status=status, recheck_after=recheck)
    failing = [item for item in outcomes if item.phase == "Failed"]
    blocking = [item for item in failing if item.share > CANARY_SHARE]
    deploying = [item for item in outcomes if item.phase == "Deploying" and item.share > 0]
    if blocking:
        status["phase"], message = "Failed", _about(blocking[0], primary)
    elif deploying:
        status["phase"], message = "Deploying", _about(deploying[0], primary)
    else:
        status["phase"] = "Deployed"
        message = primary.message if primary.phase == "Deployed" else DEPLOYED
    for item in failing:
        if item not in blocking:
            where = ("reachable only by its own URL" if item.share == 0 else
                     "its requests go to the other predictors")
            notes.append(f"Predictor {item.name} ({item.share}% of requests) failed: "
                         f"{item.message} ({where}).")
    if routed_shares != 100:
        notes.append(f"The predictors' trafficPercent sum to {routed_shares}, not 100: every "
                     "request goes to the primary.")
    status["message"] = " ".join([message.rstrip(".") + ".", *notes]) if notes else message
    return Computed(status=status, recheck_after=recheck)


def predictor_previous(previous: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The stored status as a non-primary predictor's :class:`Observation` sees it: its own
    conditions from ``status.predictors`` in place of the deployment's."""
    entries = previous.get("predictors")
    own = next((entry for entry in (entries if isinstance(entries, list) else [])
                if isinstance(entry, dict) and entry.get("name") == name), {})
    return {**previous, "conditions": own.get("conditions") or []}


def _about(item: Outcome, primary: Outcome) -> str:
    if item is primary:
        return item.message
    return f"Predictor {item.name} ({item.share}% of requests): {item.message}"


def endpoint(base_url: str, name: str) -> str:
    return f"{base_url.rstrip('/')}/deployment/{name}/api/v1.0/predictions"


def compute(observed: Observation, *, base_url: str, deadline: float) -> Computed:
    """The status for ``observed`` and when to look again."""
    child_status = (observed.child or {}).get("status") or {}
    previous_conditions = observed.previous.get("conditions")
    recheck: float | None = None
    replicas = observed.replicas
    if observed.stopped:
        left = bool(observed.pods) or _child_replicas(observed.child) > 0
        phase, message = ("Stopping", STOPPING) if left else ("Stopped", STOPPED)
        conditions = [("Available", False, "Stopped", message),
                      ("Progressing", left, "Stopping" if left else "Stopped", message)]
        replicas = 0
    elif observed.problem is not None:
        phase, message = "Failed", observed.problem
        conditions = [("Available", False, CONFIGURATION_REASON, message),
                      ("Progressing", False, CONFIGURATION_REASON, message)]
    elif observed.child_current and _rolled_out(child_status, observed.replicas,
                                                autoscaled=observed.autoscaled):
        phase, message = "Deployed", (DEPLOYED if replicas else WAKEABLE if observed.wakeable
                                      else SCALED_TO_ZERO)
        reason = "Deployed" if replicas else "ScaledToZero"
        conditions = [("Available", replicas > 0, reason, message),
                      ("Progressing", False, reason, message)]
    else:
        problem = diagnose(deployment=observed.child, pods=observed.pods)
        since, exceeded = _clock(previous_conditions, observed.generation, observed.now)
        if not exceeded:
            remaining = (since + timedelta(seconds=deadline) - observed.now).total_seconds()
            exceeded = remaining <= 0
            recheck = None if exceeded else remaining
        phase, message, reason = _unavailable(problem, exceeded, deadline)
        conditions = [("Available", False, reason, message),
                      ("Progressing", not exceeded, DEADLINE_REASON if exceeded else reason,
                       message)]
    status: Object = {
        "phase": phase,
        "message": message,
        "replicas": replicas,
        "availableReplicas": int(child_status.get("availableReplicas") or 0),
        "endpoint": endpoint(base_url, observed.name),
        "observedGeneration": observed.generation,
        "conditions": [_condition(previous_conditions, kind, ok, reason, text,
                                  generation=observed.generation, now=observed.now)
                       for kind, ok, reason, text in conditions],
        "history": updated(observed.previous.get("history"), observed.spec, now=observed.now),
    }
    return Computed(status=status, recheck_after=recheck)


def _child_replicas(child: Mapping[str, Any] | None) -> int:
    """The most replicas the live Deployment still asks for or has."""
    if child is None:
        return 0
    wanted = (child.get("spec") or {}).get("replicas")
    existing = (child.get("status") or {}).get("replicas")
    return max(int(wanted or 0), int(existing or 0))


def _rolled_out(child_status: Mapping[str, Any], replicas: int, *,
                autoscaled: bool = False) -> bool:
    """Every replica runs the current template and is available, and no old pod is left.

    Autoscaled: every pod runs the current template and one is available (unless it is at
    zero), so adding or removing pods for the load keeps it Deployed.
    """
    if autoscaled:
        return (int(child_status.get("updatedReplicas") or 0)
                == int(child_status.get("replicas") or 0)
                and int(child_status.get("availableReplicas") or 0) >= min(replicas, 1))
    return (int(child_status.get("updatedReplicas") or 0) == replicas
            and int(child_status.get("availableReplicas") or 0) == replicas
            and int(child_status.get("replicas") or 0) == replicas)


def _unavailable(problem: Problem | None, exceeded: bool,
                 deadline: float) -> tuple[str, str, str]:
    """(phase, message, condition reason) of a deployment that is not available."""
    if problem is not None and problem.hard:
        return "Failed", problem.message, problem.reason
    if exceeded:
        text = f"Failed because the deployment is not available for over {_duration(deadline)}"
        if problem is not None:
            text += f". {problem.message}"
        return "Failed", text, DEADLINE_REASON
    if problem is not None:
        return "Deploying", problem.message, problem.reason
    return "Deploying", DEPLOYING, "Deploying"


def _duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{seconds:g} s"


def _find(conditions: Any, kind: str) -> Mapping[str, Any] | None:
    for condition in conditions if isinstance(conditions, list) else []:
        if isinstance(condition, dict) and condition.get("type") == kind:
            return condition
    return None


def _clock(conditions: Any, generation: int, now: datetime) -> tuple[datetime, bool]:
    """When the current attempt to become available started, and whether it already failed."""
    progressing = _find(conditions, "Progressing")
    if progressing is None or progressing.get("observedGeneration") != generation:
        return now, False
    if progressing.get("reason") == DEADLINE_REASON:
        return now, True
    if progressing.get("status") != "True":
        return now, False
    started = _parse_time(progressing.get("lastTransitionTime"))
    return (started, False) if started is not None else (now, False)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _condition(previous: Any, kind: str, ok: bool, reason: str, message: str, *,
               generation: int, now: datetime) -> Object:
    status = "True" if ok else "False"
    old = _find(previous, kind)
    keep = old is not None and old.get("status") == status and (
        kind != "Progressing" or not ok or old.get("observedGeneration") == generation)
    since = old.get("lastTransitionTime") if keep and old is not None else None
    return {"type": kind, "status": status, "observedGeneration": generation,
            "lastTransitionTime": since or timestamp(now), "reason": reason,
            "message": message}
