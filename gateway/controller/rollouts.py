"""How a deployment rolls out without its group ever going over quota (pure).

The API checks each pod against the group's quota when a deployment is created or updated;
what it cannot see is the moment of a rolling update, when old and new pods run side by side.
Here the group's quota is the budget for all of its running deployment pods together, and a
rollout may add surge pods only within what the group leaves free:

- everyone else's pods count at their live Deployments' size (what really runs or is being
  started: replicas x the pod template's limits);
- this deployment counts at ``replicas`` x the larger of its old and new pod size, per
  resource (an instance-type change may grow or shrink pods);
- the surge is the usual 25 % of replicas (at least one), cut to the number of new pods that
  still fit; ``maxUnavailable`` is 0 (no capacity lost while updating) unless no surge pod
  fits, in which case pods are replaced one at a time (surge 0, unavailable 1), which never
  needs more than the steady state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from gateway.kube.groups import Quota
from gateway.kube.instancetypes import InstanceTypeSpec
from gateway.kube.quantities import parse_quantity

SURGE_FRACTION: Final = 0.25
GPU_RESOURCE: Final = "nvidia.com/gpu"


@dataclass(frozen=True)
class PodSize:
    """What one pod may use: CPU in cores, memory in bytes, whole GPUs."""

    cpu: float = 0.0
    memory: float = 0.0
    gpu: int = 0

    def larger(self, other: PodSize) -> PodSize:
        return PodSize(max(self.cpu, other.cpu), max(self.memory, other.memory),
                       max(self.gpu, other.gpu))

    def times(self, count: int) -> PodSize:
        return PodSize(self.cpu * count, self.memory * count, self.gpu * count)

    def plus(self, other: PodSize) -> PodSize:
        return PodSize(self.cpu + other.cpu, self.memory + other.memory, self.gpu + other.gpu)


@dataclass(frozen=True)
class Rollout:
    max_surge: int
    max_unavailable: int


def size_of_instance_type(spec: InstanceTypeSpec) -> PodSize:
    """A pod of this instance type: its limits (requests where no limit is set)."""
    cpu = spec.cpu_limit if spec.cpu_limit is not None else spec.cpu_request
    memory = spec.memory_limit if spec.memory_limit is not None else spec.memory_request
    return PodSize(cpu or 0.0, memory or 0.0, spec.gpu_limit)


def size_of_template(deployment: Mapping[str, Any]) -> PodSize:
    """A pod of a live Deployment: its containers' limits (requests where none), summed."""
    containers = (((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
                  ).get("containers") or []
    total = PodSize()
    for container in containers:
        resources = container.get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        total = total.plus(PodSize(
            cpu=_amount(limits.get("cpu", requests.get("cpu"))),
            memory=_amount(limits.get("memory", requests.get("memory"))),
            gpu=int(_amount(limits.get(GPU_RESOURCE, requests.get(GPU_RESOURCE))))))
    return total


def _amount(value: Any) -> float:
    if value is None:
        return 0.0
    try:
        return parse_quantity(value)
    except ValueError:
        return 0.0  # not ours to judge: the API server accepted it


def replicas_of(deployment: Mapping[str, Any]) -> int:
    replicas = (deployment.get("spec") or {}).get("replicas")
    return replicas if isinstance(replicas, int) else 1


def plan(*, quota: Quota, replicas: int, new_size: PodSize, old_size: PodSize | None,
         others: Iterable[tuple[int, PodSize]]) -> Rollout:
    """The rolling-update bounds for ``replicas`` pods of ``new_size`` in a group with ``quota``.

    ``old_size`` is the size of this deployment's current pods (``None``: none yet);
    ``others`` the (replicas, size) of the group's other live Deployments.
    """
    usual = max(1, math.ceil(replicas * SURGE_FRACTION))
    used = new_size.larger(old_size or new_size).times(replicas)
    for count, size in others:
        used = used.plus(size.times(count))
    fits = usual
    for limit, in_use, per_pod in ((quota.cpu, used.cpu, new_size.cpu),
                                   (quota.memory, used.memory, new_size.memory),
                                   (quota.gpu, used.gpu, new_size.gpu)):
        if limit is None or per_pod <= 0:
            continue
        fits = min(fits, max(0, math.floor((limit - in_use) / per_pod + 1e-9)))
    if fits > 0:
        return Rollout(max_surge=fits, max_unavailable=0)
    return Rollout(max_surge=0, max_unavailable=1)
