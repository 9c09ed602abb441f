"""Claims and Secrets a deployment names: only what an admin assigned to its group, never the
product's own; model URIs only of schemes the controller can build."""

from __future__ import annotations

from typing import Any

import pytest
import sdkdocs
from apikit import Api, StartApi, World, deployment, seed

from gateway.kube.client import Kube
from gateway.kube.phdeployments import PHDEPLOYMENTS
from gateway.kube.references import Protected
from gateway.sources import Sources

ASSIGN = """mutation ($data: GroupUpdateInput!) {
  updateGroup(where: {id: "team-a"}, data: $data) {
    claims imagePullSecrets storageSecrets } }"""
UPDATE = """mutation ($id: ID!, $data: PhDeploymentUpdateInput!) {
  updatePhDeployment(where: {id: $id}, data: $data) { id modelURI modelURISecret } }"""
REDIS_CLAIM = "data-mg-model-gateway-redis-0"
PROTECTED = Sources(protected=Protected(claims=frozenset({REDIS_CLAIM}),
                                        secrets=frozenset({"mg-model-gateway-redis"})))


NOT_ASSIGNED = 'is not assigned to group "team-a"'


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"modelURI": "pvc://other-team-data/models"}, "modelURI", NOT_ASSIGNED),
    ({"modelURI": f"pvc://{REDIS_CLAIM}/"}, "modelURI", "belongs to model-gateway itself"),
    ({"imagePullSecret": "someone-elses-registry"}, "imagePullSecret", NOT_ASSIGNED),
    ({"modelURI": "s3://bucket/m", "modelURISecret": "someone-elses-keys"}, "modelURISecret",
     NOT_ASSIGNED),
])
async def test_unassigned_references_are_refused_naming_the_field(
        start_api: StartApi, kubeclient: Kube, fields: dict[str, Any], field: str,
        reason: str) -> None:
    """A claim or Secret not assigned to the group is BAD_USER_INPUT naming the field;
    nothing is created."""
    api = await start_api(sources=PROTECTED)
    world = await seed(api)
    error = await api.error(sdkdocs.CREATE, {"data": deployment("ref-00001", **fields)},
                            token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert reason in error["message"]
    assert (await kubeclient.list(PHDEPLOYMENTS, namespace="default"))["items"] == []


async def test_assigned_references_are_accepted_and_updates_are_checked_too(
        api: Api, world: World) -> None:
    """Once an admin assigns them the same deployment is accepted; an update to an unassigned
    one is refused, and a Secret with a mounted URI makes no sense."""
    await api.data(ASSIGN, {"data": {"claims": ["team-a-models"],
                                     "imagePullSecrets": ["team-a-registry"],
                                     "storageSecrets": ["team-a-bucket"]}})
    fields = {"modelURI": "s3://bucket/m", "modelURISecret": "team-a-bucket",
              "imagePullSecret": "team-a-registry"}
    created = await api.data(sdkdocs.CREATE, {"data": deployment("ref-00002", **fields)},
                             token=world.alice)
    assert created["createPhDeployment"]["id"] == "ref-00002"
    error = await api.error(UPDATE, {"id": "ref-00002", "data": {
        "modelURISecret": "team-b-bucket"}}, token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "modelURISecret"}
    error = await api.error(UPDATE, {"id": "ref-00002", "data": {
        "modelURI": "pvc://team-a-models/iris"}}, token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "modelURISecret"}
    moved = await api.data(UPDATE, {"id": "ref-00002", "data": {
        "modelURI": "pvc://team-a-models/iris", "modelURISecret": None}}, token=world.alice)
    assert moved["updatePhDeployment"] == {"id": "ref-00002",
                                          "modelURI": "pvc://team-a-models/iris",
                                          "modelURISecret": None}


async def test_the_products_own_claims_and_secrets_cannot_be_assigned(
        start_api: StartApi) -> None:
    """Redis's claim, the chart's Secrets and our credential Secrets are refused to admins."""
    api = await start_api(sources=PROTECTED)
    await seed(api)
    for data, field in (({"claims": ["ok", REDIS_CLAIM]}, "claims[1]"),
                        ({"imagePullSecrets": ["mg-model-gateway-redis"]}, "imagePullSecrets[0]"),
                        ({"storageSecrets": ["deploy-iris-clients"]}, "storageSecrets[0]"),
                        ({"storageSecrets": ["api-token-abc"]}, "storageSecrets[0]"),
                        ({"claims": ["Bad_Name"]}, "claims[0]")):
        error = await api.error(ASSIGN, {"data": data})
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


@pytest.mark.parametrize("uri", ["pvc://team-a-models/../other", "pvc://team-a-models/a/./b",
                                 "phfs:///../../etc", "pvc://Bad_Claim/x"])
async def test_mounted_paths_stay_inside_their_volume(api: Api, world: World, uri: str) -> None:
    """A path escaping the claim (a subPath Kubernetes would refuse) is refused up front."""
    await api.data(ASSIGN, {"data": {"claims": ["team-a-models"]}})
    error = await api.error(sdkdocs.CREATE, {"data": deployment("ref-00003", modelURI=uri)},
                            token=world.alice)
    assert error["extensions"]["field"] == "modelURI"


async def test_phfs_is_accepted_only_where_it_can_be_deployed(start_api: StartApi) -> None:
    """Without a PrimeHub file-system claim phfs:// is refused at once; with one, accepted."""
    without = await start_api()
    world = await seed(without)
    error = await without.error(sdkdocs.CREATE, {"data": deployment(
        "phfs-00001", modelURI="phfs:///models/iris")}, token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "modelURI"}
    with_claim = await start_api(sources=Sources(phfs_claim="primehub-store"))
    created = await with_claim.data(sdkdocs.CREATE, {"data": deployment(
        "phfs-00002", modelURI="phfs:///models/iris")}, token=world.alice)
    assert created["createPhDeployment"]["id"] == "phfs-00002"


async def test_the_image_pull_secret_picker_lists_what_the_group_may_use(
        api: Api, world: World) -> None:
    """PrimeHub's picker query answers the caller's groups' image pull Secrets, names only."""
    await api.data(ASSIGN, {"data": {"imagePullSecrets": ["team-a-registry"],
                                     "storageSecrets": ["team-a-bucket"]}})
    query = "{ secrets(where: {ifDockerConfigJson: true}) { id name type } }"
    assert (await api.data(query, token=world.alice))["secrets"] == [
        {"id": "team-a-registry", "name": "team-a-registry", "type": "kubernetes"}]
    everything = await api.data("{ secrets { name type } }", token=world.alice)
    assert everything["secrets"] == [{"name": "team-a-bucket", "type": "opaque"},
                                     {"name": "team-a-registry", "type": "kubernetes"}]
    assert (await api.data(query, token=world.bob))["secrets"] == []
