"""A client token works the moment it is returned: the API waits for the controller's publish.

Real API, real controller, real Redis. "Works" is checked where the proxy checks it: the hash
the proxy would read from Redis (``mg:clients:<id>``) right after the mutation returns. The
proxy itself, in front of a real model, is the end-to-end test ``tests/e2e``.
"""

from __future__ import annotations

from dataclasses import replace

import sdkdocs
from apikit import Api, StartApi, World, deployment
from redis.asyncio import Redis
from redis_server import RedisServer

from gateway.kube import clientsecrets, phdeployments
from gateway.kube.client import Kube
from gateway.kube.phdeployments import Endpoint
from proxy.hashing import make_context
from proxy.records import clients_key

CLIENT = """mutation ($data: PhDeploymentClientCreateInput!) {
  createPhDeploymentClient(data: $data) { name plainTextToken } }"""
CONTEXT = make_context()


async def new_client(api: Api, token: str, deployment_id: str, name: str) -> str:
    made = await api.data(CLIENT, {"data": {"deploymentId": deployment_id, "name": name}},
                          token=token)
    plain: str = made["createPhDeploymentClient"]["plainTextToken"]
    return plain


async def test_a_returned_token_is_already_verifiable(data_plane: str, api: Api, world: World,
                                                     redis: Redis) -> None:
    """Right after createPhDeploymentClient returns, Redis holds the hash that verifies the
    token, for every one of several clients created back to back (and for a replaced one)."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-ready", group="team-b",
                                                       endpointAccessType="private")},
                   token=world.bob)
    for name in ("app", "batch", "cron", "app"):
        token = await new_client(api, world.bob, "iris-ready", name)
        stored = await redis.hget(clients_key("iris-ready"), name)
        assert stored is not None, name
        assert CONTEXT.verify(token, stored)


async def test_switching_to_private_returns_once_the_tokens_are_verifiable(
        data_plane: str, api: Api, world: World, redis: Redis) -> None:
    """A client made while public works the moment updatePhDeployment makes it private,
    every time (switching to public drops the clients, so each round has a new token)."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-switch", group="team-b")},
                   token=world.bob)
    for _ in range(5):
        token = await new_client(api, world.bob, "iris-switch", "app")
        await api.data(sdkdocs.UPDATE, {"where": {"id": "iris-switch"},
                                        "data": {"endpointAccessType": "private"}},
                       token=world.bob)
        stored = await redis.hget(clients_key("iris-switch"), "app")
        assert stored is not None
        assert CONTEXT.verify(token, stored)
        await api.data(sdkdocs.UPDATE, {"where": {"id": "iris-switch"},
                                        "data": {"endpointAccessType": "public"}},
                       token=world.bob)


async def test_an_unroutable_deployment_does_not_hold_its_clients_up(
        data_plane: str, api: Api, world: World, kubeclient: Kube) -> None:
    """A deployment the controller reports Failed and cannot route (no instance type) gets
    its client at once: there is no route a token could be refused on."""
    spec = phdeployments.DeploymentSpec(
        predictor=phdeployments.Predictor(replicas=1, model_image="m:1", instance_type="gone"),
        display_name="x", user_id="bob", user_name="bob", group_id="team-b",
        group_name="team-b", stop=False, endpoint=Endpoint(access_type="private"))
    await phdeployments.create(kubeclient, namespace="default", name="iris-lost", spec=spec)
    assert await new_client(api, world.bob, "iris-lost", "app")


async def test_a_token_the_data_plane_never_confirms_is_taken_back(
        start_api: StartApi, world: World, kubeclient: Kube, redis_server: RedisServer) -> None:
    """No controller publishing: the mutation fails with SERVICE_UNAVAILABLE after the wait,
    a new client is removed again and a replaced client keeps its old hash."""
    api = await start_api(redis_url=redis_server.url, data_plane_wait=0.3)
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-alone", group="team-b",
                                                       endpointAccessType="private")},
                   token=world.bob)
    current = await phdeployments.change_spec(
        kubeclient, namespace="default", name="iris-alone",
        change=lambda fresh: replace(fresh.spec, endpoint=Endpoint("private", ("old",))))
    await clientsecrets.put_client(kubeclient, deployment=current, client="old",
                                   hash_="$pbkdf2-sha256$29000$old")
    for name in ("new", "old"):
        error = await api.error(CLIENT, {"data": {"deploymentId": "iris-alone", "name": name}},
                                token=world.bob)
        assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
        assert error["message"] == (
            f"the token of client '{name}' could not be confirmed usable: the controller has "
            "not published them within 0.3 s; nothing was changed, try again")
    stored = await clientsecrets.hashes(kubeclient, namespace="default",
                                        deployment_id="iris-alone")
    assert stored == {"old": "$pbkdf2-sha256$29000$old"}
    got = await api.data(sdkdocs.GET, {"where": {"id": "iris-alone"}}, token=world.bob)
    assert got["phDeployment"]["endpointClients"] == [{"name": "old"}]
