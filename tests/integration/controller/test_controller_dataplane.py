"""The data plane in a real Redis: routes and credential hashes published for the proxy,
invalidation events, a full resync as soon as Redis lost its data (FLUSHALL, restarted empty),
clean-up on delete (even by kubectl), and
the proxy's hash-upgrade requests applied to the clients Secret."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable

from controllerkit import (
    NAMESPACE,
    StartController,
    absent,
    create_deployment,
    eventually,
    route_of,
    update_deployment,
    wait_phase,
)
from redis.asyncio import Redis
from redis_server import RedisServer

from gateway.kube import clientsecrets, phdeployments, secretdata
from gateway.kube.client import SECRETS, Kube
from gateway.kube.phdeployments import PHDEPLOYMENTS, Endpoint
from proxy.publishing import pending_hash_upgrades, request_hash_upgrade
from proxy.records import (
    EPOCH_KEY,
    EVENTS_CHANNEL,
    Access,
    CredentialKey,
    HashUpgrade,
    clients_key,
    encode_credential,
)

HASH_APP = "$pbkdf2-sha256$29000$c2FsdA$app"
HASH_WEB = "$pbkdf2-sha256$29000$c2FsdA$web"


async def private_deployment(api: Kube, name: str, **hashes: str) -> None:
    """A private deployment whose clients are named in the spec and hashed in the Secret."""
    await create_deployment(api, name, access="private", clients=tuple(hashes))
    view = phdeployments.parse(await api.get(PHDEPLOYMENTS, namespace=NAMESPACE, name=name))
    for client, hash_ in hashes.items():
        await clientsecrets.put_client(api, deployment=view, client=client, hash_=hash_)


async def credentials(redis: Redis, name: str) -> dict[str, str]:
    found = await redis.hgetall(clients_key(name))
    return {str(key): str(value) for key, value in found.items()}


async def test_private_routes_carry_client_hashes_and_changes_are_announced(
        api: Kube, redis: Redis, start_controller: StartController) -> None:
    """Route + hashes are published; removing a client republishes and sends an event."""
    await start_controller()
    await private_deployment(api, "iris", app=HASH_APP, web=HASH_WEB)
    await wait_phase(api, "iris", "Deployed")

    async def published() -> None:
        route = await route_of(redis, "iris")
        assert route is not None
        assert (route.access, route.ready) == (Access.PRIVATE, True)
        assert await credentials(redis, "iris") == {"app": HASH_APP, "web": HASH_WEB}

    await eventually(published)
    async with redis.pubsub() as pubsub:
        await pubsub.subscribe(EVENTS_CHANNEL)
        await clientsecrets.remove_client(api, namespace=NAMESPACE, deployment_id="iris",
                                          client="web")
        await update_deployment(api, "iris", endpoint=Endpoint("private", ("app",)))

        async def announced() -> None:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
            assert message is not None
            assert json.loads(message["data"]) == {"v": 1, "kind": "deployment", "id": "iris"}

        await eventually(announced)
        await eventually(lambda: _expect(credentials(redis, "iris"), {"app": HASH_APP}))


async def test_public_deployments_publish_no_credentials(
        api: Kube, redis: Redis, start_controller: StartController) -> None:
    """Switching private -> public withdraws every hash from Redis."""
    await start_controller()
    await private_deployment(api, "iris", app=HASH_APP)
    await eventually(lambda: _expect(credentials(redis, "iris"), {"app": HASH_APP}))
    await update_deployment(api, "iris", endpoint=Endpoint("public", ("app",)))

    async def public() -> None:
        route = await route_of(redis, "iris")
        assert route is not None
        assert route.access is Access.PUBLIC
        assert await credentials(redis, "iris") == {}

    await eventually(public)


async def _published(api: Kube, redis: Redis) -> None:
    await private_deployment(api, "iris", app=HASH_APP, web=HASH_WEB)
    await create_deployment(api, "open")
    await wait_phase(api, "iris", "Deployed")
    await wait_phase(api, "open", "Deployed")
    await eventually(lambda: _expect(credentials(redis, "iris"),
                                     {"app": HASH_APP, "web": HASH_WEB}))


async def _restored(redis: Redis) -> None:
    assert await route_of(redis, "iris") is not None
    assert await route_of(redis, "open") is not None
    assert await credentials(redis, "iris") == {"app": HASH_APP, "web": HASH_WEB}
    assert await redis.exists(EPOCH_KEY)


async def test_flushall_is_detected_and_repaired_within_a_second(
        api: Kube, redis: Redis, start_controller: StartController) -> None:
    """After FLUSHALL every route, hash and the epoch are back within a second, long before
    the periodic resync would have run."""
    await start_controller(resync_period=60)
    await _published(api, redis)
    await redis.flushall()
    loop = asyncio.get_running_loop()
    flushed_at = loop.time()
    await eventually(lambda: _restored(redis), deadline=5.0)
    assert loop.time() - flushed_at < 1.0


async def test_a_redis_restarted_empty_is_republished_at_once(
        api: Kube, redis: Redis, redis_server: RedisServer,
        start_controller: StartController) -> None:
    """A Redis that comes back without its data gets the whole data plane again within about
    a second of accepting connections."""
    await start_controller(resync_period=60)
    await _published(api, redis)
    redis_server.restart()
    await redis.connection_pool.disconnect()  # the test's own connections died with Redis
    loop = asyncio.get_running_loop()
    restarted_at = loop.time()
    await eventually(lambda: _restored(redis), deadline=5.0)
    assert loop.time() - restarted_at < 2.0


async def test_kubectl_delete_cleans_redis_through_the_finalizer(
        api: Kube, redis: Redis, start_controller: StartController) -> None:
    """A plain API delete (what kubectl does) still removes route, hashes and the Secret."""
    await start_controller()
    await private_deployment(api, "iris", app=HASH_APP)
    await eventually(lambda: _expect(credentials(redis, "iris"), {"app": HASH_APP}))
    stored = await api.get(PHDEPLOYMENTS, namespace=NAMESPACE, name="iris")
    assert "model-gateway.io/data-plane" in stored["metadata"]["finalizers"]
    await api.delete(PHDEPLOYMENTS, namespace=NAMESPACE, name="iris")

    async def cleaned() -> None:
        assert await route_of(redis, "iris") is None
        assert await credentials(redis, "iris") == {}
        await absent(lambda: api.get(PHDEPLOYMENTS, namespace=NAMESPACE, name="iris"))
        await absent(lambda: api.get(SECRETS, namespace=NAMESPACE,
                                     name=clientsecrets.secret_name("iris")))

    await eventually(cleaned)


async def test_hash_upgrades_apply_only_over_the_hash_they_replace(
        api: Kube, redis: Redis, start_controller: StartController) -> None:
    """Over the stored legacy hash: applied and republished; stale: dropped; both settled."""
    legacy = "$apr1$salt$legacyhash"
    await start_controller()
    await private_deployment(api, "iris", app=legacy, web=HASH_WEB)
    await eventually(lambda: _expect(credentials(redis, "iris"), {"app": legacy,
                                                                  "web": HASH_WEB}))
    await request_hash_upgrade(redis, upgrade=HashUpgrade("iris", "app", legacy, HASH_APP))
    await request_hash_upgrade(redis, upgrade=HashUpgrade("iris", "web", "$apr1$old$gone",
                                                          "$pbkdf2-sha256$stale"))

    async def applied() -> None:
        assert await pending_hash_upgrades(redis) == []
        secret = await api.get(SECRETS, namespace=NAMESPACE,
                               name=clientsecrets.secret_name("iris"))
        assert secretdata.decode(secret) == {"app": HASH_APP, "web": HASH_WEB}
        assert await credentials(redis, "iris") == {"app": HASH_APP, "web": HASH_WEB}

    await eventually(applied)


async def _expect(found: Awaitable[dict[str, str]], wanted: dict[str, str]) -> None:
    assert await found == wanted


async def test_a_client_token_expiry_is_published_with_its_hash(
        api: Kube, redis: Redis, start_controller: StartController) -> None:
    """Details written beside a hash reach Redis with it; a new token without expiry, bare."""
    await start_controller()
    await private_deployment(api, "iris", app=HASH_APP)
    await wait_phase(api, "iris", "Deployed")
    view = phdeployments.parse(await api.get(PHDEPLOYMENTS, namespace=NAMESPACE, name="iris"))
    expires_at = "2040-01-01T00:00:00+00:00"
    await clientsecrets.put_client(api, deployment=view, client="app", hash_=HASH_WEB,
                                   details=clientsecrets.ClientDetails(expires_at=expires_at))
    expiring = {"app": encode_credential((CredentialKey(HASH_WEB, 2208988800.0),))}
    await eventually(lambda: _expect(credentials(redis, "iris"), expiring))
    await clientsecrets.put_client(api, deployment=view, client="app", hash_=HASH_APP)
    await eventually(lambda: _expect(credentials(redis, "iris"), {"app": HASH_APP}))
