"""Predictors through GraphQL: add, update, traffic, remove and promote, with a real
controller reporting each predictor's status."""

from __future__ import annotations

from typing import Any

import sdkdocs
from apikit import Api, StartApi, World, deployment, eventually

from gateway.kube.client import Kube
from gateway.kube.phdeployments import PHDEPLOYMENTS

SELECTION = """id modelImage replicas sticky
  predictors { name primary modelImage instanceType replicas availableReplicas trafficPercent
               endpoint status env { name value } }"""
ADD = """mutation ($where: PhDeploymentWhereUniqueInput!,
                   $data: PhDeploymentPredictorCreateInput!) {
  addPhDeploymentPredictor(where: $where, data: $data) { """ + SELECTION + """ } }"""
UPDATE = """mutation ($where: PhDeploymentWhereUniqueInput!,
                      $data: PhDeploymentPredictorUpdateInput!) {
  updatePhDeploymentPredictor(where: $where, data: $data) { """ + SELECTION + """ } }"""
REMOVE = """mutation ($where: PhDeploymentWhereUniqueInput!,
                      $data: PhDeploymentPredictorNameInput!) {
  removePhDeploymentPredictor(where: $where, data: $data) { """ + SELECTION + """ } }"""
TRAFFIC = """mutation ($where: PhDeploymentWhereUniqueInput!, $data: PhDeploymentTrafficInput!) {
  setPhDeploymentTraffic(where: $where, data: $data) { """ + SELECTION + """ } }"""
PROMOTE = """mutation ($where: PhDeploymentWhereUniqueInput!,
                       $data: PhDeploymentPredictorNameInput!) {
  promotePhDeploymentPredictor(where: $where, data: $data) { """ + SELECTION + """ } }"""
GET = """query ($where: PhDeploymentWhereUniqueInput!) { phDeployment(where: $where) {
  status message """ + SELECTION + """ history { deployment { updateMessage } } } }"""
V2 = "infuseai/sklearn-prepackaged:v0.2.0"


async def _get(api: Api, token: str, deployment_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.data(GET, {"where": {"id": deployment_id}},
                                            token=token))["phDeployment"]
    return found


async def _created(api: Api, token: str, deployment_id: str, group: str = "team-b") -> None:
    await api.data(sdkdocs.CREATE, {"data": deployment(deployment_id, group=group)},
                   token=token)


async def _split(api: Api, token: str, deployment_id: str, **shares: int) -> dict[str, Any]:
    done: dict[str, Any] = (await api.data(TRAFFIC, {"where": {"id": deployment_id}, "data": {
        "split": [{"name": name, "trafficPercent": share} for name, share in shares.items()]}},
        token=token))["setPhDeploymentTraffic"]
    return done


async def test_a_new_predictor_runs_at_zero_percent_with_its_own_url(
        data_plane: str, api: Api, world: World) -> None:
    """addPhDeploymentPredictor: the canary starts at 0% (the primary keeps 100%), with the
    primary's instance type, its own env and URL; the controller reports it available; the
    flat fields still describe the primary; the history records the change."""
    await _created(api, world.bob, "iris-add")
    added = (await api.data(ADD, {"where": {"id": "iris-add"}, "data": {
        "name": "canary", "modelImage": V2, "env": [{"name": "V", "value": "2"}]}},
        token=world.bob))["addPhDeploymentPredictor"]
    assert added["modelImage"] == "infuseai/sklearn-prepackaged:v0.1.0"
    assert [(item["name"], item["primary"], item["trafficPercent"], item["instanceType"])
            for item in added["predictors"]] == [("predictor1", True, 100, "cpu-1"),
                                                 ("canary", False, 0, "cpu-1")]
    assert added["predictors"][1]["env"] == [{"name": "V", "value": "2"}]
    assert added["predictors"][1]["endpoint"] == \
        "https://models.example.com/deployment/iris-add@canary/api/v1.0/predictions"

    async def available() -> dict[str, Any]:
        state = await _get(api, world.bob, "iris-add")
        assert state["status"] == "Deployed", state
        assert [(item["status"], item["availableReplicas"])
                for item in state["predictors"]] == [("Deployed", 1), ("Deployed", 1)]
        return state

    state = await eventually(available, within=30)
    assert "Add the predictor canary" in [item["deployment"]["updateMessage"]
                                          for item in state["history"]]


async def test_traffic_is_validated_field_by_field_and_changes_nothing(
        data_plane: str, api: Api, world: World, kubeclient: Kube) -> None:
    """setPhDeploymentTraffic refuses a split that misses a predictor, names an unknown one,
    gives one twice, is out of range or does not sum to 100, naming the field; a good split
    and the sticky setting are stored."""
    await _created(api, world.bob, "iris-split")
    await api.data(ADD, {"where": {"id": "iris-split"}, "data": {
        "name": "canary", "modelImage": V2}}, token=world.bob)
    before = await kubeclient.get(PHDEPLOYMENTS, namespace="default", name="iris-split")
    bad: list[tuple[list[dict[str, Any]], str]] = [
        ([{"name": "predictor1", "trafficPercent": 100}], "split"),
        ([{"name": "predictor1", "trafficPercent": 90}, {"name": "nope", "trafficPercent": 10}],
         "split[1].name"),
        ([{"name": "canary", "trafficPercent": 50}, {"name": "canary", "trafficPercent": 50}],
         "split[1].name"),
        ([{"name": "predictor1", "trafficPercent": 110}, {"name": "canary",
                                                           "trafficPercent": -10}],
         "split[0].trafficPercent"),
        ([{"name": "predictor1", "trafficPercent": 90}, {"name": "canary", "trafficPercent": 5}],
         "split"),
    ]
    for split, field in bad:
        error = await api.error(TRAFFIC, {"where": {"id": "iris-split"},
                                          "data": {"split": split}}, token=world.bob)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["field"] == field, error
    after = await kubeclient.get(PHDEPLOYMENTS, namespace="default", name="iris-split")
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    done = (await api.data(TRAFFIC, {"where": {"id": "iris-split"}, "data": {
        "split": [{"name": "canary", "trafficPercent": 10},
                  {"name": "predictor1", "trafficPercent": 90}], "sticky": True}},
        token=world.bob))["setPhDeploymentTraffic"]
    assert [item["trafficPercent"] for item in done["predictors"]] == [90, 10]
    assert done["sticky"] is True


async def test_predictor_changes_are_checked_like_deployments(
        data_plane: str, api: Api, world: World) -> None:
    """A bad or taken name, an instance type the group may not use and too many replicas are
    refused; an update changes only the fields sent, keeping the share."""
    await _created(api, world.alice, "iris-rules", group="team-a")
    where = {"where": {"id": "iris-rules"}}
    for data, field in (({"name": "Canary"}, "name"), ({"name": "x" * 17}, "name"),
                        ({"name": "predictor1"}, "name"), ({"replicas": 999}, "replicas")):
        error = await api.error(ADD, {**where, "data": {"name": "canary", "modelImage": V2,
                                                        **data}}, token=world.alice)
        assert error["extensions"]["field"] == field, error
    error = await api.error(ADD, {**where, "data": {"name": "canary", "modelImage": V2,
                                                    "instanceType": "gpu-1"}},
                            token=world.alice)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "instanceType"
    await api.data(ADD, {**where, "data": {"name": "canary", "modelImage": V2}},
                   token=world.alice)
    await _split(api, world.alice, "iris-rules", predictor1=80, canary=20)
    updated = (await api.data(UPDATE, {**where, "data": {"name": "canary", "replicas": 2}},
                              token=world.alice))["updatePhDeploymentPredictor"]
    assert [(item["name"], item["replicas"], item["modelImage"], item["trafficPercent"])
            for item in updated["predictors"]] == [
        ("predictor1", 1, "infuseai/sklearn-prepackaged:v0.1.0", 80), ("canary", 2, V2, 20)]
    error = await api.error(UPDATE, {**where, "data": {"name": "nope", "replicas": 2}},
                            token=world.alice)
    assert error["extensions"]["field"] == "name"


async def test_only_a_predictor_without_traffic_can_be_removed(
        data_plane: str, api: Api, world: World) -> None:
    """The primary cannot be removed, nor a predictor with a share; at 0% it can."""
    await _created(api, world.bob, "iris-remove")
    where = {"where": {"id": "iris-remove"}}
    await api.data(ADD, {**where, "data": {"name": "canary", "modelImage": V2}},
                   token=world.bob)
    await _split(api, world.bob, "iris-remove", predictor1=50, canary=50)
    for name, problem in (("predictor1", "is the primary"), ("canary", "still has 50%")):
        error = await api.error(REMOVE, {**where, "data": {"name": name}}, token=world.bob)
        assert problem in error["message"], error
    await _split(api, world.bob, "iris-remove", predictor1=100, canary=0)
    removed = (await api.data(REMOVE, {**where, "data": {"name": "canary"}},
                              token=world.bob))["removePhDeploymentPredictor"]
    assert [item["name"] for item in removed["predictors"]] == ["predictor1"]


async def test_promote_makes_the_predictor_the_only_one(data_plane: str, start_api: StartApi,
                                                         world: World) -> None:
    """promotePhDeploymentPredictor returns with the promoted predictor the primary at 100%
    and the others removed; the flat fields now describe it; history shows both steps."""
    api = await start_api(promote_drain=0.2)
    await _created(api, world.bob, "iris-promote")
    where = {"where": {"id": "iris-promote"}}
    await api.data(ADD, {**where, "data": {"name": "canary", "modelImage": V2}},
                   token=world.bob)
    await _split(api, world.bob, "iris-promote", predictor1=90, canary=10)
    promoted = (await api.data(PROMOTE, {**where, "data": {"name": "canary"}},
                               token=world.bob))["promotePhDeploymentPredictor"]
    assert promoted["modelImage"] == V2
    assert [(item["name"], item["trafficPercent"]) for item in promoted["predictors"]] == [
        ("canary", 100)]

    async def recorded() -> None:
        messages = [item["deployment"]["updateMessage"]
                    for item in (await _get(api, world.bob, "iris-promote"))["history"]]
        assert messages[:2] == ["Promote the predictor canary: the others are removed",
                                "Promote the predictor canary"], messages

    await eventually(recorded, within=15)
    error = await api.error(PROMOTE, {**where, "data": {"name": "canary"}}, token=world.bob)
    assert "already the only predictor" in error["message"]
