"""The controller's side of the records: atomic publishes, resyncs, hash-upgrade settling."""

from __future__ import annotations

from proxykit import CONTEXT
from redis.asyncio import Redis

from proxy.publishing import (
    data_plane_complete,
    pending_hash_upgrades,
    publish_deployment,
    replace_everything,
    request_hash_upgrade,
    settle_hash_upgrade,
    withdraw_deployment,
)
from proxy.records import (
    EPOCH_KEY,
    EVENTS_CHANNEL,
    HASH_UPGRADES_KEY,
    ROUTES_KEY,
    Access,
    DeploymentChanged,
    HashUpgrade,
    Resynced,
    Route,
    clients_key,
    decode_event,
    decode_route,
)


def route(deployment_id: str, access: Access = Access.PRIVATE) -> Route:
    return Route(deployment_id, "127.1.0.5", 80, access, stopped=False, ready=True)


async def test_publish_replaces_the_whole_credential_set_and_announces_it(redis: Redis) -> None:
    """A publish writes the route, replaces every credential, and sends one event."""
    async with redis.pubsub() as pubsub:
        await pubsub.subscribe(EVENTS_CHANNEL)
        await publish_deployment(redis, route=route("dep-one1"), credentials={"a": "h1", "b": "h2"})
        await publish_deployment(redis, route=route("dep-one1"), credentials={"b": "h3"})
        events: list[DeploymentChanged | Resynced] = []
        while len(events) < 2:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
            if message is not None:
                events.append(decode_event(message["data"]))
    assert events == [DeploymentChanged("dep-one1")] * 2
    stored = await redis.hget(ROUTES_KEY, "dep-one1")
    assert stored is not None
    assert decode_route("dep-one1", stored) == route("dep-one1")
    assert await redis.hgetall(clients_key("dep-one1")) == {"b": "h3"}


async def test_withdraw_removes_route_and_credentials(redis: Redis) -> None:
    """Withdrawing a deployment leaves nothing of it behind."""
    await publish_deployment(redis, route=route("dep-one1"), credentials={"a": "h1"})
    await withdraw_deployment(redis, deployment_id="dep-one1")
    assert await redis.hexists(ROUTES_KEY, "dep-one1") == 0
    assert await redis.exists(clients_key("dep-one1")) == 0


async def test_replace_everything_drops_what_it_does_not_name(redis: Redis) -> None:
    """A resync leaves exactly the given deployments, marks the data plane complete with its
    epoch and announces a resync."""
    await publish_deployment(redis, route=route("stale-01"), credentials={"a": "h1"})
    await publish_deployment(redis, route=route("kept-001"), credentials={"a": "h1"})
    async with redis.pubsub() as pubsub:
        await pubsub.subscribe(EVENTS_CHANNEL)
        await replace_everything(redis, deployments=[
            (route("kept-001"), {"b": "h2"}), (route("new-0001", Access.PUBLIC), {})],
            epoch="controller-1")
        message = None
        while message is None:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
    assert decode_event(message["data"]) == Resynced()
    assert sorted(await redis.hkeys(ROUTES_KEY)) == ["kept-001", "new-0001"]
    assert await redis.exists(clients_key("stale-01")) == 0
    assert await redis.hgetall(clients_key("kept-001")) == {"b": "h2"}
    assert await redis.get(EPOCH_KEY) == "controller-1"
    assert await data_plane_complete(redis)
    await publish_deployment(redis, route=route("kept-001"), credentials={})
    await redis.flushall()
    assert not await data_plane_complete(redis)


async def test_hash_upgrades_are_settled_only_if_unchanged(redis: Redis) -> None:
    """Settling deletes the request it applied, but not a newer one for the same client."""
    first = HashUpgrade("dep-one1", "app", "$apr1$a$b", CONTEXT.hash("t"))
    await request_hash_upgrade(redis, upgrade=first)
    assert await pending_hash_upgrades(redis) == [first]
    newer = HashUpgrade("dep-one1", "app", "$apr1$c$d", CONTEXT.hash("u"))
    await request_hash_upgrade(redis, upgrade=newer)
    assert await settle_hash_upgrade(redis, upgrade=first) is False
    assert await pending_hash_upgrades(redis) == [newer]
    assert await settle_hash_upgrade(redis, upgrade=newer) is True
    assert await pending_hash_upgrades(redis) == []


async def test_malformed_hash_upgrades_are_discarded(redis: Redis) -> None:
    """A request that does not decode is dropped instead of blocking the queue."""
    await redis.hset(HASH_UPGRADES_KEY, "dep-one1/app", "garbage")
    assert await pending_hash_upgrades(redis) == []
    assert await redis.exists(HASH_UPGRADES_KEY) == 0
