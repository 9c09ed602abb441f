"""API token scopes on the running API: read, deployments:write, admin; what issuers give."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sdkdocs
from apikit import CREATE_TOKEN, Api, World, deployment, eventually
from sessionkit import post_as, sign_in

from gateway.kube import apitokens
from gateway.kube.client import Kube
from proxy.hashing import make_context

ISSUE = """mutation ($data: ApiTokenCreateInput!) {
  createApiToken(data: $data) { token apiToken { id username scopes createdBy } } }"""
LIST = "{ apiTokens { id username scopes createdBy } }"
DEPLOYMENTS = "{ phDeployments { id stop } }"


async def issue(api: Api, data: dict[str, Any], *, token: str) -> dict[str, Any]:
    made: dict[str, Any] = (await api.data(ISSUE, {"data": data}, token=token))[
        "createApiToken"]
    return made


async def test_a_read_token_queries_but_every_mutation_is_refused(api: Api,
                                                                  world: World) -> None:
    """A read token reads what its user sees; any mutation, however it is spelled (alias,
    fragment, beside a query field), is FORBIDDEN naming the scope, and nothing runs."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00001")}, token=world.alice)
    reader = (await issue(api, {"username": "alice", "scopes": ["read"]},
                          token=world.alice))["token"]
    seen = (await api.data(DEPLOYMENTS, token=reader))["phDeployments"]
    assert [item["id"] for item in seen] == ["iris-00001"]
    create = 'createPhDeployment(data: {id: "iris-00002", name: "iris", groupId: "team-a", ' \
             'instanceType: "cpu-1", modelImage: "infuseai/sklearn-prepackaged:v0.1.0", ' \
             'replicas: 1}) { id }'
    for document in (
            "mutation { " + create + " }",
            "mutation { __typename made: " + create + " }",
            "mutation { ...F } fragment F on Mutation { " + create + " }",
            'mutation { stopPhDeployment(where: {id: "iris-00001"}) { id } }',
            'mutation { createPhDeploymentClient(data: {deploymentId: "iris-00001", '
            'name: "app"}) { plainTextToken } }',
            'mutation { createApiToken(data: {username: "alice", scopes: ["read"]}) '
            "{ token } }"):
        result = await api.post(document, token=reader)
        assert result["data"] is None, document
        [error] = result["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN", document
        assert error["extensions"]["scope"] == "deployments:write"
        assert "needs a token with the deployments:write scope; this token has read" in \
            error["message"]
    seen = (await api.data(DEPLOYMENTS, token=world.alice))["phDeployments"]
    assert seen == [{"id": "iris-00001", "stop": False}]
    listed = (await api.data(LIST, token=world.alice))["apiTokens"]
    assert sorted(token["scopes"][0] for token in listed) == ["deployments:write", "read"]


async def test_a_write_token_manages_deployments_but_no_admin_things(api: Api,
                                                                     world: World) -> None:
    """An admin's deployments:write token manages deployments in any group, but group,
    instance type and other users' token mutations need the admin scope (FORBIDDEN)."""
    writer = (await issue(api, {"username": "root", "admin": True,
                                "scopes": ["deployments:write"]}, token=world.root))["token"]
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00003", group="team-b")},
                   token=writer)
    for document, mutation in (
            ('mutation { createGroup(data: {name: "team-x"}) { id } }', "createGroup"),
            ('mutation { deleteInstanceType(where: {id: "cpu-1"}) { id } }',
             "deleteInstanceType")):
        error = await api.error(document, token=writer)
        assert error["extensions"] == {"code": "FORBIDDEN", "scope": "admin",
                                       "mutation": mutation}
    error = await api.error(ISSUE, {"data": {"username": "bob"}}, token=writer)
    assert error["extensions"] == {"code": "FORBIDDEN", "field": "username"}
    assert len((await api.data(LIST, token=writer))["apiTokens"]) == 5  # reading is read
    await api.data('{ group(where: {id: "team-b"}) { id } }', token=writer)


async def test_a_token_never_grants_more_than_its_issuer(api: Api, world: World) -> None:
    """A member issues tokens for themselves only, never admin, never wider than their own
    (FORBIDDEN naming the field); unknown or empty scopes are BAD_USER_INPUT; none is made."""
    before = (await api.data(LIST))["apiTokens"]
    for data, code, field in (
            ({"username": "bob"}, "FORBIDDEN", "username"),
            ({"username": "alice", "admin": True}, "FORBIDDEN", "admin"),
            ({"username": "alice", "scopes": ["admin"]}, "FORBIDDEN", "scopes"),
            ({"username": "alice", "scopes": ["write"]}, "BAD_USER_INPUT", "scopes"),
            ({"username": "alice", "scopes": []}, "BAD_USER_INPUT", "scopes")):
        error = await api.error(ISSUE, {"data": data}, token=world.alice)
        assert error["extensions"] == {"code": code, "field": field}, data
    error = await api.error(ISSUE, {"data": {"username": "bob", "scopes": ["admin"]}},
                            token=world.root)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "scopes"}
    assert (await api.data(LIST))["apiTokens"] == before

    mine = await issue(api, {"username": "alice", "scopes": ["read"]}, token=world.alice)
    assert mine["apiToken"]["scopes"] == ["read"]
    assert mine["apiToken"]["createdBy"] == "alice"
    default = await issue(api, {"username": "alice"}, token=world.alice)
    assert default["apiToken"]["scopes"] == ["deployments:write"]
    root_made = await issue(api, {"username": "dave", "admin": True}, token=world.root)
    assert root_made["apiToken"]["scopes"] == ["admin"]
    assert {token["username"] for token in (await api.data(LIST, token=world.alice))[
        "apiTokens"]} == {"alice"}
    bobs = [token["id"] for token in (await api.data(LIST))["apiTokens"]
            if token["username"] == "bob"]
    error = await api.error("""mutation ($id: ID!) { revokeApiToken(where: {id: $id}) {
        id } }""", {"id": bobs[0]}, token=world.alice)
    assert error["extensions"]["code"] == "RESOURCE_NOT_FOUND"
    await api.data("{ me { username } }", token=world.bob)


async def test_a_token_stored_without_scopes_keeps_its_rights(api: Api, world: World,
                                                              kubeclient: Kube) -> None:
    """A token Secret written before scopes existed still acts with its user's full rights
    and lists them as its scopes."""
    token = "mga_00000000beef_" + "A" * 43
    await apitokens.create(kubeclient, namespace="default", token=apitokens.ApiToken(
        id="00000000beef", username="alice", admin=False, created=datetime.now(UTC),
        hash=make_context().hash(token)))

    async def listed() -> list[str]:
        found = (await api.data(LIST))["apiTokens"]
        return next(entry["scopes"] for entry in found if entry["id"] == "00000000beef")

    async def cached() -> None:
        assert await listed() == ["deployments:write"]

    await eventually(cached)
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00004")}, token=token)
    made = await api.data(CREATE_TOKEN, {"data": {"username": "alice", "scopes": ["read"]}},
                          token=token)
    assert made["createApiToken"]["token"].startswith("mga_")


async def test_a_session_acts_with_the_scopes_of_its_token(api: Api, world: World) -> None:
    """me names the acting token and its scopes; a console session signed in with a read
    token is a read session (its mutations FORBIDDEN), and names that token."""
    me = "{ me { username scopes apiTokenId } }"
    bootstrap = (await api.data(me))["me"]
    assert (bootstrap["scopes"], bootstrap["apiTokenId"]) == (["admin"], "bootstrap")
    made = await issue(api, {"username": "alice", "scopes": ["read"]}, token=world.alice)
    token_id = made["apiToken"]["id"]
    assert (await api.data(me, token=made["token"]))["me"] == {
        "username": "alice", "scopes": ["read"], "apiTokenId": token_id}
    session = await sign_in(api, made["token"])
    assert (await post_as(api, session, me))["data"]["me"] == {
        "username": "alice", "scopes": ["read"], "apiTokenId": token_id}
    refused = await post_as(api, session, 'mutation { createApiToken(data: {username: '
                            '"alice", scopes: ["read"]}) { token } }')
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
