"""Reading a PrimeHub install and, with ``--apply``, writing the plan.

Writes, per deployment, in the order that never loses a credential: the token hashes into
the clients Secret first, then the spec without them (and with its new ``groupId``), then the
adoption mark on its Deployment, carrying the generation that spec write produced. Groups are
created before any deployment that names them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from gateway.controller.adopting import ADOPTED_ANNOTATION
from gateway.kube import clientsecrets, groups, instancetypes, phdeployments
from gateway.kube.client import DEPLOYMENTS, Kube, Object
from gateway.kube.errors import AlreadyExists
from gateway.kube.writing import modify
from gateway.migration.keycloak import KeycloakGroup, read_groups
from gateway.migration.planning import DeploymentMove, Plan, plan


@dataclass(frozen=True)
class Keycloak:
    url: str
    realm: str
    client_id: str
    client_secret: str


async def read_plan(kube: Kube, session: aiohttp.ClientSession, *, namespace: str,
                    keycloak: Keycloak | None) -> Plan:
    """Read PrimeHub's objects and plan their migration (no Keycloak: groups untouched)."""
    found: list[KeycloakGroup] = []
    if keycloak is not None:
        found = await read_groups(session, url=keycloak.url, realm=keycloak.realm,
                                  client_id=keycloak.client_id,
                                  client_secret=keycloak.client_secret)

    async def items(resource: Any, selector: str | None = None) -> list[Object]:
        listed = await kube.list(resource, namespace=namespace, label_selector=selector)
        return list(listed.get("items") or [])

    children = {item["metadata"]["name"]: item
                for item in await items(DEPLOYMENTS, "app=primehub-deployment")}
    return plan(keycloak=found,
                existing_groups=[item["metadata"]["name"] for item in await items(groups.GROUPS)],
                instance_types=[item["metadata"]["name"]
                                for item in await items(instancetypes.INSTANCETYPES)],
                deployments=await items(phdeployments.PHDEPLOYMENTS), children=children)


async def apply_plan(kube: Kube, *, namespace: str, planned: Plan,
                     say: Callable[[str], None]) -> None:
    """Write ``planned``; ``say`` gets one line per write done."""
    for group in planned.groups:
        if not group.create:
            continue
        try:
            await groups.create(kube, namespace=namespace, name=group.name, spec=group.spec)
            say(f"group/{group.name}: created")
        except AlreadyExists:
            say(f"group/{group.name}: created meanwhile by someone else, kept")
    for move in planned.deployments:
        await _deployment(kube, namespace=namespace, move=move, say=say)


async def _deployment(kube: Kube, *, namespace: str, move: DeploymentMove,
                      say: Callable[[str], None]) -> None:
    current = phdeployments.parse(await kube.get(phdeployments.PHDEPLOYMENTS,
                                                 namespace=namespace, name=move.name))
    for client, hash_ in sorted(move.hashes.items()):
        await clientsecrets.put_client(kube, deployment=current, client=client, hash_=hash_)

    def change(obj: Object) -> Object | None:
        spec = obj["spec"]
        clients = (spec.get("endpoint") or {}).get("clients") or []
        stripped = [{key: value for key, value in client.items() if key != "token"}
                    for client in clients]
        if stripped == clients and (move.group_id is None
                                    or spec.get("groupId") == move.group_id):
            return None
        if clients:
            spec["endpoint"]["clients"] = stripped
        if move.group_id is not None:
            spec["groupId"] = move.group_id
        return obj

    written = await modify(kube, phdeployments.PHDEPLOYMENTS, namespace=namespace,
                           name=move.name, change=change)
    if move.hashes:
        say(f"phdeployment/{move.name}: {len(move.hashes)} client hashes in "
            f"{clientsecrets.secret_name(move.name)}, removed from the spec")
    if move.adopt:
        generation = str(written["metadata"].get("generation") or 1)
        await kube.patch(DEPLOYMENTS, namespace=namespace, name=f"deploy-{move.name}",
                         body={"metadata": {"annotations": {ADOPTED_ANNOTATION: generation}}},
                         patch_type="merge")
        say(f"deployment/deploy-{move.name}: adopted at generation {generation}")
