"""Simulated scheduling of extended resources: a pod asking for GPUs needs a node that has them.

The local cluster has one node. Without a GPU count it places every pod (tests and
``model-gateway localcluster`` ignore GPUs). With one, the node advertises that many
``nvidia.com/gpu`` and no other extended resource, and a pod whose extended-resource
requests exceed what the node has left stays ``Pending`` with ``PodScheduled=False``, reason
``Unschedulable`` and the scheduler's own sentence; it is placed once enough is freed.
CPU and memory are not simulated: the one node always has room for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

GPU: Final = "nvidia.com/gpu"
_STANDARD_PREFIX: Final = "kubernetes.io/"  # names with a domain are extended, except these
_PREEMPTION: Final = ("preemption: 0/1 nodes are available: "
                      "1 No preemption victims found for incoming pod.")


def _is_extended(name: str) -> bool:
    return "/" in name and not name.startswith(_STANDARD_PREFIX)


def _count(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _container_requests(container: Mapping[str, Any]) -> dict[str, int]:
    """Extended resources one container asks for (requests default to limits)."""
    resources = container.get("resources") or {}
    found = {name: _count(value) for name, value in (resources.get("limits") or {}).items()
             if _is_extended(name)}
    found.update({name: _count(value) for name, value in
                  (resources.get("requests") or {}).items() if _is_extended(name)})
    return found


def requests(pod: Mapping[str, Any]) -> dict[str, int]:
    """The pod's extended-resource requests: the sum over its containers, or the largest
    init container's, whichever is more (init containers run one at a time, first)."""
    spec = pod.get("spec") or {}
    total: dict[str, int] = {}
    for container in spec.get("containers") or []:
        for name, count in _container_requests(container).items():
            total[name] = total.get(name, 0) + count
    for container in spec.get("initContainers") or []:
        for name, count in _container_requests(container).items():
            total[name] = max(total.get(name, 0), count)
    return {name: count for name, count in total.items() if count > 0}


def unschedulable(pod: Mapping[str, Any], *, gpus: int,
                  placed: Iterable[Mapping[str, Any]]) -> str | None:
    """The scheduler's message when ``pod`` does not fit the node beside ``placed`` pods."""
    capacity = {GPU: gpus}
    used: dict[str, int] = {}
    for other in placed:
        for name, count in requests(other).items():
            used[name] = used.get(name, 0) + count
    short = sorted(name for name, count in requests(pod).items()
                   if count > capacity.get(name, 0) - used.get(name, 0))
    if not short:
        return None
    reasons = ", ".join(f"1 Insufficient {name}" for name in short)
    return f"0/1 nodes are available: {reasons}. {_PREEMPTION}"
