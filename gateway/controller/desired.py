"""The children a PhDeployment should have: a pure function of its spec and its context.

:func:`children` turns (PhDeployment, one of its predictors, group, instance type, settings,
rollout bounds) into that predictor's Deployment and Service
(:func:`~gateway.kube.phdeployments.predictor_child_name`: ``deploy-<id>`` for PrimeHub's
``predictor1``), both owned by the resource, in the form the controller server-side-applies.
No I/O and no clock: the same inputs give the same objects, byte for byte, which is what
makes the controller idempotent. Decisions:

- Pods carry PrimeHub's three labels, which are also the Deployment's selector (a selector is
  immutable, and PrimeHub's children select exactly so); other predictors' pods are labelled
  so that no selector of one predictor takes in another's pods
  (:func:`~gateway.controller.labels.predictor_labels`).
- A predictor's own env is laid over the deployment's (the predictor's wins).
- The ``model`` container listens on ``settings.model_port`` (told through
  ``PREDICTIVE_UNIT_SERVICE_PORT``, the variable Seldon-wrapped model images read); the
  Service's port 8000 forwards to it.
- User env vars are sorted by name (the last of duplicates wins) and variables the controller
  sets win over the user's, so the pod template never changes merely because of order.
- Predictor metadata becomes pod annotations ``metadata.model-gateway.io/<key>``; a prefix
  keeps users out of annotations that mean something to Kubernetes. Keys that cannot be an
  annotation name are left out (the API refuses them; this guards objects written by others).
- A model URI becomes a ``storage-initializer`` init container (image by URI scheme, from
  settings) downloading into an emptyDir at ``/mnt/models``; the model then gets Seldon's
  ``PREDICTIVE_UNIT_PARAMETERS`` naming that directory. The initializer gets the model's
  resources, so the pod's effective request (the larger of init and main) stays the instance
  type's and quota arithmetic holds. A ``modelURISecret`` reaches the initializer (and only
  it) as ``envFrom``: the bucket's credentials never enter the model container.
  ``pvc://<claim>/<path>`` needs no download: the claim is mounted read-only at
  ``/mnt/models``; so does ``phfs://<path>``, PrimeHub's file system: the configured claim's
  ``groups/<group>/<path>``, the group named as PrimeHub names its directory (lowercase,
  ``_`` as ``-``).
- Claims and Secrets a deployment names must be assigned to its group
  (:mod:`gateway.kube.references`), checked here on every reconcile: taking one back stops
  the deployment with the reason.
- Slow model loads are tolerated by a startup probe allowing ``model_load_timeout``;
  liveness and readiness only start once it has passed.
- ``enableServiceLinks`` is off: with hundreds of deployments in a namespace, Kubernetes would
  otherwise inject several variables per Service into every pod.
- A hash of each child's content goes into an annotation, so the controller decides "nothing to
  write" by comparing hashes, immune to the server's defaulting and quantity formatting.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from gateway.controller.labels import predictor_labels
from gateway.controller.rollouts import GPU_RESOURCE, Rollout
from gateway.controller.settings import ControllerSettings
from gateway.kube import references
from gateway.kube.client import Object
from gateway.kube.groups import Group
from gateway.kube.instancetypes import InstanceType
from gateway.kube.phdeployments import (
    MODEL_CONTAINER,
    PHDEPLOYMENTS,
    EnvVar,
    PhDeployment,
    Predictor,
    predictor_child_name,
)

HASH_ANNOTATION: Final = "model-gateway.io/desired-hash"
METADATA_PREFIX: Final = "metadata.model-gateway.io/"
SERVICE_PORT: Final = 8000
PORT_NAME: Final = "http"
MODEL_MOUNT: Final = "/mnt/models"
MODEL_VOLUME: Final = "model-store"
INITIALIZER: Final = "storage-initializer"
PORT_VARIABLE: Final = "PREDICTIVE_UNIT_SERVICE_PORT"
PARAMETERS_VARIABLE: Final = "PREDICTIVE_UNIT_PARAMETERS"
_ANNOTATION_NAME: Final = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")


class Unbuildable(ValueError):
    """The spec cannot become children with these settings; the message is for the user."""


@dataclass(frozen=True)
class Children:
    deployment: Object
    service: Object


def children(deployment: PhDeployment, *, group: Group, instance_type: InstanceType,
             settings: ControllerSettings, rollout: Rollout, running: bool,
             predictor: Predictor | None = None) -> Children:
    """The Deployment and Service of ``predictor`` (the primary unless given) of
    ``deployment`` (``running`` False: scaled to zero)."""
    predictor = predictor or deployment.spec.predictor
    labels = predictor_labels(deployment_id=deployment.name,
                              group_name=deployment.spec.group_name or group.name,
                              predictor=predictor.name)
    name = predictor_child_name(deployment.name, predictor.name)
    metadata = _child_metadata(deployment, labels, name=name)
    source = check(predictor, group=group, settings=settings)
    resources = _resources(instance_type)
    env = _environment((*deployment.spec.env, *predictor.env), settings,
                       model_uri=predictor.model_uri)
    model: Object = {
        "name": MODEL_CONTAINER,
        "image": predictor.model_image,
        "ports": [{"name": PORT_NAME, "containerPort": settings.model_port,
                   "protocol": "TCP"}],
        "env": env,
        "resources": resources,
        **_probes(settings),
    }
    pod_spec: Object = {"containers": [model], "enableServiceLinks": False}
    if isinstance(source, Download):
        mount = [{"name": MODEL_VOLUME, "mountPath": MODEL_MOUNT}]
        model["volumeMounts"] = mount
        initializer: Object = {
            "name": INITIALIZER, "image": source.image,
            "args": [predictor.model_uri, MODEL_MOUNT],
            "resources": resources, "volumeMounts": mount,
        }
        if predictor.model_uri_secret:
            initializer["envFrom"] = [{"secretRef": {"name": predictor.model_uri_secret}}]
        pod_spec["initContainers"] = [initializer]
        pod_spec["volumes"] = [{"name": MODEL_VOLUME, "emptyDir": {}}]
    elif isinstance(source, Claim):
        model["volumeMounts"] = [{"name": MODEL_VOLUME, "mountPath": MODEL_MOUNT,
                                  "readOnly": True,
                                  **({"subPath": source.sub_path} if source.sub_path else {})}]
        pod_spec["volumes"] = [{"name": MODEL_VOLUME, "persistentVolumeClaim": {
            "claimName": source.claim, "readOnly": True}}]
    if predictor.image_pull_secret:
        pod_spec["imagePullSecrets"] = [{"name": predictor.image_pull_secret}]
    if instance_type.spec.node_selector:
        pod_spec["nodeSelector"] = dict(sorted(instance_type.spec.node_selector.items()))
    if instance_type.spec.tolerations:
        pod_spec["tolerations"] = [
            {key: value for key, value in vars(toleration).items() if value is not None}
            for toleration in instance_type.spec.tolerations]
    template_metadata: Object = {"labels": dict(labels)}
    annotations = _metadata_annotations(predictor.metadata)
    if annotations:
        template_metadata["annotations"] = annotations
    workload: Object = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
        "spec": {
            "replicas": predictor.replicas if running else 0,
            "selector": {"matchLabels": dict(labels)},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": rollout.max_surge,
                                           "maxUnavailable": rollout.max_unavailable}},
            "template": {"metadata": template_metadata, "spec": pod_spec},
        },
    }
    service: Object = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": _child_metadata(deployment, labels, name=name),
        "spec": {"type": "ClusterIP", "selector": dict(labels),
                 "ports": [{"name": PORT_NAME, "port": SERVICE_PORT,
                            "targetPort": settings.model_port, "protocol": "TCP"}]},
    }
    return Children(deployment=_hashed(workload), service=_hashed(service))


def content_hash(child: Object) -> str:
    """The hash of a child's content, leaving out the annotation itself and the rollout
    strategy: the strategy matters only when a rollout starts, so a change of the group's
    headroom alone never rewrites (and briefly un-deploys) every deployment of the group."""
    metadata = dict(child.get("metadata") or {})
    annotations = {key: value for key, value in (metadata.get("annotations") or {}).items()
                   if key != HASH_ANNOTATION}
    metadata["annotations"] = annotations
    spec = {key: value for key, value in (child.get("spec") or {}).items()
            if key != "strategy"}
    text = json.dumps({**child, "metadata": metadata, "spec": spec}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _hashed(child: Object) -> Object:
    child["metadata"].setdefault("annotations", {})[HASH_ANNOTATION] = content_hash(child)
    return child


def _child_metadata(deployment: PhDeployment, labels: dict[str, str], *, name: str) -> Object:
    return {
        "name": name, "namespace": deployment.namespace,
        "labels": dict(labels),
        "ownerReferences": [{"apiVersion": PHDEPLOYMENTS.api_version,
                             "kind": PHDEPLOYMENTS.kind, "name": deployment.name,
                             "uid": deployment.uid, "controller": True,
                             "blockOwnerDeletion": True}],
    }


@dataclass(frozen=True)
class Download:
    """The model is copied by a storage initializer (an init container) into an emptyDir."""

    image: str


@dataclass(frozen=True)
class Claim:
    """The model is on a PersistentVolumeClaim, mounted read-only (``pvc://<claim>/<path>``)."""

    claim: str
    sub_path: str


def check(predictor: Predictor, *, group: Group,
          settings: ControllerSettings) -> Download | Claim | None:
    """How the model reaches the pod, after checking that the group may use every claim and
    Secret the predictor names; raises :class:`Unbuildable` with the reason otherwise."""
    refused = references.first_refusal(predictor, group_name=group.name, group=group.spec,
                                       protected=settings.sources.protected)
    if refused is not None:
        reference, reason = refused
        raise Unbuildable(f"{reference.field}: {reason}")
    source = model_source(predictor.model_uri, settings, group_name=group.name)
    if predictor.model_uri_secret and not isinstance(source, Download):
        raise Unbuildable("modelURISecret: only a downloaded model URI takes a Secret")
    return source


def model_source(model_uri: str | None, settings: ControllerSettings, *,
                 group_name: str) -> Download | Claim | None:
    """How the model at ``model_uri`` reaches ``/mnt/models`` (``None``: no model URI).

    Raises :class:`Unbuildable` for a scheme nothing is configured to handle.
    """
    if not model_uri:
        return None
    parts = urlsplit(model_uri)
    scheme = parts.scheme.lower()
    sources = settings.sources
    image = sources.initializers.get(scheme)
    if image is not None:
        return Download(image)
    if scheme == "pvc" and parts.netloc:
        return Claim(parts.netloc, parts.path.strip("/"))
    if scheme == "phfs" and sources.phfs_claim:
        path = "/".join(part for part in (parts.netloc, parts.path.strip("/")) if part)
        directory = group_name.lower().replace("_", "-")
        return Claim(sources.phfs_claim, f"groups/{directory}/{path}".rstrip("/"))
    raise Unbuildable("Failed because cannot successfully copy the model from the model URI. "
                      f"The scheme {scheme or '(none)'!r} is not supported (supported: "
                      f"{', '.join(sources.schemes)}).")


def _environment(user: tuple[EnvVar, ...], settings: ControllerSettings, *,
                 model_uri: str | None) -> list[Object]:
    values = {env.name: env.value for env in user}
    values[PORT_VARIABLE] = str(settings.model_port)
    if model_uri:
        values[PARAMETERS_VARIABLE] = json.dumps(
            [{"name": "model_uri", "value": MODEL_MOUNT, "type": "STRING"}],
            separators=(",", ":"))
    return [{"name": name, "value": values[name]} for name in sorted(values)]


def _resources(instance_type: InstanceType) -> Object:
    spec = instance_type.spec
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    if spec.cpu_limit is not None:
        limits["cpu"] = _cpu(spec.cpu_limit)
    if spec.memory_limit is not None:
        limits["memory"] = _memory(spec.memory_limit)
    if spec.gpu_limit:
        limits[GPU_RESOURCE] = str(spec.gpu_limit)
    if spec.cpu_request is not None:
        requests["cpu"] = _cpu(spec.cpu_request)
    if spec.memory_request is not None:
        requests["memory"] = _memory(spec.memory_request)
    resources: Object = {}
    if limits:
        resources["limits"] = limits
    if requests:
        resources["requests"] = requests
    return resources


def _cpu(cores: float) -> str:
    millis = round(cores * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def _memory(amount: float) -> str:
    return str(math.ceil(amount))


def _probes(settings: ControllerSettings) -> Object:
    handler: Object = ({"httpGet": {"path": settings.probe_path, "port": PORT_NAME}}
                       if settings.probe_path else {"tcpSocket": {"port": PORT_NAME}})
    period = max(1, round(settings.probe_period))
    return {
        "startupProbe": {**handler, "periodSeconds": period,
                         "failureThreshold": max(1, math.ceil(settings.model_load_timeout /
                                                              period))},
        "readinessProbe": {**handler, "periodSeconds": period, "failureThreshold": 3},
        "livenessProbe": {**handler, "periodSeconds": period,
                          "failureThreshold": settings.liveness_failures},
    }


def _metadata_annotations(metadata: Mapping[str, str]) -> dict[str, str]:
    return {METADATA_PREFIX + key: value for key, value in sorted(metadata.items())
            if _ANNOTATION_NAME.fullmatch(key)}
