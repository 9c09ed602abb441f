"""Versions of a deployment as spec changes: pure functions from validated input to the spec.

Rules a user of a canary rollout expects, decided here once:

- A new predictor starts at 0%: it runs and is reachable by ``/deployment/<id>@<name>/``, and
  gets requests only once ``setPhDeploymentTraffic`` gives it a share. Its instance type is the
  primary's unless told, its replicas 1.
- Shares are integers, each 0 to 100, one for every predictor, summing to 100.
- The primary (the first predictor, what PrimeHub's flat fields describe) cannot be removed,
  and neither can a predictor that has a share: requests would be dropped. Move its share away
  first, or promote another predictor.
- Promoting makes a predictor the primary at 100% and the others 0% (:func:`promoted`); once
  the proxies no longer send them anything they are dropped (:func:`retired`).
- Every change records who made it and a message saying what it did, so the history shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final

from gateway.kube.phdeployments import (
    FULL_TRAFFIC,
    MAX_PREDICTORS,
    DeploymentSpec,
    Predictor,
)
from proxy.records import PREDICTOR_NAME
from schema.errors import BadUserInput

MAX_PREDICTOR_NAME: Final = 16


def name(value: str, *, field: str = "name") -> str:
    """A predictor name: a DNS label of at most 16 characters (it is part of a URL)."""
    if not PREDICTOR_NAME.fullmatch(value):
        raise BadUserInput(field, f"{value[:80]!r} must be 1 to {MAX_PREDICTOR_NAME} lowercase "
                           "letters, digits or inner '-'")
    return value


def find(spec: DeploymentSpec, wanted: str, *, field: str = "name") -> Predictor:
    for predictor in spec.predictors:
        if predictor.name == wanted:
            return predictor
    raise BadUserInput(field, f"the deployment has no predictor {wanted[:80]!r} (it has "
                       f"{', '.join(item.name for item in spec.predictors)})")


def _stamped(spec: DeploymentSpec, *, user: str, now: str, message: str) -> DeploymentSpec:
    return replace(spec, user_id=user, user_name=user, update_time=now, update_message=message)


def _explicit(spec: DeploymentSpec) -> DeploymentSpec:
    """``spec`` with every share written out (so adding a predictor keeps everyone's)."""
    weights = spec.weights()
    return _with_predictors(spec, [replace(item, traffic_percent=weights[item.name])
                                   for item in spec.predictors])


def _with_predictors(spec: DeploymentSpec, predictors: Sequence[Predictor]) -> DeploymentSpec:
    return replace(spec, predictor=predictors[0], others=tuple(predictors[1:]))


def added(current: DeploymentSpec, predictor: Predictor, *, user: str,
          now: str) -> DeploymentSpec:
    """``current`` with ``predictor`` last, at 0%."""
    if any(item.name == predictor.name for item in current.predictors):
        raise BadUserInput("name", f"the deployment already has a predictor {predictor.name!r}")
    if len(current.predictors) >= MAX_PREDICTORS:
        raise BadUserInput("name", f"a deployment has at most {MAX_PREDICTORS} predictors")
    spec = _explicit(current)
    spec = _with_predictors(spec, [*spec.predictors, replace(predictor, traffic_percent=0)])
    return _stamped(spec, user=user, now=now, message=f"Add the predictor {predictor.name}")


def changed(current: DeploymentSpec, wanted: str, fields: dict[str, Any], *, user: str,
            now: str) -> DeploymentSpec:
    """``current`` with the predictor ``wanted``'s ``fields`` replaced (its share kept)."""
    find(current, wanted)
    spec = _with_predictors(current, [replace(item, **fields) if item.name == wanted else item
                                      for item in current.predictors])
    return _stamped(spec, user=user, now=now, message=f"Update the predictor {wanted}")


def removed(current: DeploymentSpec, wanted: str, *, user: str, now: str) -> DeploymentSpec:
    """``current`` without the predictor ``wanted`` (not the primary, not one with a share)."""
    find(current, wanted)
    if wanted == current.predictor.name:
        raise BadUserInput("name", f"{wanted!r} is the primary predictor and cannot be removed; "
                           "promote another predictor first")
    share = current.weights()[wanted]
    if share:
        raise BadUserInput("name", f"the predictor {wanted!r} still has {share}% of the "
                           "requests; set its share to 0 first (setPhDeploymentTraffic)")
    spec = _with_predictors(current, [item for item in current.predictors
                                      if item.name != wanted])
    return _stamped(spec, user=user, now=now, message=f"Remove the predictor {wanted}")


def shares(split: Sequence[tuple[str, int]], spec: DeploymentSpec) -> dict[str, int]:
    """A validated split: every predictor of ``spec`` once, integers 0 to 100, sum 100."""
    found: dict[str, int] = {}
    for index, (wanted, percent) in enumerate(split):
        find(spec, wanted, field=f"split[{index}].name")
        if wanted in found:
            raise BadUserInput(f"split[{index}].name", f"{wanted!r} is given twice")
        if not 0 <= percent <= FULL_TRAFFIC:
            raise BadUserInput(f"split[{index}].trafficPercent",
                               f"must be between 0 and {FULL_TRAFFIC}, got {percent}")
        found[wanted] = percent
    missing = [item.name for item in spec.predictors if item.name not in found]
    if missing:
        raise BadUserInput("split", f"must give every predictor a share; missing: "
                           f"{', '.join(missing)}")
    total = sum(found.values())
    if total != FULL_TRAFFIC:
        raise BadUserInput("split", f"the shares sum to {total}, not {FULL_TRAFFIC}")
    return found


def with_traffic(current: DeploymentSpec, split: dict[str, int], *, sticky: bool | None,
                 user: str, now: str) -> DeploymentSpec:
    """``current`` with these shares (validated by :func:`shares`) and sticky setting."""
    spec = _with_predictors(current, [replace(item, traffic_percent=split[item.name])
                                      for item in current.predictors])
    spec = replace(spec, sticky=current.sticky if sticky is None else sticky)
    text = ", ".join(f"{item.name} {split[item.name]}%" for item in current.predictors)
    return _stamped(spec, user=user, now=now, message=f"Set the traffic: {text}")


def promoted(current: DeploymentSpec, wanted: str, *, user: str, now: str) -> DeploymentSpec:
    """``current`` with ``wanted`` first at 100% and every other predictor at 0% (they keep
    running until :func:`retired` drops them)."""
    chosen = find(current, wanted)
    rest = [replace(item, traffic_percent=0) for item in current.predictors
            if item.name != wanted]
    spec = _with_predictors(current, [replace(chosen, traffic_percent=FULL_TRAFFIC), *rest])
    return _stamped(spec, user=user, now=now, message=f"Promote the predictor {wanted}")


def retired(current: DeploymentSpec, wanted: str, *, user: str, now: str) -> DeploymentSpec | None:
    """After a promotion: ``current`` with only ``wanted``, if it is still the primary with
    all the requests (``None``: someone changed the split meanwhile, leave it alone)."""
    if current.predictor.name != wanted or current.weights()[wanted] != FULL_TRAFFIC:
        return None
    if not current.others:
        return None
    spec = replace(current, others=())
    return _stamped(spec, user=user, now=now,
                    message=f"Promote the predictor {wanted}: the others are removed")
