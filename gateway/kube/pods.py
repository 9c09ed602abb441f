"""Model pods as the API shows them: name, phase and the deployment they serve.

The API lists a deployment's pods from a watch cache of the pods labelled
``app=primehub-deployment`` (:data:`SELECTOR`), never by asking the API server per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from gateway.kube import views
from gateway.kube.phdeployments import APP_LABEL, APP_VALUE, DEPLOYMENT_LABEL

SELECTOR: Final = f"{APP_LABEL}={APP_VALUE}"


@dataclass(frozen=True)
class ModelPod:
    name: str
    deployment_id: str
    phase: str | None = None


def parse(obj: Mapping[str, Any]) -> ModelPod:
    """The view of a model pod; raises :class:`~gateway.kube.views.MalformedObject`."""
    meta = views.metadata(obj)
    labels = meta.get("labels") or {}
    deployment_id = labels.get(DEPLOYMENT_LABEL) if isinstance(labels, dict) else None
    if not isinstance(deployment_id, str):
        raise views.MalformedObject(f"metadata.labels.{DEPLOYMENT_LABEL}: missing")
    status = obj.get("status")
    phase = status.get("phase") if isinstance(status, dict) else None
    return ModelPod(name=meta["name"], deployment_id=deployment_id,
                    phase=phase if isinstance(phase, str) else None)
