"""PhDeployment (``phdeployments.primehub.io/v1alpha1``): typed view, builders and writes.

The custom resource keeps PrimeHub's field shapes (reference/primehub-contract.md), so objects
created by PrimeHub parse here and objects we write work with PrimeHub's tools. The view is
pure and stable: the API reads it from its watch cache, the controller computes children from
it. Decisions:

- Several predictors (versions of the model), primary first. PrimeHub always writes
  ``predictors: [{name: predictor1, ...}]`` and reads only that entry; the view exposes the
  first entry as :attr:`DeploymentSpec.predictor` (what PrimeHub's flat fields mean) and the
  others as :attr:`DeploymentSpec.others`, so code that knows one predictor keeps working.
- ``trafficPercent`` is written only when set. Unset on every predictor (every PrimeHub
  object) means the primary takes 100; :meth:`DeploymentSpec.weights` is the one reading of
  it. A predictor's own ``env`` adds to (and overrides) the deployment's ``env``.
- ``sticky`` (additive): one client always reaches the same predictor.
- Client *names* live in ``spec.endpoint.clients[].name``; PrimeHub also kept ``token`` hashes
  there, which the parser drops (hashes live only in the clients Secret, see
  :mod:`gateway.kube.clientsecrets`), so no hash ever reaches the API, history or logs.
- Spec writes replace exactly the keys this module knows and keep any others (additive
  extensions written by newer versions survive an update by this one).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from gateway.kube import autoscaling, views
from gateway.kube.autoscaling import Autoscaling
from gateway.kube.client import Kube, Object, Resource
from gateway.kube.views import MalformedObject
from gateway.kube.writing import modify

PHDEPLOYMENTS: Final = Resource("primehub.io", "v1alpha1", "phdeployments", "PhDeployment")

Phase = Literal["Deploying", "Deployed", "Stopping", "Stopped", "Failed"]
PHASES: Final[tuple[Phase, ...]] = ("Deploying", "Deployed", "Stopping", "Stopped", "Failed")
AccessType = Literal["public", "private"]
ACCESS_TYPES: Final[tuple[AccessType, ...]] = ("public", "private")
PREDICTOR_NAME: Final = "predictor1"
MAX_HISTORY: Final = 32

# Children and their pods (the contract's labels).
APP_LABEL: Final = "app"
APP_VALUE: Final = "primehub-deployment"
DEPLOYMENT_LABEL: Final = "primehub.io/phdeployment"
GROUP_LABEL: Final = "primehub.io/group"
MODEL_CONTAINER: Final = "model"
PREDICTOR_LABEL: Final = "model-gateway.io/predictor"

_SPEC_KEYS: Final = ("displayName", "userId", "userName", "groupId", "groupName", "stop",
                     "description", "updateMessage", "updateTime", "env", "predictors",
                     "endpoint", "sticky")
MAX_PREDICTORS: Final = 8
FULL_TRAFFIC: Final = 100


CHILD_PREFIX: Final = "deploy-"
# A Service name is a DNS label of at most 63 characters, so the id gets what the prefix leaves.
MAX_DEPLOYMENT_ID: Final = 63 - len(CHILD_PREFIX)


def child_name(deployment_id: str) -> str:
    """The name of the Deployment and Service made for a PhDeployment."""
    return f"{CHILD_PREFIX}{deployment_id}"


PREDICTOR_CHILD_PREFIX: Final = "p-"
_PREDICTOR_CHILD_HASH: Final = 16
_PREDICTOR_CHILD_READABLE: Final = 63 - len(PREDICTOR_CHILD_PREFIX) - 1 - _PREDICTOR_CHILD_HASH


def predictor_child_name(deployment_id: str, predictor: str) -> str:
    """The name of the Deployment and Service of one predictor, a DNS label of at most 63.

    PrimeHub's predictor (``predictor1``) keeps ``deploy-<id>``, so the objects of a
    deployment made before versions existed are the same objects and nothing restarts. Any
    other predictor gets ``p-<id>-<predictor>`` (cut to fit) and 16 base32 characters of a
    hash of the exact pair: ids hold ``-`` so the readable part alone could name two pairs,
    and 80 bits cannot be matched on purpose by a user choosing an id in another group. The
    ``p-`` prefix can never start a ``deploy-<id>`` name. The name follows the predictor's
    name, not its place: a promoted predictor keeps its objects.
    """
    if predictor == PREDICTOR_NAME:
        return child_name(deployment_id)
    digest = hashlib.sha256(f"{deployment_id}@{predictor}".encode()).digest()
    tail = base64.b32encode(digest).decode().lower()[:_PREDICTOR_CHILD_HASH]
    readable = f"{deployment_id}-{predictor}"[:_PREDICTOR_CHILD_READABLE].rstrip("-")
    return f"{PREDICTOR_CHILD_PREFIX}{readable}-{tail}"


def timestamp(moment: datetime | None = None) -> str:
    """An ``updateTime``/history time as PrimeHub writes it: UTC ISO 8601, milliseconds."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str


@dataclass(frozen=True)
class Predictor:
    """The model container's settings (PrimeHub's ``predictors[0]``)."""

    replicas: int
    model_image: str
    instance_type: str
    model_uri: str | None = None
    image_pull_secret: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    name: str = PREDICTOR_NAME
    model_uri_secret: str | None = None
    """Additive: a Secret whose keys the storage initializer receives as environment."""
    traffic_percent: int | None = None
    """Additive: this predictor's share of the requests (see :meth:`DeploymentSpec.weights`)."""
    env: tuple[EnvVar, ...] = ()
    """Additive: variables of this predictor only, over the deployment's ``env``."""
    autoscaling: Autoscaling | None = None
    """Additive: scale on load between bounds (:mod:`gateway.kube.autoscaling`); None: fixed."""


@dataclass(frozen=True)
class Endpoint:
    access_type: AccessType = "public"
    clients: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeploymentSpec:
    """What the user asked for; everything a history entry records."""

    predictor: Predictor
    display_name: str | None = None
    user_id: str | None = None
    user_name: str | None = None
    group_id: str | None = None
    group_name: str | None = None
    stop: bool = False
    description: str | None = None
    update_message: str | None = None
    update_time: str | None = None
    env: tuple[EnvVar, ...] = ()
    endpoint: Endpoint = Endpoint()
    others: tuple[Predictor, ...] = ()
    """The predictors after the primary, in order (additive)."""
    sticky: bool = False
    """Additive: route each client to the same predictor every time."""

    @property
    def predictors(self) -> tuple[Predictor, ...]:
        """Every predictor, primary first."""
        return (self.predictor, *self.others)

    def weights(self) -> dict[str, int]:
        """Each predictor's share of the requests, by name, in order.

        A predictor without ``trafficPercent`` has 0, except the primary, which then has what
        the others leave (so a PrimeHub object, which sets none, is 100 on its only predictor).
        Whether the shares sum to 100 is for the writer to check (the API refuses otherwise;
        the controller reports a hand-written object that does not).
        """
        shares = {item.name: item.traffic_percent or 0 for item in self.others}
        primary = self.predictor.traffic_percent
        if primary is None:
            primary = max(0, FULL_TRAFFIC - sum(shares.values()))
        return {self.predictor.name: primary, **shares}


@dataclass(frozen=True)
class HistoryEntry:
    time: str
    spec: DeploymentSpec


@dataclass(frozen=True)
class PredictorStatus:
    """What the controller observed of one predictor."""

    name: str
    replicas: int | None = None
    available_replicas: int | None = None
    phase: Phase | None = None
    message: str | None = None


@dataclass(frozen=True)
class DeploymentStatus:
    """What the controller observed (all optional until it first reconciles)."""

    phase: Phase | None = None
    message: str | None = None
    replicas: int | None = None
    available_replicas: int | None = None
    endpoint: str | None = None
    history: tuple[HistoryEntry, ...] = ()
    observed_generation: int | None = None
    reason: str | None = None  # the ``Available`` condition's reason: why it is (not) available
    predictors: tuple[PredictorStatus, ...] = ()

    def of(self, predictor: str) -> PredictorStatus | None:
        """The observed status of the predictor named ``predictor``, if any."""
        return next((item for item in self.predictors if item.name == predictor), None)


@dataclass(frozen=True)
class PhDeployment:
    """One stored PhDeployment: identity, spec and status."""

    name: str
    namespace: str
    spec: DeploymentSpec
    status: DeploymentStatus = DeploymentStatus()
    uid: str = ""
    resource_version: str = ""
    creation_timestamp: str | None = None
    generation: int = 1

    @property
    def effective_status(self) -> str:
        observed = self.status.observed_generation
        current = observed is not None and observed >= self.generation
        return effective_status(stop=self.spec.stop,
                                phase=self.status.phase if current else None)


def effective_status(*, stop: bool, phase: str | None) -> str:
    """The contract's derived ``status``: what the user should see while the controller acts.

    Not stopped and not yet Deployed/Failed: ``Deploying``; stopped and not yet Stopped:
    ``Stopping``; otherwise the phase (``Stopped`` when there is none). A phase the controller
    reported for an older spec (``status.observedGeneration`` behind ``metadata.generation``)
    counts as none: right after an update the deployment is Deploying, not still Deployed, so
    ``wait`` in the SDK waits for the new version.
    """
    if not stop and phase not in ("Deployed", "Failed"):
        return "Deploying"
    if stop and phase != "Stopped":
        return "Stopping"
    return phase or "Stopped"


# -- parsing ---------------------------------------------------------------------------------


def parse(obj: Mapping[str, Any]) -> PhDeployment:
    """The view of a PhDeployment object; raises :class:`MalformedObject` naming the field."""
    meta = views.metadata(obj)
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        raise MalformedObject("spec: missing")
    status = obj.get("status")
    return PhDeployment(
        name=meta["name"], namespace=str(meta.get("namespace") or ""),
        spec=parse_spec(spec, where="spec"),
        status=parse_status(status if isinstance(status, dict) else {}),
        uid=str(meta.get("uid") or ""), resource_version=str(meta.get("resourceVersion") or ""),
        creation_timestamp=meta.get("creationTimestamp"),
        generation=int(meta.get("generation") or 1))


def parse_spec(spec: Mapping[str, Any], *, where: str = "spec") -> DeploymentSpec:
    predictors = views.items(spec, "predictors", where=where)
    if not predictors:
        raise MalformedObject(f"{where}.predictors: expected at least one predictor")
    endpoint = views.mapping(spec, "endpoint", where=where)
    access = views.field(endpoint, "accessType", str, "public", where=f"{where}.endpoint")
    if access not in ACCESS_TYPES:
        raise MalformedObject(f"{where}.endpoint.accessType: {access!r}")
    clients = views.items(endpoint, "clients", where=f"{where}.endpoint")
    return DeploymentSpec(
        predictor=_parse_predictor(predictors[0], where=f"{where}.predictors[0]"),
        display_name=views.field(spec, "displayName", str, None, where=where),
        user_id=views.field(spec, "userId", str, None, where=where),
        user_name=views.field(spec, "userName", str, None, where=where),
        group_id=views.field(spec, "groupId", str, None, where=where),
        group_name=views.field(spec, "groupName", str, None, where=where),
        stop=views.field(spec, "stop", bool, False, where=where),
        description=views.field(spec, "description", str, None, where=where),
        update_message=views.field(spec, "updateMessage", str, None, where=where),
        update_time=views.field(spec, "updateTime", str, None, where=where),
        env=_env(spec, where=where),
        endpoint=Endpoint(access_type=access,
                          clients=tuple(str(client.get("name") or "") for client in clients)),
        others=tuple(_parse_predictor(item, where=f"{where}.predictors[{index}]")
                     for index, item in enumerate(predictors[1:], start=1)),
        sticky=views.field(spec, "sticky", bool, False, where=where),
    )


def _env(source: Mapping[str, Any], *, where: str) -> tuple[EnvVar, ...]:
    return tuple(EnvVar(str(item.get("name") or ""), _text(item.get("value")))
                 for item in views.items(source, "env", where=where))


def _parse_predictor(predictor: Mapping[str, Any], *, where: str) -> Predictor:
    return Predictor(
        name=views.field(predictor, "name", str, PREDICTOR_NAME, where=where),
        replicas=views.field(predictor, "replicas", int, 1, where=where),
        model_image=views.field(predictor, "modelImage", str, "", where=where),
        instance_type=views.field(predictor, "instanceType", str, "", where=where),
        model_uri=views.field(predictor, "modelURI", str, None, where=where),
        image_pull_secret=views.field(predictor, "imagePullSecret", str, None, where=where),
        metadata=views.string_map(predictor, "metadata", where=where),
        model_uri_secret=views.field(predictor, "modelURISecret", str, None, where=where),
        traffic_percent=views.field(predictor, "trafficPercent", int, None, where=where),
        env=_env(predictor, where=where),
        autoscaling=autoscaling.parse(predictor, where=where),
    )


def parse_status(status: Mapping[str, Any]) -> DeploymentStatus:
    phase = views.field(status, "phase", str, None, where="status")
    history = []
    for index, item in enumerate(views.items(status, "history", where="status")):
        spec = item.get("spec")
        if not isinstance(spec, dict):
            raise MalformedObject(f"status.history[{index}].spec: missing")
        history.append(HistoryEntry(
            time=views.field(item, "time", str, "", where=f"status.history[{index}]"),
            spec=parse_spec(spec, where=f"status.history[{index}].spec")))
    return DeploymentStatus(
        phase=phase if phase in PHASES else None,
        message=views.field(status, "message", str, None, where="status"),
        replicas=views.field(status, "replicas", int, None, where="status"),
        available_replicas=views.field(status, "availableReplicas", int, None, where="status"),
        endpoint=views.field(status, "endpoint", str, None, where="status"),
        history=tuple(history),
        observed_generation=views.field(status, "observedGeneration", int, None,
                                        where="status"),
        reason=_available_reason(status),
        predictors=tuple(_parse_predictor_status(item, where=f"status.predictors[{index}]")
                         for index, item in enumerate(views.items(status, "predictors",
                                                                  where="status"))),
    )


def _parse_predictor_status(item: Mapping[str, Any], *, where: str) -> PredictorStatus:
    phase = views.field(item, "phase", str, None, where=where)
    return PredictorStatus(
        name=views.field(item, "name", str, "", where=where),
        replicas=views.field(item, "replicas", int, None, where=where),
        available_replicas=views.field(item, "availableReplicas", int, None, where=where),
        phase=phase if phase in PHASES else None,
        message=views.field(item, "message", str, None, where=where))


def _available_reason(status: Mapping[str, Any]) -> str | None:
    for condition in views.items(status, "conditions", where="status"):
        if condition.get("type") == "Available":
            reason = condition.get("reason")
            return reason if isinstance(reason, str) and reason else None
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


# -- building --------------------------------------------------------------------------------


def predictor_body(predictor: Predictor) -> Object:
    """One ``predictors[]`` entry (absent optional fields, an empty own ``env``, left out)."""
    body: Object = {
        "name": predictor.name, "replicas": predictor.replicas,
        "modelImage": predictor.model_image,
        "instanceType": predictor.instance_type,
        "metadata": dict(predictor.metadata),
    }
    _put(body, "modelURI", predictor.model_uri)
    _put(body, "imagePullSecret", predictor.image_pull_secret)
    _put(body, "modelURISecret", predictor.model_uri_secret)
    _put(body, "trafficPercent", predictor.traffic_percent)
    if predictor.env:
        body["env"] = _env_body(predictor.env)
    if predictor.autoscaling is not None:
        body["autoscaling"] = autoscaling.body(predictor.autoscaling)
    return body


def _env_body(env: tuple[EnvVar, ...]) -> list[Object]:
    return [{"name": item.name, "value": item.value} for item in env]


def spec_body(spec: DeploymentSpec) -> Object:
    """The ``spec`` JSON for ``spec`` (absent optional fields are left out)."""
    body: Object = {
        "stop": spec.stop,
        "env": _env_body(spec.env),
        "predictors": [predictor_body(item) for item in spec.predictors],
        "endpoint": {"accessType": spec.endpoint.access_type,
                     "clients": [{"name": name} for name in spec.endpoint.clients]},
    }
    for key, value in (("displayName", spec.display_name), ("userId", spec.user_id),
                       ("userName", spec.user_name), ("groupId", spec.group_id),
                       ("groupName", spec.group_name), ("description", spec.description),
                       ("updateMessage", spec.update_message), ("updateTime", spec.update_time)):
        _put(body, key, value)
    if spec.sticky:
        body["sticky"] = True
    return body


def status_body(status: DeploymentStatus) -> Object:
    """The ``status`` JSON for ``status``."""
    body: Object = {"history": [{"time": entry.time, "spec": spec_body(entry.spec)}
                                for entry in status.history[:MAX_HISTORY]]}
    for key, value in (("phase", status.phase), ("message", status.message),
                       ("replicas", status.replicas),
                       ("availableReplicas", status.available_replicas),
                       ("endpoint", status.endpoint)):
        _put(body, key, value)
    if status.predictors:
        body["predictors"] = [predictor_status_body(item) for item in status.predictors]
    return body


def predictor_status_body(status: PredictorStatus) -> Object:
    body: Object = {"name": status.name}
    for key, value in (("replicas", status.replicas),
                       ("availableReplicas", status.available_replicas),
                       ("phase", status.phase), ("message", status.message)):
        _put(body, key, value)
    return body


def manifest(*, namespace: str, name: str, spec: DeploymentSpec) -> Object:
    """A new PhDeployment object (no status: the controller writes it)."""
    return {"apiVersion": PHDEPLOYMENTS.api_version, "kind": PHDEPLOYMENTS.kind,
            "metadata": {"name": name, "namespace": namespace}, "spec": spec_body(spec)}


def with_spec(obj: Object, spec: DeploymentSpec) -> Object:
    """``obj`` with the keys this module knows replaced by ``spec``'s, others kept."""
    current = obj.get("spec")
    merged = {key: value for key, value in (current if isinstance(current, dict) else {}).items()
              if key not in _SPEC_KEYS}
    merged.update(spec_body(spec))
    return {**obj, "spec": merged}


def _put(body: Object, key: str, value: object) -> None:
    if value is not None:
        body[key] = value


# -- writing ---------------------------------------------------------------------------------


async def create(kube: Kube, *, namespace: str, name: str, spec: DeploymentSpec) -> PhDeployment:
    """Create the resource; :class:`~gateway.kube.errors.AlreadyExists` if the id is taken."""
    created = await kube.create(PHDEPLOYMENTS, namespace=namespace,
                                body=manifest(namespace=namespace, name=name, spec=spec))
    return parse(created)


async def change_spec(kube: Kube, *, namespace: str, name: str,
                      change: Callable[[PhDeployment], DeploymentSpec | None]) -> PhDeployment:
    """Replace the spec with ``change(current)``, retrying on conflicting writes.

    ``change`` sees the freshly read object each attempt; it returns the new spec, ``None``
    to leave the object alone, or raises to abort.
    """

    def apply(obj: Object) -> Object | None:
        wanted = change(parse(obj))
        return None if wanted is None else with_spec(obj, wanted)

    return parse(await modify(kube, PHDEPLOYMENTS, namespace=namespace, name=name,
                              change=apply))


async def delete(kube: Kube, *, namespace: str, name: str) -> None:
    """Delete the resource; its children and clients Secret go with it (owner references)."""
    await kube.delete(PHDEPLOYMENTS, namespace=namespace, name=name, propagation="Background")

