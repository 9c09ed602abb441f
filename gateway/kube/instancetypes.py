"""InstanceType (``instancetypes.primehub.io/v1alpha1``): typed view, builder and writes.

PrimeHub's shape, kept as is: the resource limits are *dotted keys* of ``spec``
(``limits.cpu``, ``limits.memory``, ``limits.nvidia.com/gpu``, ``requests.cpu``,
``requests.memory``), CPU usually a JSON number, memory a quantity string such as ``"2G"``.
The view holds CPU in cores and memory in bytes, parsed once, so quota checks and the
controller's pod resources compare plain numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.kube import views
from gateway.kube.client import Kube, Object, Resource
from gateway.kube.quantities import GIGA, memory_quantity, parse_quantity
from gateway.kube.views import MalformedObject
from gateway.kube.writing import modify, with_spec_keys

INSTANCETYPES: Final = Resource("primehub.io", "v1alpha1", "instancetypes", "InstanceType")

CPU_LIMIT: Final = "limits.cpu"
MEMORY_LIMIT: Final = "limits.memory"
GPU_LIMIT: Final = "limits.nvidia.com/gpu"
CPU_REQUEST: Final = "requests.cpu"
MEMORY_REQUEST: Final = "requests.memory"
_SPEC_KEYS: Final = ("displayName", "description", CPU_LIMIT, MEMORY_LIMIT, GPU_LIMIT,
                     CPU_REQUEST, MEMORY_REQUEST, "nodeSelector", "tolerations")


@dataclass(frozen=True)
class Toleration:
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None


@dataclass(frozen=True)
class InstanceTypeSpec:
    """What a pod of this type gets: CPU in cores, memory in bytes, whole GPUs."""

    display_name: str | None = None
    description: str | None = None
    cpu_limit: float | None = None
    memory_limit: float | None = None
    gpu_limit: int = 0
    cpu_request: float | None = None
    memory_request: float | None = None
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()


@dataclass(frozen=True)
class InstanceType:
    name: str
    spec: InstanceTypeSpec
    resource_version: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The ``spec`` as stored: PrimeHub's API shows it as is, and its memory units."""

    @property
    def display_name(self) -> str:
        return self.spec.display_name or self.name


def parse(obj: Mapping[str, Any]) -> InstanceType:
    """The view of an InstanceType object; raises :class:`MalformedObject` naming the field."""
    meta = views.metadata(obj)
    spec = obj.get("spec")
    raw = spec if isinstance(spec, dict) else {}
    return InstanceType(name=meta["name"], spec=parse_spec(raw),
                        resource_version=str(meta.get("resourceVersion") or ""), raw=raw)


def parse_spec(spec: Mapping[str, Any]) -> InstanceTypeSpec:
    gpu = views.field(spec, GPU_LIMIT, int, 0, where="spec")
    return InstanceTypeSpec(
        display_name=views.field(spec, "displayName", str, None, where="spec"),
        description=views.field(spec, "description", str, None, where="spec"),
        cpu_limit=_quantity(spec, CPU_LIMIT), memory_limit=_quantity(spec, MEMORY_LIMIT),
        gpu_limit=gpu,
        cpu_request=_quantity(spec, CPU_REQUEST), memory_request=_quantity(spec, MEMORY_REQUEST),
        node_selector=views.string_map(spec, "nodeSelector", where="spec"),
        tolerations=tuple(
            Toleration(**{key: _optional_text(item.get(key))
                          for key in ("key", "operator", "value", "effect")})
            for item in views.items(spec, "tolerations", where="spec")),
    )


def _quantity(spec: Mapping[str, Any], key: str) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise MalformedObject(f"spec.{key}: expected a quantity, got {value!r}")
    try:
        return parse_quantity(value)
    except ValueError as error:
        raise MalformedObject(f"spec.{key}: {error}") from error


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def spec_body(spec: InstanceTypeSpec) -> Object:
    """The ``spec`` JSON in PrimeHub's shape (CPU as numbers, memory as ``<n>G``)."""
    body: Object = {GPU_LIMIT: spec.gpu_limit, "nodeSelector": dict(spec.node_selector),
                    "tolerations": [{key: value for key, value in vars(toleration).items()
                                     if value is not None} for toleration in spec.tolerations]}
    for key, value in (("displayName", spec.display_name), ("description", spec.description),
                       (CPU_LIMIT, spec.cpu_limit), (CPU_REQUEST, spec.cpu_request)):
        if value is not None:
            body[key] = value
    for key, amount in ((MEMORY_LIMIT, spec.memory_limit), (MEMORY_REQUEST, spec.memory_request)):
        if amount is not None:
            body[key] = memory_quantity(amount / GIGA)
    return body


def manifest(*, namespace: str, name: str, spec: InstanceTypeSpec) -> Object:
    return {"apiVersion": INSTANCETYPES.api_version, "kind": INSTANCETYPES.kind,
            "metadata": {"name": name, "namespace": namespace}, "spec": spec_body(spec)}


async def create(kube: Kube, *, namespace: str, name: str, spec: InstanceTypeSpec) -> InstanceType:
    """Create an instance type; AlreadyExists if the name is taken."""
    return parse(await kube.create(INSTANCETYPES, namespace=namespace,
                                   body=manifest(namespace=namespace, name=name, spec=spec)))


async def update(kube: Kube, *, namespace: str, name: str,
                 change: Callable[[InstanceType], InstanceTypeSpec]) -> InstanceType:
    """Replace the known spec keys by ``change(current)`` (others kept), retrying on
    conflicting writes; ``change`` sees the freshly read object each attempt."""

    def apply(obj: Object) -> Object:
        return with_spec_keys(obj, spec_body(change(parse(obj))), _SPEC_KEYS)

    return parse(await modify(kube, INSTANCETYPES, namespace=namespace, name=name, change=apply))


async def delete(kube: Kube, *, namespace: str, name: str) -> None:
    await kube.delete(INSTANCETYPES, namespace=namespace, name=name)
