"""Admin operations (additive to PrimeHub's contract): groups and instance types.

Every field here requires an admin caller (``NOT_AUTH`` otherwise), and every mutation here a
token with the ``admin`` scope (:mod:`schema.scoping` reads this class's fields for that). Reads
come from the watch caches; writes are optimistic read-modify-writes that return once the cache
has caught up. Sizes are in PrimeHub's units: CPU in cores, memory in (decimal) gigabytes,
whole GPUs. API tokens are :mod:`schema.apitokens`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

import strawberry
from strawberry import UNSET

from gateway.api.readback import caught_up
from gateway.kube import groups, instancetypes
from gateway.kube.errors import AlreadyExists
from gateway.kube.groups import GroupSpec, Quota
from gateway.kube.instancetypes import InstanceTypeSpec, Toleration
from gateway.kube.quantities import GIGA
from gateway.kube.references import Kind
from schema import permissions, validation
from schema.context import Context, Info
from schema.errors import BadUserInput, ResourceNotFound, kube_errors
from schema.inputs import (
    GroupCreateInput,
    GroupUpdateInput,
    InstanceTypeCreateInput,
    InstanceTypeUpdateInput,
    TolerationInput,
    WhereIdInput,
)
from schema.types import Group, InstanceType

T = TypeVar("T")


def _found(value: T | None, what: str, name: str) -> T:
    if value is None:
        raise ResourceNotFound(f'{what} "{name}" not found')
    return value


def _bytes(gigabytes: float | None, *, field: str) -> float | None:
    amount = validation.non_negative(gigabytes, field=field)
    return None if amount is None else amount * GIGA


def _known_instance_types(context: Context, names: list[str]) -> tuple[str, ...]:
    cache = context.services.store.instance_types
    unknown = sorted({name for name in names if name not in cache})
    if unknown:
        raise BadUserInput("instanceTypes", f"unknown instance types: {', '.join(unknown)}")
    return tuple(dict.fromkeys(names))


def _assigned(context: Context, names: list[str], *, kind: Kind,
              field: str) -> tuple[str, ...]:
    """Claim or Secret names for a group's allow-list; never the product's own."""
    protected = context.services.settings.sources.protected
    for index, name in enumerate(names):
        validation.resource_name(name, field=f"{field}[{index}]")
        if protected.covers(kind, name):
            raise BadUserInput(f"{field}[{index}]", f'"{name}" belongs to model-gateway '
                               "itself and is never available to deployments")
    return tuple(dict.fromkeys(names))


def _allow_lists(context: Context, claims: list[str] | None, image_pull: list[str] | None,
                 storage: list[str] | None) -> dict[str, tuple[str, ...]]:
    """The allow-lists sent (``UNSET`` ones left out), checked."""
    lists: tuple[tuple[str, list[str] | None, Kind, str], ...] = (
        ("claims", claims, "claim", "claims"),
        ("image_pull_secrets", image_pull, "imagePullSecret", "imagePullSecrets"),
        ("storage_secrets", storage, "storageSecret", "storageSecrets"))
    return {key: _assigned(context, value or [], kind=kind, field=field)
            for key, value, kind, field in lists if value is not UNSET}


def _members(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(validation.username(name, field="members") for name in names))


def _non_negative_int(value: int | None, *, field: str) -> int | None:
    if value is not None and value < 0:
        raise BadUserInput(field, f"must not be negative, got {value}")
    return value


def _tolerations(items: list[TolerationInput]) -> tuple[Toleration, ...]:
    found = []
    for index, item in enumerate(items):
        if item.operator not in (None, "", "Exists", "Equal"):
            raise BadUserInput(f"tolerations[{index}].operator", "must be Exists or Equal")
        if item.effect not in (None, "", "NoSchedule", "PreferNoSchedule", "NoExecute"):
            raise BadUserInput(f"tolerations[{index}].effect",
                               "must be NoSchedule, PreferNoSchedule or NoExecute")
        found.append(Toleration(
            key=item.key and validation.label_key(item.key, field=f"tolerations[{index}].key"),
            operator=item.operator, effect=item.effect,
            value=item.value and validation.label_value(item.value,
                                                        field=f"tolerations[{index}].value")))
    return tuple(found)


def _node_selector(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(item, str)
                                              for item in value.values()):
        raise BadUserInput("nodeSelector", "must be an object of strings")
    return {validation.label_key(key, field="nodeSelector"):
            validation.label_value(item, field=f"nodeSelector.{key}")
            for key, item in value.items()}


def _group_update(spec: GroupSpec, data: GroupUpdateInput, context: Context) -> GroupSpec:
    changes: dict[str, Any] = {}
    quota: dict[str, Any] = {}
    if data.display_name is not UNSET:
        changes["display_name"] = validation.line(data.display_name, field="displayName")
    if data.members is not UNSET:
        changes["members"] = _members(data.members or [])
    if data.enabled_deployment is not UNSET:
        changes["enabled_deployment"] = bool(data.enabled_deployment)
    if data.max_deploy is not UNSET:
        changes["max_deploy"] = _non_negative_int(data.max_deploy, field="maxDeploy")
    if data.quota_cpu is not UNSET:
        quota["cpu"] = validation.non_negative(data.quota_cpu, field="quotaCpu")
    if data.quota_gpu is not UNSET:
        quota["gpu"] = _non_negative_int(data.quota_gpu, field="quotaGpu")
    if data.quota_memory is not UNSET:
        quota["memory"] = _bytes(data.quota_memory, field="quotaMemory")
    if data.instance_types is not UNSET:
        changes["instance_types"] = _known_instance_types(context, data.instance_types or [])
    changes.update(_allow_lists(context, data.claims, data.image_pull_secrets,
                                data.storage_secrets))
    return replace(spec, quota=replace(spec.quota, **quota), **changes)


def _instance_type_update(spec: InstanceTypeSpec,
                          data: InstanceTypeUpdateInput) -> InstanceTypeSpec:
    changes: dict[str, Any] = {}
    if data.display_name is not UNSET:
        changes["display_name"] = validation.line(data.display_name, field="displayName")
    if data.description is not UNSET:
        changes["description"] = validation.text(data.description, field="description")
    for key, value, field in (("cpu_limit", data.cpu_limit, "cpuLimit"),
                              ("cpu_request", data.cpu_request, "cpuRequest")):
        if value is not UNSET:
            if value is None and key == "cpu_limit":
                raise BadUserInput(field, "is required")
            changes[key] = validation.non_negative(value, field=field)
    for key, value, field in (("memory_limit", data.memory_limit, "memoryLimit"),
                              ("memory_request", data.memory_request, "memoryRequest")):
        if value is not UNSET:
            if value is None and key == "memory_limit":
                raise BadUserInput(field, "is required")
            changes[key] = _bytes(value, field=field)
    if data.gpu_limit is not UNSET:
        changes["gpu_limit"] = _non_negative_int(data.gpu_limit, field="gpuLimit") or 0
    if data.node_selector is not UNSET:
        changes["node_selector"] = _node_selector(data.node_selector)
    if data.tolerations is not UNSET:
        changes["tolerations"] = _tolerations(data.tolerations or [])
    return replace(spec, **changes)


@strawberry.type
class AdminQueries:
    @strawberry.field
    def groups(self, info: Info) -> list[Group]:
        permissions.admin(info.context)
        found = info.context.services.store.groups.values()
        return [Group.from_view(view) for view in sorted(found, key=lambda view: view.name)]

    @strawberry.field
    def group(self, info: Info, where: WhereIdInput) -> Group:
        permissions.admin(info.context)
        return Group.from_view(_found(info.context.services.store.groups.get(where.id),
                                      "group", where.id))

    @strawberry.field
    def instance_types(self, info: Info) -> list[InstanceType]:
        permissions.admin(info.context)
        found = info.context.services.store.instance_types.values()
        return [InstanceType.from_view(view)
                for view in sorted(found, key=lambda view: view.name)]

    @strawberry.field
    def instance_type(self, info: Info, where: WhereIdInput) -> InstanceType:
        permissions.admin(info.context)
        return InstanceType.from_view(_found(
            info.context.services.store.instance_types.get(where.id), "instance type",
            where.id))


@strawberry.type
class AdminMutations:
    @strawberry.mutation
    async def create_group(self, info: Info, data: GroupCreateInput) -> Group:
        context = info.context
        permissions.admin(context)
        services = context.services
        name = validation.group_name(data.name)
        spec = GroupSpec(
            display_name=validation.line(data.display_name, field="displayName"),
            members=_members(data.members or []),
            enabled_deployment=bool(data.enabled_deployment),
            max_deploy=_non_negative_int(data.max_deploy, field="maxDeploy"),
            quota=Quota(cpu=validation.non_negative(data.quota_cpu, field="quotaCpu"),
                        memory=_bytes(data.quota_memory, field="quotaMemory"),
                        gpu=_non_negative_int(data.quota_gpu, field="quotaGpu")),
            instance_types=_known_instance_types(context, data.instance_types or []),
            **_allow_lists(context, data.claims, data.image_pull_secrets, data.storage_secrets))
        try:
            with kube_errors(what="group", name=name):
                created = await groups.create(services.kube, namespace=services.namespace,
                                              name=name, spec=spec)
        except AlreadyExists as error:
            raise BadUserInput("name", f'group "{name}" already exists') from error
        await caught_up(services.store.groups, name, created.resource_version)
        return Group.from_view(created)

    @strawberry.mutation
    async def update_group(self, info: Info, where: WhereIdInput,
                           data: GroupUpdateInput) -> Group:
        context = info.context
        permissions.admin(context)
        services = context.services
        with kube_errors(what="group", name=where.id):
            updated = await groups.update(
                services.kube, namespace=services.namespace, name=where.id,
                change=lambda fresh: _group_update(fresh.spec, data, context))
        await caught_up(services.store.groups, where.id, updated.resource_version)
        return Group.from_view(updated)

    @strawberry.mutation
    async def delete_group(self, info: Info, where: WhereIdInput) -> Group:
        context = info.context
        permissions.admin(context)
        services = context.services
        current = _found(services.store.groups.get(where.id), "group", where.id)
        with kube_errors(what="group", name=where.id):
            await groups.delete(services.kube, namespace=services.namespace, name=where.id)
        await caught_up(services.store.groups, where.id, None)
        return Group.from_view(current)

    @strawberry.mutation
    async def create_instance_type(self, info: Info,
                                   data: InstanceTypeCreateInput) -> InstanceType:
        context = info.context
        permissions.admin(context)
        services = context.services
        name = validation.resource_name(data.name)
        if data.cpu_limit is None or data.memory_limit is None:
            raise BadUserInput("cpuLimit" if data.cpu_limit is None else "memoryLimit",
                               "is required")
        spec = InstanceTypeSpec(
            display_name=validation.line(data.display_name, field="displayName"),
            description=validation.text(data.description, field="description"),
            cpu_limit=validation.non_negative(data.cpu_limit, field="cpuLimit"),
            memory_limit=_bytes(data.memory_limit, field="memoryLimit"),
            gpu_limit=_non_negative_int(data.gpu_limit, field="gpuLimit") or 0,
            cpu_request=validation.non_negative(data.cpu_request, field="cpuRequest"),
            memory_request=_bytes(data.memory_request, field="memoryRequest"),
            node_selector=_node_selector(data.node_selector),
            tolerations=_tolerations(data.tolerations or []))
        try:
            with kube_errors(what="instance type", name=name):
                created = await instancetypes.create(services.kube,
                                                     namespace=services.namespace, name=name,
                                                     spec=spec)
        except AlreadyExists as error:
            raise BadUserInput("name", f'instance type "{name}" already exists') from error
        await caught_up(services.store.instance_types, name, created.resource_version)
        return InstanceType.from_view(created)

    @strawberry.mutation
    async def update_instance_type(self, info: Info, where: WhereIdInput,
                                   data: InstanceTypeUpdateInput) -> InstanceType:
        context = info.context
        permissions.admin(context)
        services = context.services
        with kube_errors(what="instance type", name=where.id):
            updated = await instancetypes.update(
                services.kube, namespace=services.namespace, name=where.id,
                change=lambda fresh: _instance_type_update(fresh.spec, data))
        await caught_up(services.store.instance_types, where.id, updated.resource_version)
        return InstanceType.from_view(updated)

    @strawberry.mutation
    async def delete_instance_type(self, info: Info, where: WhereIdInput) -> InstanceType:
        context = info.context
        permissions.admin(context)
        services = context.services
        current = _found(services.store.instance_types.get(where.id), "instance type",
                         where.id)
        with kube_errors(what="instance type", name=where.id):
            await instancetypes.delete(services.kube, namespace=services.namespace,
                                       name=where.id)
        await caught_up(services.store.instance_types, where.id, None)
        return InstanceType.from_view(current)
