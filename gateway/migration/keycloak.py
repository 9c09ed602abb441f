"""PrimeHub's groups, read from its Keycloak realm through the admin REST API.

The token comes from the realm's token endpoint with a client's credentials (a service
account allowed ``view-users`` and ``query-groups``); nothing is written to Keycloak.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

import aiohttp

EVERYONE: Final = "everyone"
PAGE: Final = 10_000
_INSTANCE_TYPE_ROLE: Final = "it"


class KeycloakError(RuntimeError):
    """Keycloak could not be read; the message says which request and why."""


@dataclass(frozen=True)
class KeycloakGroup:
    """One PrimeHub group as Keycloak stores it."""

    id: str
    name: str
    attributes: Mapping[str, tuple[str, ...]]
    members: tuple[str, ...] = ()
    instance_types: tuple[str, ...] = ()

    def attribute(self, key: str) -> str | None:
        values = self.attributes.get(key) or ()
        return values[0] if values else None


def instance_type_of(role: str) -> str | None:
    """The instance type an ``it:<name>`` realm role (maybe ``<prefix>:it:<name>``) grants."""
    parts = role.split(":")
    if len(parts) >= 2 and _INSTANCE_TYPE_ROLE in parts[:-1] and parts[-1]:
        return parts[-1]
    return None


async def read_groups(session: aiohttp.ClientSession, *, url: str, realm: str, client_id: str,
                      client_secret: str) -> list[KeycloakGroup]:
    """Every top-level group of ``realm`` with its attributes, members and instance types."""
    base = url.rstrip("/")
    token = await _token(session, base=base, realm=realm, client_id=client_id,
                         client_secret=client_secret)
    admin = f"{base}/admin/realms/{quote(realm)}"
    headers = {"Authorization": f"Bearer {token}"}

    async def get(path: str) -> Any:
        async with session.get(f"{admin}{path}", headers=headers) as response:
            if response.status != 200:
                raise KeycloakError(f"GET {path}: HTTP {response.status}")
            return await response.json()

    found = []
    for group in await get(f"/groups?briefRepresentation=false&max={PAGE}"):
        group_id = quote(str(group["id"]))
        members = await get(f"/groups/{group_id}/members?briefRepresentation=true&max={PAGE}")
        roles = await get(f"/groups/{group_id}/role-mappings/realm")
        granted = (instance_type_of(str(role.get("name", ""))) for role in roles)
        found.append(KeycloakGroup(
            id=str(group["id"]), name=str(group["name"]),
            attributes={str(key): tuple(str(item) for item in values)
                        for key, values in (group.get("attributes") or {}).items()},
            members=tuple(sorted(str(member["username"]) for member in members)),
            instance_types=tuple(sorted({name for name in granted if name}))))
    return found


async def _token(session: aiohttp.ClientSession, *, base: str, realm: str, client_id: str,
                 client_secret: str) -> str:
    path = f"/realms/{quote(realm)}/protocol/openid-connect/token"
    async with session.post(f"{base}{path}", data={
            "grant_type": "client_credentials", "client_id": client_id,
            "client_secret": client_secret}) as response:
        if response.status != 200:
            raise KeycloakError(f"POST {path}: HTTP {response.status} (check the client id "
                                "and secret)")
        body = await response.json()
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str):
        raise KeycloakError(f"POST {path}: no access_token in the answer")
    return token
