"""``Query.secrets``: the Secrets the caller's groups were assigned, as PrimeHub lists them.

PrimeHub's deployment form fills its "Image Pull Secret" picker with
``secrets(where: {ifDockerConfigJson: true}) { id name type }``. Here the answer is what the
caller may actually use: the ``imagePullSecrets`` of the groups they act in (PrimeHub's type
``kubernetes``), plus, without that filter, their ``storageSecrets`` (type ``opaque``). Only
names are shown; a Secret's content never leaves the cluster through this API.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from schema import permissions
from schema.context import Info


@strawberry.enum
class SecretType(Enum):
    opaque = "opaque"
    kubernetes = "kubernetes"


@strawberry.type(description="A Secret a group may name (its name only, never its content).")
class Secret:
    id: strawberry.ID
    type: SecretType
    name: str
    display_name: str | None = None


@strawberry.input
class SecretWhereInput:
    id: strawberry.ID | None = None
    if_docker_config_json: bool | None = strawberry.field(name="ifDockerConfigJson",
                                                          default=None)
    search: str | None = None


def _secrets(info: Info, where: SecretWhereInput | None = None) -> list[Secret | None]:
    context = info.context
    visible = permissions.visible_groups(context, permissions.caller(context))
    where = where or SecretWhereInput()
    found: dict[str, SecretType] = {}
    for group in context.services.store.groups.values():
        if visible is not None and group.name not in visible:
            continue
        if not where.if_docker_config_json:
            found.update(dict.fromkeys(group.spec.storage_secrets, SecretType.opaque))
        found.update(dict.fromkeys(group.spec.image_pull_secrets, SecretType.kubernetes))
    search = (where.search or "").lower()
    return [Secret(id=strawberry.ID(name), type=kind, name=name, display_name=name)
            for name, kind in sorted(found.items())
            if (where.id is None or name == where.id) and search in name.lower()]


@strawberry.type
class SecretQueries:
    secrets: list[Secret | None] = strawberry.field(
        resolver=_secrets, description="The Secrets assigned to the caller's groups (every "
        "group's for an admin): image pull Secrets (type kubernetes) and, unless "
        "ifDockerConfigJson, storage Secrets (type opaque).")
