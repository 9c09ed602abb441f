"""rollbackPhDeployment: a recorded spec written back, with a real controller recording it."""

from __future__ import annotations

from typing import Any

import sdkdocs
from apikit import Api, World, deployment, eventually

from gateway.kube import phdeployments
from gateway.kube.client import Kube
from gateway.kube.phdeployments import PHDEPLOYMENTS

ROLLBACK = """mutation ($where: PhDeploymentWhereUniqueInput!, $data: PhDeploymentRollbackInput!) {
  rollbackPhDeployment(where: $where, data: $data) { id status modelImage replicas } }"""
STATE = """query ($where: PhDeploymentWhereUniqueInput!) { phDeployment(where: $where) {
  status modelImage replicas endpointAccessType endpointClients { name }
  history { time deployment { id modelImage replicas updateMessage } } } }"""


async def _state(api: Api, token: str, deployment_id: str) -> dict[str, Any]:
    got = await api.data(STATE, {"where": {"id": deployment_id}}, token=token)
    found: dict[str, Any] = got["phDeployment"]
    return found


async def _history(api: Api, token: str, deployment_id: str, length: int) -> list[Any]:
    async def recorded() -> list[Any]:
        history: list[Any] = (await _state(api, token, deployment_id))["history"]
        assert len(history) == length, history
        return history

    return await eventually(recorded, within=15)


async def _deployed(api: Api, token: str, deployment_id: str) -> dict[str, Any]:
    async def deployed() -> dict[str, Any]:
        state = await _state(api, token, deployment_id)
        assert state["status"] == "Deployed", state
        return state

    return await eventually(deployed, within=30)


async def test_rollback_writes_the_recorded_spec_back(data_plane: str, api: Api,
                                                      world: World) -> None:
    """The spec of an older entry comes back, the history says "rolled back to <time>: note",
    clients and access type stay as they are now, and the status goes back to Deployed."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-back", group="team-b")},
                   token=world.bob)
    first = (await _history(api, world.bob, "iris-back", 1))[0]
    await api.data(sdkdocs.UPDATE, {"where": {"id": "iris-back"}, "data": {
        "modelImage": "infuseai/sklearn-prepackaged:v0.2.0", "replicas": 2,
        "endpointAccessType": "private"}}, token=world.bob)
    await api.data("""mutation { createPhDeploymentClient(data: {deploymentId: "iris-back",
                   name: "app"}) { name } }""", token=world.bob)
    await _history(api, world.bob, "iris-back", 3)
    await _deployed(api, world.bob, "iris-back")

    rolled = await api.data(ROLLBACK, {"where": {"id": "iris-back"}, "data": {
        "historyId": first["deployment"]["id"], "updateMessage": "v2 is wrong"}},
        token=world.bob)
    assert rolled["rollbackPhDeployment"] == {
        "id": "iris-back", "status": "Deploying",
        "modelImage": "infuseai/sklearn-prepackaged:v0.1.0", "replicas": 1}
    history = await _history(api, world.bob, "iris-back", 4)
    assert history[0]["deployment"]["updateMessage"] == \
        f"rolled back to {first['time']}: v2 is wrong"
    assert history[0]["deployment"]["modelImage"] == "infuseai/sklearn-prepackaged:v0.1.0"
    state = await _deployed(api, world.bob, "iris-back")
    assert state["endpointAccessType"] == "private"
    assert state["endpointClients"] == [{"name": "app"}]


async def test_a_bad_history_id_is_refused_and_changes_nothing(data_plane: str, api: Api,
                                                               world: World,
                                                               kubeclient: Kube) -> None:
    """A historyId that is not an entry of this deployment (another deployment's, a made-up
    time, a trailing newline) or the current version is a BAD_USER_INPUT naming historyId,
    and the resource is not written."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-bad", group="team-b")},
                   token=world.bob)
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-other", group="team-b")},
                   token=world.bob)
    current = (await _history(api, world.bob, "iris-bad", 1))[0]["deployment"]["id"]
    other = (await _history(api, world.bob, "iris-other", 1))[0]["deployment"]["id"]
    before = await kubeclient.get(PHDEPLOYMENTS, namespace="default", name="iris-bad")
    for history_id in (other, "iris-bad-2020-01-01T00:00:00.000Z", current + "\n", "", current):
        error = await api.error(ROLLBACK, {"where": {"id": "iris-bad"},
                                           "data": {"historyId": history_id}}, token=world.bob)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["field"] == "historyId", error
    after = await kubeclient.get(PHDEPLOYMENTS, namespace="default", name="iris-bad")
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert phdeployments.parse(after).spec == phdeployments.parse(before).spec


async def test_only_members_roll_back(data_plane: str, api: Api, world: World) -> None:
    """A user outside the deployment's group cannot roll it back (NOT_AUTH)."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-theirs", group="team-b")},
                   token=world.bob)
    entry = (await _history(api, world.bob, "iris-theirs", 1))[0]["deployment"]["id"]
    error = await api.error(ROLLBACK, {"where": {"id": "iris-theirs"},
                                       "data": {"historyId": entry}}, token=world.alice)
    assert error["extensions"]["code"] == "NOT_AUTH"
