"""Permissions between two groups and an admin: members act on their group, admins on all."""

from __future__ import annotations

import sdkdocs
from apikit import Api, World, deployment

CLIENT = """mutation ($data: PhDeploymentClientCreateInput!) {
  createPhDeploymentClient(data: $data) { name plainTextToken } }"""
DELETE_CLIENT = """mutation ($where: PhDeploymentClientWhereUniqueInput!) {
  deletePhDeploymentClient(where: $where) { id } }"""


async def test_members_cannot_touch_another_groups_deployment(api: Api, world: World) -> None:
    """Every read and write of team-a's deployment by bob (team-b) is NOT_AUTH."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00001")}, token=world.alice)
    await api.data(CLIENT, {"data": {"deploymentId": "iris-00001", "name": "app"}},
                   token=world.alice)
    where = {"where": {"id": "iris-00001"}}
    for document, variables in (
            (sdkdocs.GET, where), (sdkdocs.UPDATE, {**where, "data": {"replicas": 2}}),
            (sdkdocs.STOP, where), (sdkdocs.START, where), (sdkdocs.DELETE, where),
            (CLIENT, {"data": {"deploymentId": "iris-00001", "name": "mine"}}),
            (DELETE_CLIENT, {"where": {"deploymentId": "iris-00001", "name": "app"}})):
        error = await api.error(document, variables, token=world.bob)
        assert (error["message"], error["extensions"]["code"]) == ("user not auth", "NOT_AUTH")
    got = (await api.data(sdkdocs.GET, where, token=world.alice))["phDeployment"]
    assert (got["replicas"], got["stop"], got["endpointClients"]) == (1, False, [{"name": "app"}])


async def test_members_cannot_create_in_another_group(api: Api, world: World) -> None:
    """Creating a deployment in a group one is not a member of is NOT_AUTH."""
    error = await api.error(sdkdocs.CREATE, {"data": deployment("iris-00002", group="team-b")},
                            token=world.alice)
    assert error["extensions"]["code"] == "NOT_AUTH"
    error = await api.error(sdkdocs.CREATE, {"data": deployment("iris-00002", group="nobody")},
                            token=world.alice)
    assert error["extensions"]["code"] == "NOT_AUTH"


async def test_lists_show_only_the_callers_groups(api: Api, world: World) -> None:
    """Members list their groups' deployments, groupId_in cannot widen it, admins see all."""
    await api.data(sdkdocs.CREATE, {"data": deployment("alpha-0001")}, token=world.alice)
    await api.data(sdkdocs.CREATE, {"data": deployment("beta-00001", group="team-b")},
                   token=world.bob)

    async def listed(token: str, where: dict[str, object]) -> list[str]:
        found = await api.data(sdkdocs.LIST, {"where": where}, token=token, form=True)
        return sorted(item["id"] for item in found["phDeployments"])

    assert await listed(world.alice, {}) == ["alpha-0001"]
    assert await listed(world.alice, {"groupId_in": ["team-b"]}) == []
    assert await listed(world.bob, {"groupId_in": ["team-a", "team-b"]}) == ["beta-00001"]
    assert await listed(world.root, {}) == ["alpha-0001", "beta-00001"]
    assert await listed(world.root, {"groupId_in": ["team-b"]}) == ["beta-00001"]


async def test_admins_act_on_every_group(api: Api, world: World) -> None:
    """An admin token updates, stops and deletes a group's deployment without membership."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00003")}, token=world.alice)
    where = {"where": {"id": "iris-00003"}}
    await api.data(sdkdocs.UPDATE, {**where, "data": {"replicas": 0}}, token=world.root)
    await api.data(sdkdocs.STOP, where, token=world.root)
    await api.data(sdkdocs.DELETE, where, token=world.root)
    assert (await api.data(sdkdocs.LIST, {"where": {}}, token=world.alice))[
        "phDeployments"] == []


async def test_anonymous_and_bad_tokens_are_not_auth(api: Api, world: World) -> None:
    """No token, a wrong token or a malformed header: NOT_AUTH on every operation."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00004")}, token=world.alice)
    for token in (None, "nope", world.alice[:-1] + ("A" if world.alice[-1] != "A" else "B")):
        for document, variables in ((sdkdocs.LIST, {}), (sdkdocs.ME, {}),
                                    (sdkdocs.GET, {"where": {"id": "iris-00004"}}),
                                    (sdkdocs.CREATE, {"data": deployment("iris-00005")})):
            error = await api.error(document, variables, token=token)
            assert error["extensions"]["code"] == "NOT_AUTH", (token, document)


async def test_admin_operations_need_an_admin(api: Api, world: World) -> None:
    """Groups and instance types are admin-only: members get NOT_AUTH (a member's own API
    tokens: test_api_token_scopes)."""
    for document in ("{ groups { id } }", "{ instanceTypes { id } }",
                     '{ group(where: {id: "team-a"}) { id } }',
                     'mutation { createGroup(data: {name: "x"}) { id } }',
                     'mutation { updateGroup(where: {id: "team-a"}, data: {maxDeploy: 9}) '
                     "{ id } }",
                     'mutation { deleteInstanceType(where: {id: "cpu-1"}) { id } }'):
        error = await api.error(document, token=world.alice)
        assert error["extensions"]["code"] == "NOT_AUTH", document
