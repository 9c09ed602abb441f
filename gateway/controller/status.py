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
  and the proxy answers 503 until replicas is raised, and ``Available`` is ``False``;
- otherwise ``Deploying``, unless :mod:`~gateway.controller.diagnosis` finds a hard failure
  (``Failed`` at once) or the deployment has not become available within the deadline
  (``Failed``, with any softer explanation such as an unschedulable pod). It recovers to
  ``Deployed`` by itself as soon as the replicas are available.

The deadline clock lives in the ``Progressing`` condition, like a Kubernetes Deployment's: its
``lastTransitionTime`` is when the current attempt started (a new generation, a start, or the
loss of availability), and reason ``ProgressDeadlineExceeded`` remembers that the deadline
passed for this generation. Status is only ever derived from stored state, so a restarted
controller computes exactly what it would have computed before.

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


@dataclass(frozen=True)
class Computed:
    status: Object
    recheck_after: float | None  # seconds until the deadline passes, when it still may


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
    elif observed.child_current and _rolled_out(child_status, observed.replicas):
        phase, message = "Deployed", DEPLOYED if replicas else SCALED_TO_ZERO
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


def _rolled_out(child_status: Mapping[str, Any], replicas: int) -> bool:
    """Every replica runs the current template and is available, and no old pod is left."""
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
