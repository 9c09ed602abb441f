"""Deployment clients: a 256-bit token returned once, only its hash stored, in the owned Secret."""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import sdkdocs
from apikit import Api, World, deployment, eventually
from redis.asyncio import Redis
from redis_server import RedisServer

from gateway.kube import clientsecrets, phdeployments
from gateway.kube.client import SECRETS, Kube
from gateway.kube.errors import NotFound
from gateway.kube.phdeployments import PHDEPLOYMENTS
from proxy.hashing import make_context
from proxy.usage import UsageRecorder

CLIENT = """mutation ($data: PhDeploymentClientCreateInput!) {
  createPhDeploymentClient(data: $data) { name plainTextToken } }"""
DELETE_CLIENT = """mutation ($where: PhDeploymentClientWhereUniqueInput!) {
  deletePhDeploymentClient(where: $where) { id endpointClients { name } } }"""
CONTEXT = make_context()


async def stored_hashes(kube: Kube, deployment_id: str) -> dict[str, str]:
    secret = await kube.get(SECRETS, namespace="default",
                            name=clientsecrets.secret_name(deployment_id))
    return dict(clientsecrets.parse(secret).hashes)


async def test_a_client_token_is_returned_once_and_stored_as_a_hash(
        data_plane: str, api: Api, world: World, kubeclient: Kube) -> None:
    """The plain token verifies against the stored hash; the CR holds only the name."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00001",
                                                       endpointAccessType="private")},
                   token=world.alice)
    made = (await api.data(CLIENT, {"data": {"deploymentId": "iris-00001", "name": "app"}},
                           token=world.alice, form=True))["createPhDeploymentClient"]
    token = made["plainTextToken"]
    assert made["name"] == "app"
    assert token.startswith("mgc_")
    assert len(token) == 47

    hashes = await stored_hashes(kubeclient, "iris-00001")
    assert list(hashes) == ["app"]
    assert hashes["app"].startswith("$pbkdf2-sha256$")
    assert CONTEXT.verify(token, hashes["app"])

    secret = await kubeclient.get(SECRETS, namespace="default", name="deploy-iris-00001-clients")
    resource = await kubeclient.get(PHDEPLOYMENTS, namespace="default", name="iris-00001")
    assert secret["metadata"]["ownerReferences"][0]["uid"] == resource["metadata"]["uid"]
    assert resource["spec"]["endpoint"]["clients"] == [{"name": "app"}]
    assert hashes["app"] not in json.dumps(resource)
    assert token not in json.dumps(resource)

    got = await api.data(sdkdocs.GET, {"where": {"id": "iris-00001"}}, token=world.alice)
    assert got["phDeployment"]["endpointClients"] == [{"name": "app"}]
    assert hashes["app"] not in json.dumps(got)


async def test_a_same_named_client_is_replaced(data_plane: str, api: Api, world: World,
                                               kubeclient: Kube) -> None:
    """Creating a client again replaces its token: the old one stops matching."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00002",
                                                       endpointAccessType="private")},
                   token=world.alice)
    variables = {"data": {"deploymentId": "iris-00002", "name": "app"}}
    first = (await api.data(CLIENT, variables, token=world.alice))["createPhDeploymentClient"]
    second = (await api.data(CLIENT, variables, token=world.alice))["createPhDeploymentClient"]
    assert first["plainTextToken"] != second["plainTextToken"]
    stored = (await stored_hashes(kubeclient, "iris-00002"))["app"]
    assert CONTEXT.verify(second["plainTextToken"], stored)
    assert not CONTEXT.verify(first["plainTextToken"], stored)
    resource = phdeployments.parse(await kubeclient.get(PHDEPLOYMENTS, namespace="default",
                                                        name="iris-00002"))
    assert resource.spec.endpoint.clients == ("app",)
    assert resource.spec.update_message == "Create the client app"


async def test_deleting_a_client_removes_name_and_hash(data_plane: str, api: Api, world: World,
                                                       kubeclient: Kube) -> None:
    """deletePhDeploymentClient removes the spec name and the Secret key; unknown names fail."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00003",
                                                       endpointAccessType="private")},
                   token=world.alice)
    for name in ("app", "batch"):
        await api.data(CLIENT, {"data": {"deploymentId": "iris-00003", "name": name}},
                       token=world.alice)
    left = await api.data(DELETE_CLIENT, {"where": {"deploymentId": "iris-00003",
                                                    "name": "app"}}, token=world.alice)
    assert left["deletePhDeploymentClient"]["endpointClients"] == [{"name": "batch"}]
    assert list(await stored_hashes(kubeclient, "iris-00003")) == ["batch"]
    error = await api.error(DELETE_CLIENT, {"where": {"deploymentId": "iris-00003",
                                                      "name": "app"}}, token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "name"}


async def test_clients_of_unknown_deployments_are_not_found(api: Api, world: World) -> None:
    """A client for a deployment that does not exist: PrimeHub's not-found sentence."""
    error = await api.error(CLIENT, {"data": {"deploymentId": "ghost-0001", "name": "app"}},
                            token=world.alice)
    assert error["message"] == 'phdeployments.primehub.io "ghost-0001" not found'


async def test_switching_to_public_drops_clients_and_hashes(data_plane: str, api: Api,
                                                            world: World,
                                                            kubeclient: Kube) -> None:
    """A deployment made public loses its clients: names and hashes both go."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00004",
                                                       endpointAccessType="private")},
                   token=world.alice)
    await api.data(CLIENT, {"data": {"deploymentId": "iris-00004", "name": "app"}},
                   token=world.alice)
    updated = await api.data(sdkdocs.UPDATE, {"where": {"id": "iris-00004"}, "data": {
        "endpointAccessType": "public"}}, token=world.alice)
    assert updated["updatePhDeployment"]["endpointClients"] == []
    assert await stored_hashes(kubeclient, "iris-00004") == {}


async def test_deleting_a_deployment_leaves_no_client_secret_behind(
        data_plane: str, api: Api, world: World, kubeclient: Kube) -> None:
    """The clients Secret is owned by the deployment: garbage-collected with it."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00005",
                                                       endpointAccessType="private")},
                   token=world.alice)
    await api.data(CLIENT, {"data": {"deploymentId": "iris-00005", "name": "app"}},
                   token=world.alice)
    await api.data(sdkdocs.DELETE, {"where": {"id": "iris-00005"}}, token=world.alice)


    async def gone() -> None:
        try:
            await stored_hashes(kubeclient, "iris-00005")
        except NotFound:
            return
        raise AssertionError("the clients Secret is still there")

    await eventually(gone)


CLIENTS = """query ($where: PhDeploymentWhereUniqueInput!) {
  phDeployment(where: $where) { endpointClients { name createdAt createdBy expiresAt } } }"""


async def test_a_client_may_expire_and_shows_who_made_it_and_when(
        data_plane: str, api: Api, world: World, kubeclient: Kube) -> None:
    """expiresAt is kept beside the hash (never the token) and listed with creator and time."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00006",
                                                       endpointAccessType="private")},
                   token=world.alice)
    expires = datetime.now(UTC) + timedelta(days=1)
    made = (await api.data(CLIENT, {"data": {
        "deploymentId": "iris-00006", "name": "app", "expiresAt": expires.isoformat()}},
        token=world.alice))["createPhDeploymentClient"]
    await api.data(CLIENT, {"data": {"deploymentId": "iris-00006", "name": "batch"}},
                   token=world.alice)
    listed = (await api.data(CLIENTS, {"where": {"id": "iris-00006"}}, token=world.alice)
              )["phDeployment"]["endpointClients"]
    assert [(c["name"], c["createdBy"], c["expiresAt"]) for c in listed] == [
        ("app", "alice", expires.isoformat()), ("batch", "alice", None)]
    created = datetime.fromisoformat(listed[0]["createdAt"])
    assert abs((created - datetime.now(UTC)).total_seconds()) < 600
    secret = await kubeclient.get(SECRETS, namespace="default", name="deploy-iris-00006-clients")
    details = clientsecrets.parse(secret).details
    assert details["app"].expires() == expires.timestamp()
    assert made["plainTextToken"] not in json.dumps(secret)


@pytest.mark.parametrize(("expires_at", "why"), [
    ("2001-01-01T00:00:00Z", "must be in the future"),
    ("next tuesday", "is not an ISO 8601 time"),
])
async def test_a_bad_expiry_is_refused_and_creates_nothing(
        data_plane: str, api: Api, world: World, kubeclient: Kube, expires_at: str,
        why: str) -> None:
    """An expiresAt in the past or not a time: BAD_USER_INPUT naming it; no client, no hash."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00007",
                                                       endpointAccessType="private")},
                   token=world.alice)
    error = await api.error(CLIENT, {"data": {"deploymentId": "iris-00007", "name": "app",
                                              "expiresAt": expires_at}}, token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "expiresAt"}
    assert why in error["message"]
    resource = await kubeclient.get(PHDEPLOYMENTS, namespace="default", name="iris-00007")
    assert resource["spec"]["endpoint"].get("clients", []) == []
    with contextlib.suppress(NotFound):  # no Secret at all is fine too
        assert await stored_hashes(kubeclient, "iris-00007") == {}


ROTATE = """mutation ($data: PhDeploymentClientRotateInput!) {
  rotatePhDeploymentClient(data: $data) { name plainTextToken } }"""


async def test_rotation_keeps_both_hashes_and_lists_when(
        data_plane: str, api: Api, world: World, kubeclient: Kube) -> None:
    """Rotating stores the new hash and keeps the old one beside it with the overlap's end;
    creating the client again or deleting it drops the old one."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00008",
                                                       endpointAccessType="private")},
                   token=world.alice)
    first = (await api.data(CLIENT, {"data": {"deploymentId": "iris-00008", "name": "app"}},
                            token=world.alice))["createPhDeploymentClient"]["plainTextToken"]
    before = datetime.now(UTC)
    rotated = (await api.data(ROTATE, {"data": {
        "deploymentId": "iris-00008", "name": "app", "overlapSeconds": 300}},
        token=world.alice))["rotatePhDeploymentClient"]
    second = rotated["plainTextToken"]
    assert rotated["name"] == "app"
    assert second != first
    secret = await kubeclient.get(SECRETS, namespace="default", name="deploy-iris-00008-clients")
    stored = clientsecrets.parse(secret)
    assert CONTEXT.verify(second, stored.hashes["app"])
    assert CONTEXT.verify(first, stored.previous["app"])
    assert list(stored.hashes) == ["app"]
    ends = stored.details["app"].previous_expires()
    assert ends is not None
    assert 299 <= ends - before.timestamp() <= 900
    assert first not in json.dumps(secret)
    assert second not in json.dumps(secret)
    listed = (await api.data(CLIENTS.replace("expiresAt", "expiresAt rotatedAt"),
                             {"where": {"id": "iris-00008"}}, token=world.alice)
              )["phDeployment"]["endpointClients"]
    assert listed[0]["rotatedAt"] is not None
    await api.data(CLIENT, {"data": {"deploymentId": "iris-00008", "name": "app"}},
                   token=world.alice)
    assert (await stored_hashes(kubeclient, "iris-00008")).keys() == {"app"}
    await api.data(ROTATE, {"data": {"deploymentId": "iris-00008", "name": "app"}},
                   token=world.alice)
    await api.data(DELETE_CLIENT, {"where": {"deploymentId": "iris-00008", "name": "app"}},
                   token=world.alice)
    assert await stored_hashes(kubeclient, "iris-00008") == {}


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "ghost", "overlapSeconds": 10}, "name"),
    ({"name": "app", "overlapSeconds": -1}, "overlapSeconds"),
    ({"name": "app", "overlapSeconds": 7 * 24 * 3600 + 1}, "overlapSeconds"),
])
async def test_a_bad_rotation_is_refused_and_changes_nothing(
        data_plane: str, api: Api, world: World, kubeclient: Kube, data: dict[str, object],
        field: str) -> None:
    """An unknown client or an overlap outside 0 s to a week: BAD_USER_INPUT naming it."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00009",
                                                       endpointAccessType="private")},
                   token=world.alice)
    await api.data(CLIENT, {"data": {"deploymentId": "iris-00009", "name": "app"}},
                   token=world.alice)
    before = await stored_hashes(kubeclient, "iris-00009")
    error = await api.error(ROTATE, {"data": {"deploymentId": "iris-00009", **data}},
                            token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert await stored_hashes(kubeclient, "iris-00009") == before


LAST_USED = """query ($where: PhDeploymentWhereUniqueInput!) {
  phDeployment(where: $where) { endpointClients { name lastUsedAt } } }"""


async def test_last_use_comes_from_the_proxies_usage_counters(
        data_plane: str, api: Api, world: World, redis_server: RedisServer,
        redis: Redis) -> None:
    """lastUsedAt is what the proxies' usage flush wrote; null before any use, and null (not
    an error) when Redis cannot be reached."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00010",
                                                       endpointAccessType="private")},
                   token=world.alice)
    for name in ("app", "idle"):
        await api.data(CLIENT, {"data": {"deploymentId": "iris-00010", "name": name}},
                       token=world.alice)
    where = {"where": {"id": "iris-00010"}}
    recorder = UsageRecorder(redis=redis, interval=1.0, clock=lambda: 1900000000.25)
    recorder.record("iris-00010", "app")
    await recorder.flush()
    listed = (await api.data(LAST_USED, where, token=world.alice))["phDeployment"]
    assert listed["endpointClients"] == [
        {"name": "app", "lastUsedAt": "2030-03-17T17:46:40.250000+00:00"},
        {"name": "idle", "lastUsedAt": None}]
    redis_server.stop()
    listed = (await api.data(LAST_USED, where, token=world.alice))["phDeployment"]
    assert [client["lastUsedAt"] for client in listed["endpointClients"]] == [None, None]


async def test_a_client_is_deleted_with_a_logged_reason(
        data_plane: str, api: Api, world: World, caplog: pytest.LogCaptureFixture) -> None:
    """deletePhDeploymentClient takes an optional one-line reason, logged with the actor; a
    reason with a line break is refused and deletes nothing."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00011",
                                                       endpointAccessType="private")},
                   token=world.alice)
    await api.data(CLIENT, {"data": {"deploymentId": "iris-00011", "name": "app"}},
                   token=world.alice)
    with_reason = DELETE_CLIENT.replace(
        "($where: PhDeploymentClientWhereUniqueInput!)",
        "($where: PhDeploymentClientWhereUniqueInput!, $reason: String)").replace(
        "(where: $where)", "(where: $where, reason: $reason)")
    where = {"deploymentId": "iris-00011", "name": "app"}
    error = await api.error(with_reason, {"where": where, "reason": "leaked\nin a ticket"},
                            token=world.alice)
    assert error["extensions"]["field"] == "reason"
    caplog.set_level(logging.INFO, logger="schema.mutations")
    left = await api.data(with_reason, {"where": where, "reason": "leaked in a ticket"},
                          token=world.alice)
    assert left["deletePhDeploymentClient"]["endpointClients"] == []
    [record] = [r for r in caplog.records if r.name == "schema.mutations"]
    fields = record.fields  # type: ignore[attr-defined]
    assert (fields["client"], fields["actor"], fields["reason"]) == (
        "app", "alice", "leaked in a ticket")
