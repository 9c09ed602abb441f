"""Live updates over graphql-transport-ws, with a real WebSocket client against the real API
and the local cluster: one deployment's changes, the list's changes, authorization, and the
console's session cookie on the handshake."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiohttp
import pytest
import sdkdocs
from apikit import CREATE_TOKEN, Api, World, deployment
from sessionkit import sign_in, with_session
from wskit import connected

from gateway.kube.client import Kube
from gateway.kube.phdeployments import PHDEPLOYMENTS

ONE = """subscription ($where: PhDeploymentWhereUniqueInput!) {
  phDeployment(where: $where) { id status message availableReplicas pods { name } } }"""
LIST = """subscription ($where: PhDeploymentWhereInput) {
  phDeployments(where: $where) { type id deployment { id status groupId } } }"""


async def deployed(kube: Kube, name: str) -> None:
    """Write the status the controller writes once the deployment is available."""
    await kube.patch(PHDEPLOYMENTS, namespace="default", name=name, subresource="status",
                     body={"status": {"phase": "Deployed", "observedGeneration": 1,
                                      "availableReplicas": 1, "replicas": 1,
                                      "message": "Deployment is deployed and available now"}})


async def test_a_deployment_streams_its_status(api: Api, world: World, kubeclient: Kube) -> None:
    """The subscription sends the deployment now, then its new status once the controller
    writes it, then null when it is deleted, and completes."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00001")}, token=world.alice)
    async with connected(api, token=world.alice) as socket:
        await socket.subscribe("1", ONE, {"where": {"id": "iris-00001"}})
        first = (await socket.next("1"))["phDeployment"]
        assert (first["id"], first["status"]) == ("iris-00001", "Deploying")
        await deployed(kubeclient, "iris-00001")
        now = (await socket.next("1"))["phDeployment"]
        assert (now["status"], now["availableReplicas"]) == ("Deployed", 1)
        await api.data(sdkdocs.DELETE, {"where": {"id": "iris-00001"}}, token=world.alice)
        while (await socket.next("1"))["phDeployment"] is not None:
            pass  # the deletion may be seen in steps (stop, then gone)
        assert await socket.receive() == {"id": "1", "type": "complete"}


@pytest.mark.parametrize(("who", "code"), [("bob", "NOT_AUTH"), (None, "NOT_AUTH")])
async def test_subscribing_is_authorized_as_querying(api: Api, world: World, who: str | None,
                                                     code: str) -> None:
    """A non-member, or nobody, gets the query's error and no data."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00002")}, token=world.alice)
    async with connected(api, token=getattr(world, who) if who else None) as socket:
        await socket.subscribe("1", ONE, {"where": {"id": "iris-00002"}})
        message = await socket.receive()
        errors = message["payload"] if message["type"] == "error" else \
            message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == code


async def test_the_list_streams_what_the_caller_may_see(api: Api, world: World,
                                                        kubeclient: Kube) -> None:
    """Members get their groups' additions, changes and deletions; other groups' never."""
    async with connected(api, token=world.alice) as socket:
        await socket.subscribe("all", LIST)
        await api.data(sdkdocs.CREATE, {"data": deployment("bobs-00001", group="team-b")},
                       token=world.bob)
        await api.data(sdkdocs.CREATE, {"data": deployment("iris-00003")}, token=world.alice)
        added = (await socket.next("all"))["phDeployments"]
        assert (added["type"], added["id"], added["deployment"]["groupId"]) == (
            "ADDED", "iris-00003", "team-a")
        await deployed(kubeclient, "iris-00003")
        changed = (await socket.next("all"))["phDeployments"]
        assert (changed["type"], changed["deployment"]["status"]) == ("MODIFIED", "Deployed")
        await api.data(sdkdocs.DELETE, {"where": {"id": "iris-00003"}}, token=world.alice)
        while (event := (await socket.next("all"))["phDeployments"])["type"] != "DELETED":
            assert event["id"] == "iris-00003"
        assert event == {"type": "DELETED", "id": "iris-00003", "deployment": None}


async def test_the_list_follows_its_filter(api: Api, world: World) -> None:
    """With ``where``, a deployment that stops matching leaves the list (DELETED)."""
    async with connected(api, token=world.root) as socket:
        await socket.subscribe("mine", LIST, {"where": {"mine": True}})
        await api.data(sdkdocs.CREATE, {"data": deployment("iris-00004")}, token=world.root)
        assert (await socket.next("mine"))["phDeployments"]["type"] == "ADDED"
        await api.data(sdkdocs.UPDATE, {"where": {"id": "iris-00004"},
                                        "data": {"description": "by alice now"}},
                       token=world.alice)
        left = (await socket.next("mine"))["phDeployments"]
        assert (left["type"], left["id"]) == ("DELETED", "iris-00004")


async def test_the_session_cookie_opens_a_socket_from_the_same_origin(api: Api,
                                                                      world: World) -> None:
    """The console's socket is authenticated by its cookie; a page of another origin is
    refused at the handshake (cross-site WebSocket hijacking)."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00005")}, token=world.alice)
    session = await sign_in(api, world.alice)
    same = {**with_session(session, csrf=False), "Origin": api.url}
    async with connected(api, headers=same) as socket:
        await socket.subscribe("1", ONE, {"where": {"id": "iris-00005"}})
        assert (await socket.next("1"))["phDeployment"]["id"] == "iris-00005"
    other = {**with_session(session, csrf=False), "Origin": "https://evil.example.com"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with connected(api, headers=other):
            pass
    assert refused.value.status == 403


async def test_signing_out_ends_the_subscriptions_of_the_session(api: Api,
                                                                 world: World) -> None:
    """A socket opened with a session stops receiving once the session is signed out: the
    next change ends the subscription with NOT_AUTH."""
    session = await sign_in(api, world.alice)
    async with connected(api, headers={**with_session(session, csrf=False),
                                       "Origin": api.url}) as socket:
        await socket.subscribe("all", LIST)
        await api.data(sdkdocs.CREATE, {"data": deployment("iris-00006")}, token=world.alice)
        assert (await socket.next("all"))["phDeployments"]["type"] == "ADDED"
        async with api.session.delete(f"{api.url}/auth/session",
                                      headers=with_session(session)) as response:
            assert response.status == 204
        await api.data(sdkdocs.CREATE, {"data": deployment("iris-00007")}, token=world.alice)
        message = await socket.receive()
        errors = message["payload"] if message["type"] == "error" else \
            message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "NOT_AUTH"


async def test_a_rotated_out_token_ends_its_subscriptions_with_its_overlap(
        api: Api, world: World) -> None:
    """A socket opened with the value a rotation replaced lives through the overlap only: the
    first change after it ends the subscription with NOT_AUTH."""
    made = (await api.data(CREATE_TOKEN, {"data": {"username": "alice"}},
                           token=world.alice))["createApiToken"]
    rotate = """mutation ($id: ID!) { rotateApiToken(data: {id: $id, overlapSeconds: 2}) {
        apiToken { previousExpiresAt } } }"""
    ends = datetime.fromisoformat((await api.data(rotate, {"id": made["apiToken"]["id"]},
                                                  token=world.alice))[
        "rotateApiToken"]["apiToken"]["previousExpiresAt"])
    async with connected(api, token=made["token"]) as socket:
        await socket.subscribe("all", LIST)
        await api.data(sdkdocs.CREATE, {"data": deployment("iris-00008")}, token=world.alice)
        assert (await socket.next("all"))["phDeployments"]["type"] == "ADDED"
        await asyncio.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()))
        await api.data(sdkdocs.CREATE, {"data": deployment("iris-00009")}, token=world.alice)
        message = await socket.receive()
        errors = message["payload"] if message["type"] == "error" else \
            message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "NOT_AUTH"
