"""The controller's side of the proxy's hash-upgrade requests (see :mod:`proxy.records`).

The proxy verified a client's legacy ``$apr1$`` hash and computed its replacement, but holds
no Kubernetes credentials; it leaves the request in Redis. Here each request is applied to the
clients Secret only if the Secret still holds the old hash (a token replaced or deleted
meanwhile must not be brought back), with optimistic concurrency, and then settled. The
Secret's change reaches Redis through the ordinary reconcile of its deployment.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from gateway.kube import secretdata
from gateway.kube.client import SECRETS, Kube, Object
from gateway.kube.clientsecrets import secret_name
from gateway.kube.errors import NotFound
from gateway.kube.views import MalformedObject
from gateway.kube.writing import modify
from proxy.publishing import pending_hash_upgrades, settle_hash_upgrade
from proxy.records import HashUpgrade

log = logging.getLogger(__name__)


async def apply_upgrades(redis: Redis, kube: Kube, *, namespace: str) -> int:
    """Apply every pending request; returns how many changed a Secret."""
    changed = 0
    for upgrade in await pending_hash_upgrades(redis):
        if await _apply(kube, namespace=namespace, upgrade=upgrade):
            changed += 1
        await settle_hash_upgrade(redis, upgrade=upgrade)
    return changed


async def _apply(kube: Kube, *, namespace: str, upgrade: HashUpgrade) -> bool:
    applied = False

    def change(secret: Object) -> Object | None:
        nonlocal applied
        applied = False  # this attempt decides (an earlier one may have met a conflict)
        try:
            current = secretdata.decode(secret).get(upgrade.client)
        except MalformedObject:
            return None
        if current != upgrade.old_hash:
            return None
        secret["data"] = {**(secret.get("data") or {}),
                          **secretdata.encode({upgrade.client: upgrade.new_hash})}
        applied = True
        return secret

    try:
        await modify(kube, SECRETS, namespace=namespace,
                     name=secret_name(upgrade.deployment_id), change=change)
    except NotFound:
        return False
    if applied:
        log.info("upgraded the hash of client %s of deployment %s", upgrade.client,
                 upgrade.deployment_id)
    return applied
