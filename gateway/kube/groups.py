"""Group (our own custom resource): per-group deployment settings, typed view and writes.

PrimeHub kept groups in Keycloak; we keep what model deployment needs in one custom resource
per group, ``metadata.name`` being the group's id *and* name (the id the SDK sends as
``groupId``): display name, member usernames, whether deployment is enabled, the most
deployments that may run at once, a per-pod quota, the instance types the group may use, and
what in the namespace its deployments may refer to (claims to mount, image pull Secrets,
storage Secrets: :mod:`gateway.kube.references`). An absent quota value or ``maxDeploy``
means "no limit"; an absent allow-list allows nothing.

The quota is checked the way PrimeHub checked a group's project quota: the limits of *one*
pod of the chosen instance type must fit it (:meth:`Quota.exceeded_by`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.kube import views
from gateway.kube.client import Kube, Object, Resource
from gateway.kube.instancetypes import InstanceTypeSpec
from gateway.kube.quantities import GIGA, memory_quantity, parse_quantity
from gateway.kube.views import MalformedObject
from gateway.kube.writing import modify, with_spec_keys

GROUPS: Final = Resource("modelgateway.io", "v1alpha1", "groups", "Group")
_SPEC_KEYS: Final = ("displayName", "members", "enabledDeployment", "maxDeploy", "quota",
                     "instanceTypes", "claims", "imagePullSecrets", "storageSecrets")


@dataclass(frozen=True)
class Quota:
    """The most one pod of the group may ask for: CPU in cores, memory in bytes, GPUs."""

    cpu: float | None = None
    memory: float | None = None
    gpu: int | None = None

    def exceeded_by(self, instance_type: InstanceTypeSpec) -> str | None:
        """Which resource (``cpu``, ``memory``, ``gpu``) an instance type's limits exceed."""
        if self.gpu is not None and instance_type.gpu_limit > self.gpu:
            return "gpu"
        if (self.cpu is not None and instance_type.cpu_limit is not None
                and instance_type.cpu_limit > self.cpu):
            return "cpu"
        if (self.memory is not None and instance_type.memory_limit is not None
                and instance_type.memory_limit > self.memory):
            return "memory"
        return None


@dataclass(frozen=True)
class GroupSpec:
    display_name: str | None = None
    members: tuple[str, ...] = ()
    enabled_deployment: bool = False
    max_deploy: int | None = None
    quota: Quota = Quota()
    instance_types: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()
    image_pull_secrets: tuple[str, ...] = ()
    storage_secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    name: str
    spec: GroupSpec
    resource_version: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The ``spec`` as stored (memory units as written, for showing them as PrimeHub does)."""

    @property
    def display_name(self) -> str:
        return self.spec.display_name or self.name


def parse(obj: Mapping[str, Any]) -> Group:
    """The view of a group object; raises :class:`MalformedObject` naming the field."""
    meta = views.metadata(obj)
    spec = obj.get("spec")
    raw = spec if isinstance(spec, dict) else {}
    return Group(name=meta["name"], spec=parse_spec(raw),
                 resource_version=str(meta.get("resourceVersion") or ""), raw=raw)


def parse_spec(spec: Mapping[str, Any]) -> GroupSpec:
    quota = views.mapping(spec, "quota", where="spec")
    return GroupSpec(
        display_name=views.field(spec, "displayName", str, None, where="spec"),
        members=views.strings(spec, "members", where="spec"),
        enabled_deployment=views.field(spec, "enabledDeployment", bool, False, where="spec"),
        max_deploy=views.field(spec, "maxDeploy", int, None, where="spec"),
        quota=Quota(cpu=_quantity(quota, "cpu"), memory=_quantity(quota, "memory"),
                    gpu=views.field(quota, "gpu", int, None, where="spec.quota")),
        instance_types=views.strings(spec, "instanceTypes", where="spec"),
        claims=views.strings(spec, "claims", where="spec"),
        image_pull_secrets=views.strings(spec, "imagePullSecrets", where="spec"),
        storage_secrets=views.strings(spec, "storageSecrets", where="spec"),
    )


def _quantity(quota: Mapping[str, Any], key: str) -> float | None:
    value = quota.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise MalformedObject(f"spec.quota.{key}: expected a quantity, got {value!r}")
    try:
        return parse_quantity(value)
    except ValueError as error:
        raise MalformedObject(f"spec.quota.{key}: {error}") from error


def spec_body(spec: GroupSpec) -> Object:
    quota: Object = {}
    if spec.quota.cpu is not None:
        quota["cpu"] = spec.quota.cpu
    if spec.quota.memory is not None:
        quota["memory"] = memory_quantity(spec.quota.memory / GIGA)
    if spec.quota.gpu is not None:
        quota["gpu"] = spec.quota.gpu
    body: Object = {"members": list(spec.members), "enabledDeployment": spec.enabled_deployment,
                    "quota": quota, "instanceTypes": list(spec.instance_types),
                    "claims": list(spec.claims), "imagePullSecrets": list(spec.image_pull_secrets),
                    "storageSecrets": list(spec.storage_secrets)}
    if spec.display_name is not None:
        body["displayName"] = spec.display_name
    if spec.max_deploy is not None:
        body["maxDeploy"] = spec.max_deploy
    return body


def manifest(*, namespace: str, name: str, spec: GroupSpec) -> Object:
    return {"apiVersion": GROUPS.api_version, "kind": GROUPS.kind,
            "metadata": {"name": name, "namespace": namespace}, "spec": spec_body(spec)}


async def create(kube: Kube, *, namespace: str, name: str, spec: GroupSpec) -> Group:
    """Create a group; AlreadyExists if the name is taken."""
    return parse(await kube.create(GROUPS, namespace=namespace,
                                   body=manifest(namespace=namespace, name=name, spec=spec)))


async def update(kube: Kube, *, namespace: str, name: str,
                 change: Callable[[Group], GroupSpec]) -> Group:
    """Replace the known spec keys by ``change(current)`` (others kept), retrying on
    conflicting writes; ``change`` sees the freshly read object each attempt."""

    def apply(obj: Object) -> Object:
        return with_spec_keys(obj, spec_body(change(parse(obj))), _SPEC_KEYS)

    return parse(await modify(kube, GROUPS, namespace=namespace, name=name, change=apply))


async def delete(kube: Kube, *, namespace: str, name: str) -> None:
    await kube.delete(GROUPS, namespace=namespace, name=name)
