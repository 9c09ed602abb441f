"""History: the controller's recorded specs, served as PrimeHub served them."""

from __future__ import annotations

import sdkdocs
from apikit import Api, World, deployment, eventually

from gateway.kube import phdeployments
from gateway.kube.client import Kube
from gateway.kube.phdeployments import PHDEPLOYMENTS, DeploymentStatus, HistoryEntry


async def test_history_lists_recorded_specs_newest_first(api: Api, world: World,
                                                         kubeclient: Kube) -> None:
    """``history { time deployment {...} }`` comes from status.history, newest first."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00001", description="v1")},
                   token=world.alice)
    await api.data(sdkdocs.UPDATE, {"where": {"id": "iris-00001"}, "data": {
        "description": "v2", "replicas": 3}}, token=world.alice)
    current = phdeployments.parse(await kubeclient.get(PHDEPLOYMENTS, namespace="default",
                                                       name="iris-00001"))
    older = current.status.history  # nothing recorded yet: the controller writes history
    assert older == ()
    first = HistoryEntry(time="2030-01-01T00:00:00.000Z", spec=current.spec)
    earlier_spec = phdeployments.parse_spec({**phdeployments.spec_body(current.spec),
                                             "description": "v1"})
    second = HistoryEntry(time="2029-12-31T00:00:00.000Z", spec=earlier_spec)
    await kubeclient.patch(PHDEPLOYMENTS, namespace="default", name="iris-00001",
                           subresource="status", body={"status": phdeployments.status_body(
                               DeploymentStatus(phase="Deploying", history=(first, second)))})

    async def recorded() -> list[dict[str, object]]:
        got = await api.data(sdkdocs.HISTORY, {"where": {"id": "iris-00001"}},
                             token=world.alice, form=True)
        history: list[dict[str, object]] = got["phDeployment"]["history"]
        assert len(history) == 2
        return history

    history = await eventually(recorded)
    assert [item["time"] for item in history] == ["2030-01-01T00:00:00.000Z",
                                                  "2029-12-31T00:00:00.000Z"]
    assert history[0]["deployment"] == {
        "id": "iris-00001-2030-01-01T00:00:00.000Z", "name": "iris",
        "modelImage": "infuseai/sklearn-prepackaged:v0.1.0", "imagePullSecret": None,
        "description": "v2", "replicas": 3, "stop": False, "endpointAccessType": "public",
        "endpointClients": [], "status": None, "endpoint": None}
    assert history[1]["deployment"]["description"] == "v1"  # type: ignore[index]
