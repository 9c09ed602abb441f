"""The HorizontalPodAutoscaler child of a predictor with a CPU target (pure).

``targetCPUPercent`` is Kubernetes' own job: an ``autoscaling/v2`` HPA named like the
predictor's Deployment (``deploy-<id>`` for the primary), owned by the PhDeployment (so it
goes with it), aiming at that Deployment, within ``minReplicas`` and ``maxReplicas``. It
exists only while the deployment runs with a CPU target; the reconcile deletes it otherwise.
The controller then keeps the replicas the HPA sets
(:meth:`gateway.controller.scaling.Scaler.replicas`), never fighting it.
"""

from __future__ import annotations

from typing import Final

from gateway.controller.desired import HASH_ANNOTATION, Children, content_hash
from gateway.kube.client import HPAS, Object
from gateway.kube.phdeployments import PhDeployment, Predictor

CPU_METRIC: Final = "cpu"


def autoscaler(deployment: PhDeployment, predictor: Predictor,
               children: Children) -> Object | None:
    """The HPA ``predictor`` should have next to its ``children`` (None: none)."""
    found = predictor.autoscaling
    if found is None or found.target_cpu_percent is None or deployment.spec.stop:
        return None
    workload = children.deployment["metadata"]
    body: Object = {
        "apiVersion": HPAS.api_version, "kind": HPAS.kind,
        "metadata": {key: workload[key] for key in ("name", "namespace", "labels",
                                                     "ownerReferences")},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                               "name": workload["name"]},
            "minReplicas": max(1, found.min_replicas),
            "maxReplicas": found.max_replicas,
            "metrics": [{"type": "Resource", "resource": {
                "name": CPU_METRIC,
                "target": {"type": "Utilization",
                           "averageUtilization": found.target_cpu_percent}}}],
        },
    }
    body["metadata"]["annotations"] = {HASH_ANNOTATION: content_hash(body)}
    return body
