"""The ``autoscaling`` block over GraphQL: stored as sent, shown back, refused whole when wrong."""

from __future__ import annotations

from typing import Any

import pytest
import sdkdocs
from apikit import Api, World, deployment

from gateway.kube.client import Kube
from gateway.kube.phdeployments import PHDEPLOYMENTS

SHOW = """query ($where: PhDeploymentWhereUniqueInput!) { phDeployment(where: $where) {
  replicas autoscaling { minReplicas maxReplicas targetConcurrency targetCPUPercent
                         scaleToZeroAfterSeconds } } }"""
UPDATE = """mutation ($where: PhDeploymentWhereUniqueInput!, $data: PhDeploymentUpdateInput!) {
  updatePhDeployment(where: $where, data: $data) { id } }"""
CONCURRENCY = {"minReplicas": 0, "maxReplicas": 2, "targetConcurrency": 4,
               "scaleToZeroAfterSeconds": 60}


async def test_autoscaling_is_stored_and_shown(api: Api, world: World,
                                               kubeclient: Kube) -> None:
    """Create with autoscaling: the resource's predictor holds the block, the API shows it."""
    data = deployment("iris-a0001", autoscaling=CONCURRENCY)
    await api.data(sdkdocs.CREATE, {"data": data}, token=world.alice)
    stored = await kubeclient.get(PHDEPLOYMENTS, namespace="default", name="iris-a0001")
    assert stored["spec"]["predictors"][0]["autoscaling"] == {
        "minReplicas": 0, "maxReplicas": 2, "targetConcurrency": 4.0,
        "scaleToZeroAfterSeconds": 60}
    shown = (await api.data(SHOW, {"where": {"id": "iris-a0001"}},
                            token=world.alice))["phDeployment"]
    assert shown == {"replicas": 1, "autoscaling": {**CONCURRENCY, "targetConcurrency": 4.0,
                                                    "targetCPUPercent": None}}


async def test_update_changes_keeps_and_clears_autoscaling(api: Api, world: World) -> None:
    """An update without the block keeps it; a new block replaces it; null restores fixed."""
    where = {"where": {"id": "iris-a0002"}}
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-a0002")}, token=world.alice)
    cpu = {"minReplicas": 1, "maxReplicas": 2, "targetCPUPercent": 70}
    await api.data(UPDATE, {**where, "data": {"autoscaling": cpu}}, token=world.alice)
    await api.data(UPDATE, {**where, "data": {"description": "kept"}}, token=world.alice)
    shown = (await api.data(SHOW, where, token=world.alice))["phDeployment"]
    assert shown["autoscaling"] == {**cpu, "targetConcurrency": None,
                                    "scaleToZeroAfterSeconds": None}
    await api.data(UPDATE, {**where, "data": {"autoscaling": None}}, token=world.alice)
    shown = (await api.data(SHOW, where, token=world.alice))["phDeployment"]
    assert shown == {"replicas": 1, "autoscaling": None}


async def test_scale_to_zero_defaults_its_idle_time(api: Api, world: World) -> None:
    """minReplicas 0 without scaleToZeroAfterSeconds scales to zero after 300 s idle."""
    block = {"minReplicas": 0, "maxReplicas": 1, "targetConcurrency": 1}
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-a0003", autoscaling=block)},
                   token=world.alice)
    shown = (await api.data(SHOW, {"where": {"id": "iris-a0003"}},
                            token=world.alice))["phDeployment"]
    assert shown["autoscaling"]["scaleToZeroAfterSeconds"] == 300


BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"minReplicas": 3, "maxReplicas": 2, "targetConcurrency": 1}, "minReplicas",
     "must not exceed maxReplicas"),
    ({"minReplicas": 0, "maxReplicas": 0, "targetConcurrency": 1}, "maxReplicas",
     "at least 1"),
    ({"minReplicas": -1, "maxReplicas": 2, "targetConcurrency": 1}, "minReplicas",
     "negative"),
    ({"minReplicas": 1, "maxReplicas": 2}, "targetConcurrency", "give one target"),
    ({"minReplicas": 1, "maxReplicas": 2, "targetConcurrency": 1, "targetCPUPercent": 50},
     "targetCPUPercent", "not both"),
    ({"minReplicas": 1, "maxReplicas": 2, "targetConcurrency": 0}, "targetConcurrency",
     "above 0"),
    ({"minReplicas": 1, "maxReplicas": 2, "targetConcurrency": -2}, "targetConcurrency",
     "above 0"),
    ({"minReplicas": 1, "maxReplicas": 2, "targetCPUPercent": 0}, "targetCPUPercent",
     "1 to 1000"),
    ({"minReplicas": 1, "maxReplicas": 2, "targetConcurrency": 1,
      "scaleToZeroAfterSeconds": 30}, "scaleToZeroAfterSeconds", "minReplicas 0"),
    ({"minReplicas": 0, "maxReplicas": 2, "targetConcurrency": 1,
      "scaleToZeroAfterSeconds": -1}, "scaleToZeroAfterSeconds", "must be 0 to"),
    ({"minReplicas": 0, "maxReplicas": 2, "targetCPUPercent": 50}, "minReplicas",
     "cannot scale to zero"),
    ({"minReplicas": 1, "maxReplicas": 21, "targetConcurrency": 1}, "maxReplicas",
     "at most 20"),
    ({"minReplicas": 1, "maxReplicas": 3, "targetConcurrency": 1}, "maxReplicas",
     "over the group's cpu quota"),
]


@pytest.mark.parametrize(("block", "field", "text"), BAD)
async def test_bad_autoscaling_is_refused_on_create(api: Api, world: World, kubeclient: Kube,
                                                    block: dict[str, Any], field: str,
                                                    text: str) -> None:
    """Each bad combination is BAD_USER_INPUT naming autoscaling.<field>; nothing is created."""
    data = deployment("iris-a0004", autoscaling=block)
    error = await api.error(sdkdocs.CREATE, {"data": data}, token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": f"autoscaling.{field}"}
    assert text in error["message"]
    assert (await kubeclient.list(PHDEPLOYMENTS, namespace="default"))["items"] == []


async def test_bad_autoscaling_update_changes_nothing(api: Api, world: World,
                                                      kubeclient: Kube) -> None:
    """A refused update leaves the stored resource exactly as it was."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-a0005", autoscaling=CONCURRENCY)},
                   token=world.alice)
    before = await kubeclient.get(PHDEPLOYMENTS, namespace="default", name="iris-a0005")
    for block, field, _ in BAD:
        error = await api.error(UPDATE, {"where": {"id": "iris-a0005"},
                                         "data": {"autoscaling": block}}, token=world.alice)
        assert error["extensions"]["field"] == f"autoscaling.{field}"
    after = await kubeclient.get(PHDEPLOYMENTS, namespace="default", name="iris-a0005")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
