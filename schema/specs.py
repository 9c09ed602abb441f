"""From validated input to the spec that is stored: pure functions, PrimeHub's semantics.

- Create: ``stop: false``, access ``settings.default_access_type`` (``private`` unless the
  install restores PrimeHub's ``public``) unless told, one replica unless told, the id as
  the name unless told (the resource requires a ``displayName``), the caller recorded as
  ``userId``/``userName``.
- Update: only the fields sent change (``null`` clears an optional one); it (re)starts the
  deployment and records the caller. Switching to ``public`` drops the clients (their hashes
  go too), so no credential outlives the access type that needed it.
- Start/stop: ``stop`` and PrimeHub's messages ``Deployment Started``/``Deployment Stopped``.
- Rollback: the recorded spec comes back (model, predictors, replicas, env, name, ...) but
  the endpoint stays as it is now: its clients (rolling back would resurrect deleted clients
  without their hashes) and its access type (rolling back must never make a private model
  public). Like an update it (re)starts the deployment and records the caller; the update
  message says which version it went back to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from strawberry import UNSET

from gateway.api.settings import ApiSettings
from gateway.kube.groups import Group
from gateway.kube.phdeployments import DeploymentSpec, Endpoint, Predictor
from schema import autoscaling, validation
from schema.errors import BadUserInput
from schema.inputs import PhDeploymentCreateInput, PhDeploymentUpdateInput

STARTED = "Deployment Started"
STOPPED = "Deployment Stopped"


def created(data: PhDeploymentCreateInput, *, group: Group, user: str, now: str,
            settings: ApiSettings) -> DeploymentSpec:
    """The spec of a new deployment (``data`` validated here, field by field)."""
    return DeploymentSpec(
        predictor=Predictor(
            replicas=validation.replicas(1 if data.replicas is None else data.replicas,
                                         maximum=settings.max_replicas),
            model_image=validation.model_image(data.model_image),
            instance_type=validation.instance_type(data.instance_type),
            model_uri=validation.model_uri(data.model_uri, schemes=settings.accepted_schemes),
            image_pull_secret=validation.image_pull_secret(data.image_pull_secret),
            metadata=validation.metadata(data.metadata),
            model_uri_secret=validation.secret_name(data.model_uri_secret,
                                                    field="modelURISecret"),
            autoscaling=autoscaling.validated(data.autoscaling,
                                              max_replicas=settings.max_replicas)),
        display_name=validation.line(data.name, field="name")
        or data.id,
        user_id=user, user_name=user, group_id=group.name, group_name=group.name, stop=False,
        description=validation.text(data.description, field="description"),
        update_message=validation.text(data.update_message, field="updateMessage"),
        update_time=now, env=validation.env(data.env),
        endpoint=Endpoint(access_type=validation.access_type(
            data.endpoint_access_type or settings.default_access_type)))


@dataclass(frozen=True)
class Changes:
    """A validated update: replacements for spec and predictor fields."""

    spec: dict[str, Any] = field(default_factory=dict)
    predictor: dict[str, Any] = field(default_factory=dict)


class PredictorFields(Protocol):
    """The predictor fields an update input carries (``UNSET``: not sent)."""

    replicas: int | None
    model_image: str | None
    model_uri: str | None
    image_pull_secret: str | None
    model_uri_secret: str | None
    instance_type: str | None
    metadata: Any
    autoscaling: Any


def predictor_changes(data: PredictorFields, *, settings: ApiSettings) -> dict[str, Any]:
    """Validate the predictor fields an update sends; absent fields are not in the result."""
    predictor: dict[str, Any] = {}
    if data.replicas is not UNSET and data.replicas is not None:
        predictor["replicas"] = validation.replicas(data.replicas, maximum=settings.max_replicas)
    if data.model_image is not UNSET and data.model_image is not None:
        predictor["model_image"] = validation.model_image(data.model_image)
    if data.model_uri is not UNSET:
        predictor["model_uri"] = validation.model_uri(data.model_uri,
                                                      schemes=settings.accepted_schemes)
    if data.image_pull_secret is not UNSET:
        predictor["image_pull_secret"] = validation.image_pull_secret(data.image_pull_secret)
    if data.model_uri_secret is not UNSET:
        predictor["model_uri_secret"] = validation.secret_name(data.model_uri_secret,
                                                               field="modelURISecret")
    if data.autoscaling is not UNSET:
        predictor["autoscaling"] = autoscaling.validated(data.autoscaling,
                                                         max_replicas=settings.max_replicas)
    if data.instance_type is not UNSET and data.instance_type:
        predictor["instance_type"] = validation.instance_type(data.instance_type)
    if data.metadata is not UNSET:
        predictor["metadata"] = validation.metadata(data.metadata)
    return predictor


def changes(data: PhDeploymentUpdateInput, *, settings: ApiSettings) -> Changes:
    """Validate what an update sends; absent fields are not in the result."""
    spec: dict[str, Any] = {}
    predictor = predictor_changes(data, settings=settings)
    if data.env is not UNSET:
        spec["env"] = validation.env(data.env)
    if data.name is not UNSET and data.name:  # the resource requires a name: never cleared
        spec["display_name"] = validation.line(data.name, field="name")
    for key, value, name, limit in (
            ("description", data.description, "description", validation.MAX_TEXT),
            ("update_message", data.update_message, "updateMessage", validation.MAX_TEXT)):
        if value is not UNSET:
            spec[key] = validation.text(value, field=name, limit=limit)
    if data.endpoint_access_type is not UNSET and data.endpoint_access_type:
        spec["access_type"] = validation.access_type(data.endpoint_access_type)
    return Changes(spec=spec, predictor=predictor)


def updated(current: DeploymentSpec, change: Changes, *, user: str, now: str) -> DeploymentSpec:
    values = dict(change.spec)
    access = values.pop("access_type", current.endpoint.access_type)
    clients = current.endpoint.clients if access == "private" else ()
    return replace(current, predictor=replace(current.predictor, **change.predictor),
                   endpoint=Endpoint(access_type=access, clients=clients), stop=False,
                   user_id=user, user_name=user, update_time=now, **values)


def rolled_back(current: DeploymentSpec, target: DeploymentSpec, *, time: str, user: str,
                now: str, message: str | None) -> DeploymentSpec:
    """``target`` (a history entry's spec, recorded at ``time``) written back over ``current``."""
    note = f"rolled back to {time}" + (f": {message}" if message else "")
    return replace(target, endpoint=current.endpoint, group_id=current.group_id,
                   group_name=current.group_name, stop=False, user_id=user, user_name=user,
                   update_time=now, update_message=note)


def started(current: DeploymentSpec, *, user: str, now: str) -> DeploymentSpec:
    return replace(current, stop=False, update_message=STARTED, user_id=user, user_name=user,
                   update_time=now)


def stopped(current: DeploymentSpec, *, user: str, now: str) -> DeploymentSpec:
    return replace(current, stop=True, update_message=STOPPED, user_id=user, user_name=user,
                   update_time=now)


def with_client(current: DeploymentSpec, name: str) -> DeploymentSpec | None:
    """The spec listing client ``name`` (``None``: it already does)."""
    if name in current.endpoint.clients:
        return None
    return replace(current, update_message=f"Create the client {name}",
                   endpoint=replace(current.endpoint,
                                    clients=(*current.endpoint.clients, name)))


def without_client(current: DeploymentSpec, name: str) -> DeploymentSpec:
    if name not in current.endpoint.clients:
        raise BadUserInput("name", f'deployment has no client "{name}"')
    return replace(current, update_message=f"Delete the client {name}",
                   endpoint=replace(current.endpoint, clients=tuple(
                       client for client in current.endpoint.clients if client != name)))


def dropped_clients(before: Iterable[str], after: DeploymentSpec) -> list[str]:
    """The clients an update removed (their hashes must go too)."""
    return [name for name in before if name not in after.endpoint.clients]

