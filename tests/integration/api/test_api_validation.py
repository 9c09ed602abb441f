"""Every validation rule over HTTP: a clear message naming the field, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
import sdkdocs
from apikit import Api, World, deployment

from gateway.kube.client import Kube
from gateway.kube.phdeployments import PHDEPLOYMENTS

CLIENT = """mutation ($data: PhDeploymentClientCreateInput!) {
  createPhDeploymentClient(data: $data) { name plainTextToken } }"""


@pytest.mark.parametrize(("fields", "field", "text"), [
    ({"id": "Iris_1"}, "id", "must match"),
    ({"id": "ab"}, "id", "must match"),
    ({"modelImage": "   "}, "modelImage", "must not be empty"),
    ({"modelImage": None}, "modelImage", "must not be empty"),
    ({"modelURI": "ftp://host/model"}, "modelURI", "scheme"),
    ({"replicas": -1}, "replicas", "between 0 and 20"),
    ({"replicas": 21}, "replicas", "between 0 and 20"),
    ({"metadata": {"k": "v" * 5000}}, "metadata.k", "at most 4096"),
    ({"metadata": {"k": {"nested": True}}}, "metadata.k", "must be a string"),
    ({"metadata": ["not", "an", "object"]}, "metadata", "object"),
    ({"env": {"A": "1"}}, "env", "list"),
    ({"env": [{"value": "1"}]}, "env[0]", "name"),
    ({"endpointAccessType": "internal"}, "endpointAccessType", "public or private"),
    ({"imagePullSecret": "Not A Secret"}, "imagePullSecret", "Secret name"),
    ({"name": "n" * 300}, "name", "at most 256"),
    ({"instanceType": ""}, "instanceType", "instance type"),
    ({"groupId": None}, "groupId", "must name a group"),
])
async def test_bad_create_input_names_the_field(api: Api, world: World, kubeclient: Kube,
                                                fields: dict[str, Any], field: str,
                                                text: str) -> None:
    """Each invalid create input is BAD_USER_INPUT naming its field; nothing is created."""
    data = deployment("iris-00001", **fields)
    error = await api.error(sdkdocs.CREATE, {"data": data}, token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert error["message"].startswith(f"{field}: ")
    assert text in error["message"]
    listed = await kubeclient.list(PHDEPLOYMENTS, namespace="default")
    assert listed["items"] == []


async def test_illegal_env_names_get_primehubs_code_and_text(api: Api, world: World) -> None:
    """An env name breaking PrimeHub's rule is ILLEGAL_ENV_NAME with PrimeHub's sentence."""
    data = deployment("iris-00002", env=[{"name": "9LIVES", "value": "x"}])
    error = await api.error(sdkdocs.CREATE, {"data": data}, token=world.alice, form=True)
    assert error["extensions"]["code"] == "ILLEGAL_ENV_NAME"
    assert error["message"].startswith('EnvVar name "9LIVES" is invalid')
    assert "[-._a-zA-Z][-._a-zA-Z0-9]*" in error["message"]


async def test_ids_are_unique(api: Api, world: World) -> None:
    """Creating a second deployment with a taken id names ``id``, whoever's group it is."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00003")}, token=world.alice)
    error = await api.error(sdkdocs.CREATE, {"data": deployment("iris-00003", group="team-b")},
                            token=world.bob)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    assert "already taken" in error["message"]


@pytest.mark.parametrize(("fields", "field"), [
    ({"replicas": 99}, "replicas"), ({"modelImage": " "}, "modelImage"),
    ({"modelURI": "mailto:x@y"}, "modelURI"), ({"metadata": {"": "x"}}, "metadata"),
    ({"endpointAccessType": "open"}, "endpointAccessType"),
])
async def test_bad_update_input_names_the_field(api: Api, world: World, fields: dict[str, Any],
                                                field: str) -> None:
    """Updates are validated as creates are, and leave the deployment unchanged."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00004")}, token=world.alice)
    where = {"where": {"id": "iris-00004"}}
    error = await api.error(sdkdocs.UPDATE, {**where, "data": fields}, token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    got = (await api.data(sdkdocs.GET, where, token=world.alice))["phDeployment"]
    assert (got["replicas"], got["endpointAccessType"]) == (1, "public")


async def test_illegal_env_names_are_refused_on_update(api: Api, world: World) -> None:
    """Env names are checked on update too (ILLEGAL_ENV_NAME)."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00005")}, token=world.alice)
    error = await api.error(sdkdocs.UPDATE, {"where": {"id": "iris-00005"}, "data": {
        "env": [{"name": "A B", "value": "1"}]}}, token=world.alice)
    assert error["extensions"]["code"] == "ILLEGAL_ENV_NAME"


@pytest.mark.parametrize("name", ["App", "9app", "a b", "", "a" * 64, "x:y"])
async def test_bad_client_names_are_refused(api: Api, world: World, name: str) -> None:
    """Client names must match ^[a-z_][a-z0-9_-]*$ (at most 63 characters)."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00006",
                                                       endpointAccessType="private")},
                   token=world.alice)
    error = await api.error(CLIENT, {"data": {"deploymentId": "iris-00006", "name": name}},
                            token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "name"}
