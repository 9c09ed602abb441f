"""What the migration will do, decided from what it read: pure, so the dry run and ``--apply``
print the same plan, and it is tested without I/O.

Each object gets one line of the report: what happens to it, or why nothing can.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.controller.labels import pod_labels
from gateway.kube.groups import GroupSpec, Quota
from gateway.kube.quantities import parse_quantity
from gateway.migration.keycloak import EVERYONE, KeycloakGroup

_GROUP_NAME: Final = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_CLIENT_NAME: Final = re.compile(r"[a-z_][a-z0-9_-]*")
_LEGACY_HASH: Final = re.compile(r"\$apr1\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22}")


@dataclass(frozen=True)
class GroupMove:
    name: str
    spec: GroupSpec
    create: bool  # False: a Group of that name exists and is kept as it is


@dataclass(frozen=True)
class DeploymentMove:
    name: str
    uid: str
    group_id: str | None  # the new spec.groupId (None: left as it is)
    hashes: Mapping[str, str] = field(default_factory=dict)
    adopt: bool = False


@dataclass(frozen=True)
class Plan:
    groups: tuple[GroupMove, ...]
    deployments: tuple[DeploymentMove, ...]
    report: tuple[str, ...]


def group_name(primehub_name: str) -> str | None:
    """Our Group name for a PrimeHub group (lowercase, ``_`` as ``-``); None if impossible."""
    name = primehub_name.lower().replace("_", "-")
    return name if _GROUP_NAME.fullmatch(name) else None


def plan(*, keycloak: Iterable[KeycloakGroup], existing_groups: Iterable[str],
         instance_types: Iterable[str], deployments: Iterable[Mapping[str, Any]],
         children: Mapping[str, Mapping[str, Any]]) -> Plan:
    """The migration of everything read; ``children`` are live Deployments by name."""
    report: list[str] = []
    known_types = frozenset(instance_types)
    report.extend(f"instancetype/{name}: kept as it is (same resource)"
                  for name in sorted(known_types))
    groups, names_by_id = _groups(list(keycloak), frozenset(existing_groups), known_types,
                                  report)
    moves = tuple(_deployment(obj, names_by_id, children, report) for obj in deployments)
    return Plan(groups=groups, deployments=tuple(move for move in moves if move is not None),
                report=tuple(report))


def _groups(keycloak: list[KeycloakGroup], existing: frozenset[str],
            known_types: frozenset[str],
            report: list[str]) -> tuple[tuple[GroupMove, ...], dict[str, str]]:
    shared = next((group.instance_types for group in keycloak if group.name == EVERYONE), ())
    moves: list[GroupMove] = []
    names: dict[str, str] = {}
    for group in sorted(keycloak, key=lambda item: item.name):
        if group.name == EVERYONE:
            report.append(f"group/{EVERYONE}: not a group here; its instance types "
                          f"({', '.join(shared) or 'none'}) go to every group")
            continue
        name = group_name(group.name)
        if name is None:
            report.append(f"group/{group.name}: skipped, its name cannot be a resource name")
            continue
        names[group.id] = name
        if name in existing:
            moves.append(GroupMove(name=name, spec=GroupSpec(), create=False))
            report.append(f"group/{name}: exists, kept as it is")
            continue
        wanted = sorted({*group.instance_types, *shared})
        missing = [item for item in wanted if item not in known_types]
        spec = GroupSpec(
            display_name=group.attribute("displayName") or group.name,
            members=group.members,
            enabled_deployment=group.attribute("enabled-deployment") == "true",
            max_deploy=_integer(group.attribute("max-deploy")),
            quota=Quota(cpu=_number(group.attribute("project-quota-cpu")),
                        memory=_number(group.attribute("project-quota-memory"), memory=True),
                        gpu=_integer(group.attribute("project-quota-gpu"))),
            instance_types=tuple(item for item in wanted if item in known_types))
        moves.append(GroupMove(name=name, spec=spec, create=True))
        note = f"; unknown instance types left out: {', '.join(missing)}" if missing else ""
        report.append(f"group/{name}: create from Keycloak group {group.name!r} "
                      f"({len(group.members)} members, deployment "
                      f"{'enabled' if spec.enabled_deployment else 'disabled'}){note}")
    return tuple(moves), names


def _deployment(obj: Mapping[str, Any], names_by_id: Mapping[str, str],
                children: Mapping[str, Mapping[str, Any]],
                report: list[str]) -> DeploymentMove | None:
    meta = obj.get("metadata") or {}
    name, uid = str(meta.get("name")), str(meta.get("uid") or "")
    spec = obj.get("spec") or {}
    endpoint = spec.get("endpoint") or {}
    hashes: dict[str, str] = {}
    notes: list[str] = []
    for client in endpoint.get("clients") or []:
        client_name, token = str(client.get("name") or ""), client.get("token")
        if token is None:
            continue
        if not _CLIENT_NAME.fullmatch(client_name) or not isinstance(token, str) or \
                not _LEGACY_HASH.fullmatch(token):
            notes.append(f"client {client_name!r} dropped: not a name and $apr1$ hash")
            continue
        hashes[client_name] = token
    group_id = spec.get("groupId")
    new_group = names_by_id.get(str(group_id)) if group_id is not None else None
    if new_group is None and group_id not in names_by_id.values():
        notes.append(f"its group {group_id!r} was not found in Keycloak")
    adopt, why = _adoptable(name, uid, str(spec.get("groupName") or ""),
                            children.get(f"deploy-{name}"))
    changes = [f"{len(hashes)} client token hashes moved" if hashes else "no client hashes",
               why]
    if new_group is not None and new_group != group_id:
        changes.append(f"groupId {group_id} -> {new_group}")
    report.append(f"phdeployment/{name}: " + "; ".join(changes + notes))
    return DeploymentMove(name=name, uid=uid,
                          group_id=new_group if new_group != group_id else None,
                          hashes=hashes, adopt=adopt)


def _adoptable(name: str, uid: str, group: str,
               child: Mapping[str, Any] | None) -> tuple[bool, str]:
    if child is None:
        return False, "no Deployment yet: the controller creates it"
    owners = (child.get("metadata") or {}).get("ownerReferences") or []
    if not any(ref.get("uid") == uid and ref.get("controller") for ref in owners):
        return False, "its Deployment is not controlled by it: replaced (pods restart)"
    selector = ((child.get("spec") or {}).get("selector") or {}).get("matchLabels")
    if selector != pod_labels(deployment_id=name, group_name=group):
        return False, "its Deployment selects other labels: replaced (pods restart)"
    return True, "Deployment adopted, its pods keep running"


def _integer(value: str | None) -> int | None:
    try:
        return None if value is None else max(0, int(value))
    except ValueError:
        return None


def _number(value: str | None, *, memory: bool = False) -> float | None:
    """PrimeHub's quota attribute: cores, or memory as ``<n>G`` (gigabytes: bytes here)."""
    if value is None:
        return None
    try:
        amount = parse_quantity(value)
    except ValueError:
        return None
    return amount * 10**9 if memory and not value.strip()[-1:].isalpha() else amount
