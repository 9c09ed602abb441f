"""The writing side of :mod:`proxy.records`: what the controller calls to publish the data plane.

Each function is one MULTI/EXEC transaction ending with its event, so the proxy (which
reloads on the event) sees a route and its whole credential set change together, and a full
resync replaces everything at once. :func:`replace_everything` WATCHes the route table so a
concurrent publish makes it start over instead of being silently lost, and it alone writes the
epoch (:data:`~proxy.records.EPOCH_KEY`): "Redis holds a complete data plane".

The hash-upgrade helpers are for the controller's side of the upgrade protocol described in
:mod:`proxy.records`: read the pending requests, apply them, settle each one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.typing import EncodableT, FieldT

from proxy.records import (
    EPOCH_KEY,
    EVENTS_CHANNEL,
    HASH_UPGRADES_KEY,
    ROUTES_KEY,
    DeploymentChanged,
    HashUpgrade,
    RecordError,
    Resynced,
    Route,
    clients_key,
    decode_hash_upgrade,
    encode_event,
    encode_hash_upgrade,
    encode_route,
    hash_upgrade_field,
)

# Delete the field only if it still holds the value the caller applied.
_COMPARE_AND_DELETE: Final = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""

Deployment = tuple[Route, Mapping[str, str]]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _queue_deployment(pipe: Pipeline, route: Route, credentials: Mapping[str, str]) -> None:
    pipe.hset(ROUTES_KEY, route.deployment_id, encode_route(route))
    pipe.delete(clients_key(route.deployment_id))
    if credentials:
        mapping: dict[FieldT, EncodableT] = dict(credentials.items())
        pipe.hset(clients_key(route.deployment_id), mapping=mapping)


async def publish_deployment(redis: Redis, *, route: Route,
                             credentials: Mapping[str, str]) -> None:
    """Write ``route`` and replace the deployment's credential set (client -> hash) atomically."""
    async with redis.pipeline(transaction=True) as pipe:
        _queue_deployment(pipe, route, credentials)
        pipe.publish(EVENTS_CHANNEL, encode_event(DeploymentChanged(route.deployment_id)))
        await pipe.execute()


async def withdraw_deployment(redis: Redis, *, deployment_id: str) -> None:
    """Remove a deployment's route and credentials atomically (it was deleted)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hdel(ROUTES_KEY, deployment_id)
        pipe.delete(clients_key(deployment_id))
        pipe.publish(EVENTS_CHANNEL, encode_event(DeploymentChanged(deployment_id)))
        await pipe.execute()


async def replace_everything(redis: Redis, *, deployments: Iterable[Deployment],
                             epoch: str) -> None:
    """Make Redis hold exactly ``deployments`` (routes and credentials), in one transaction,
    and mark the data plane complete with ``epoch`` (any text naming the writer)."""
    wanted = list(deployments)

    async def replace(pipe: Pipeline) -> None:
        present = {_text(name) for name in await pipe.hkeys(ROUTES_KEY)}
        pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        for gone in present - {route.deployment_id for route, _ in wanted}:
            pipe.delete(clients_key(gone))
        pipe.delete(ROUTES_KEY)
        for route, credentials in wanted:
            _queue_deployment(pipe, route, credentials)
        pipe.set(EPOCH_KEY, epoch)
        pipe.publish(EVENTS_CHANNEL, encode_event(Resynced()))

    await redis.transaction(replace, ROUTES_KEY)


async def data_plane_complete(redis: Redis) -> bool:
    """Whether Redis still holds the epoch of a full resync (it lost nothing since)."""
    return bool(await redis.exists(EPOCH_KEY))


async def request_hash_upgrade(redis: Redis, *, upgrade: HashUpgrade) -> None:
    """Record a proxy's upgraded hash for the controller to apply (the proxy's side)."""
    await redis.hset(HASH_UPGRADES_KEY, hash_upgrade_field(upgrade.deployment_id, upgrade.client),
                     encode_hash_upgrade(upgrade))


async def pending_hash_upgrades(redis: Redis) -> list[HashUpgrade]:
    """Every well-formed pending upgrade request; malformed ones are dropped."""
    pending: list[HashUpgrade] = []
    raw: dict[Any, Any] = await redis.hgetall(HASH_UPGRADES_KEY)
    for field, value in raw.items():
        try:
            pending.append(decode_hash_upgrade(value))
        except RecordError:
            await redis.hdel(HASH_UPGRADES_KEY, field)
    return pending


async def settle_hash_upgrade(redis: Redis, *, upgrade: HashUpgrade) -> bool:
    """Forget ``upgrade`` once applied, unless a newer request replaced it meanwhile."""
    deleted = await redis.eval(
        _COMPARE_AND_DELETE, 1, HASH_UPGRADES_KEY,
        hash_upgrade_field(upgrade.deployment_id, upgrade.client), encode_hash_upgrade(upgrade))
    return bool(deleted)
