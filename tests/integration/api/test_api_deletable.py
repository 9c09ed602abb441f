"""Whatever the API can create, it can delete; what it cannot delete, it must not create.

Each kind is created through the real API with names at the edges of what validation accepts
(shortest, longest, every allowed punctuation), deleted through the API, and checked gone from
both the API and the cluster. Values ending in a newline, which ``re.match`` with ``$`` used to
let through and which could then never be deleted, are refused with ``BAD_USER_INPUT``.
"""

from __future__ import annotations

import pytest
import sdkdocs
from apikit import Api, World, deployment

from gateway.kube import apitokens
from gateway.kube.client import SECRETS, Kube, Resource
from gateway.kube.errors import NotFound
from gateway.kube.groups import GROUPS
from gateway.kube.instancetypes import INSTANCETYPES
from gateway.kube.phdeployments import PHDEPLOYMENTS

CREATE_GROUP = """mutation ($data: GroupCreateInput!) { createGroup(data: $data) { id } }"""
CREATE_TYPE = """mutation ($data: InstanceTypeCreateInput!) {
  createInstanceType(data: $data) { id } }"""
CREATE_TOKEN = """mutation ($data: ApiTokenCreateInput!) {
  createApiToken(data: $data) { apiToken { id } } }"""
CLIENT = """mutation ($data: PhDeploymentClientCreateInput!) {
  createPhDeploymentClient(data: $data) { name } }"""
DELETE_CLIENT = """mutation ($where: PhDeploymentClientWhereUniqueInput!) {
  deletePhDeploymentClient(where: $where) { endpointClients { name } } }"""


async def absent(kube: Kube, resource: Resource, name: str) -> None:
    with pytest.raises(NotFound):
        await kube.get(resource, namespace="default", name=name)


@pytest.mark.parametrize("name", ["0", "a" * 63, "9-z--0"])
async def test_groups_with_edge_names_are_deleted(api: Api, world: World, kubeclient: Kube,
                                                  name: str) -> None:
    """A group created with any accepted name is deleted by deleteGroup."""
    await api.data(CREATE_GROUP, {"data": {"name": name, "displayName": "Zoë's team ✓",
                                           "members": ["Zoë O'Brien <zoe@example.com>"]}})
    deleted = await api.data("mutation ($id: ID!) { deleteGroup(where: {id: $id}) { id } }",
                             {"id": name})
    assert deleted["deleteGroup"] == {"id": name}
    assert name not in [group["id"] for group in (await api.data("{ groups { id } }"))["groups"]]
    await absent(kubeclient, GROUPS, name)


@pytest.mark.parametrize("name", ["0", "a.b-c.0", "x" * 253, "a--b.c--d"])
async def test_instance_types_with_edge_names_are_deleted(api: Api, world: World,
                                                          kubeclient: Kube, name: str) -> None:
    """An instance type created with any accepted name is deleted by deleteInstanceType."""
    await api.data(CREATE_TYPE, {"data": {
        "name": name, "cpuLimit": 1, "memoryLimit": 1, "description": "two\nlines",
        "nodeSelector": {"example.com/pool-name": "a.b_c-d"},
        "tolerations": [{"key": "k8s.io/x", "operator": "Equal", "value": "v_1",
                         "effect": "NoSchedule"}]}})
    deleted = await api.data("mutation ($id: ID!) { deleteInstanceType(where: {id: $id}) "
                             "{ id } }", {"id": name})
    assert deleted["deleteInstanceType"] == {"id": name}
    await absent(kubeclient, INSTANCETYPES, name)


@pytest.mark.parametrize("username", ["x", "Zoë O'Brien <zoe@example.com>", "u" * 256])
async def test_api_tokens_for_any_accepted_user_are_revoked(api: Api, world: World,
                                                            kubeclient: Kube,
                                                            username: str) -> None:
    """An API token issued for any accepted username is removed by revokeApiToken."""
    made = await api.data(CREATE_TOKEN, {"data": {"username": username,
                                                  "description": "ci ✓"}})
    token_id = made["createApiToken"]["apiToken"]["id"]
    await api.data("mutation ($id: ID!) { revokeApiToken(where: {id: $id}) { id } }",
                   {"id": token_id})
    assert token_id not in [token["id"] for token in
                            (await api.data("{ apiTokens { id } }"))["apiTokens"]]
    await absent(kubeclient, SECRETS, apitokens.secret_name(token_id))


@pytest.mark.parametrize("deployment_id", ["0-0", "a" * 56])
async def test_deployments_and_clients_with_edge_names_are_deleted(
        api: Api, world: World, kubeclient: Kube, deployment_id: str) -> None:
    """Clients with edge names, then the deployment itself, are deleted by the API."""
    await api.data(sdkdocs.CREATE, {"data": deployment(
        deployment_id, name="Zoë's model ✓", description="line one\nline two",
        env=[{"name": "-._A", "value": "multi\nline"}], metadata={"a/b": "c\td"})},
        token=world.alice)
    for client in ("_", "a-", "_" + "9" * 62):
        await api.data(CLIENT, {"data": {"deploymentId": deployment_id, "name": client}},
                       token=world.alice)
        left = await api.data(DELETE_CLIENT, {"where": {"deploymentId": deployment_id,
                                                        "name": client}}, token=world.alice)
        assert left["deletePhDeploymentClient"]["endpointClients"] == []
    await api.data(sdkdocs.DELETE, {"where": {"id": deployment_id}}, token=world.alice)
    await absent(kubeclient, PHDEPLOYMENTS, deployment_id)


@pytest.mark.parametrize("value", ["x\n", "team-x\n", "cpu-2\r", "a\x00b"])
async def test_names_with_control_characters_are_refused(api: Api, world: World,
                                                         kubeclient: Kube, value: str) -> None:
    """Group names, instance type names and image pull secrets ending in a newline (or holding
    any control character) are BAD_USER_INPUT, and nothing is created."""
    for document, variables, field in (
            (CREATE_GROUP, {"data": {"name": value}}, "name"),
            (CREATE_TYPE, {"data": {"name": value, "cpuLimit": 1, "memoryLimit": 1}}, "name"),
            (sdkdocs.CREATE, {"data": deployment("iris-00009", imagePullSecret=value)},
             "imagePullSecret"),
            (sdkdocs.CREATE, {"data": deployment("iris-00009", instanceType=value)},
             "instanceType")):
        error = await api.error(document, variables, token=world.root)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, document
    assert (await api.data("{ groups { id } }"))["groups"] == [
        {"id": "team-a"}, {"id": "team-b"}, {"id": "team-off"}]
    await absent(kubeclient, PHDEPLOYMENTS, "iris-00009")
