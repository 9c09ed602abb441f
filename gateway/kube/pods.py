"""Model pods as the API shows them: name, phase, the deployment they serve, their limits.

The API lists a deployment's pods from a watch cache of the pods labelled
``app=primehub-deployment`` (:data:`SELECTOR`), never by asking the API server per request.
The limits (summed over the pod's containers, as PrimeHub's group resource status sums them)
let a group's usage be answered from the same cache. A limit that is not a quantity counts
as zero rather than making the pod unreadable: the pod was written by Kubernetes, and its
name and phase still matter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from gateway.kube import views
from gateway.kube.phdeployments import APP_LABEL, APP_VALUE, DEPLOYMENT_LABEL
from gateway.kube.quantities import parse_quantity

SELECTOR: Final = f"{APP_LABEL}={APP_VALUE}"
GPU_RESOURCES: Final = ("nvidia.com/gpu", "amd.com/gpu")
GPU_PREFIXES: Final = ("gpu.intel.com/",)


@dataclass(frozen=True)
class ModelPod:
    name: str
    deployment_id: str
    phase: str | None = None
    cpu_limit: float = 0.0
    memory_limit: float = 0.0  # bytes
    gpu_limit: float = 0.0


def parse(obj: Mapping[str, Any]) -> ModelPod:
    """The view of a model pod; raises :class:`~gateway.kube.views.MalformedObject`."""
    meta = views.metadata(obj)
    labels = meta.get("labels") or {}
    deployment_id = labels.get(DEPLOYMENT_LABEL) if isinstance(labels, dict) else None
    if not isinstance(deployment_id, str):
        raise views.MalformedObject(f"metadata.labels.{DEPLOYMENT_LABEL}: missing")
    status = obj.get("status")
    phase = status.get("phase") if isinstance(status, dict) else None
    cpu = memory = gpu = 0.0
    spec = obj.get("spec")
    containers = spec.get("containers") if isinstance(spec, dict) else None
    for container in containers if isinstance(containers, list) else ():
        resources = container.get("resources") if isinstance(container, dict) else None
        limits = resources.get("limits") if isinstance(resources, dict) else None
        if not isinstance(limits, dict):
            continue
        cpu += _amount(limits.get("cpu"))
        memory += _amount(limits.get("memory"))
        gpu += sum(_amount(value) for key, value in limits.items()
                   if key in GPU_RESOURCES or key.startswith(GPU_PREFIXES))
    return ModelPod(name=meta["name"], deployment_id=deployment_id,
                    phase=phase if isinstance(phase, str) else None, cpu_limit=cpu,
                    memory_limit=memory, gpu_limit=gpu)


def _amount(value: Any) -> float:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return 0.0
    try:
        return parse_quantity(value)
    except ValueError:
        return 0.0
