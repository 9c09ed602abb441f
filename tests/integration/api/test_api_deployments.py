"""The deployment lifecycle over HTTP, spoken exactly as primehub-python-sdk speaks it."""

from __future__ import annotations

import sdkdocs
from apikit import PUBLIC, Api, StartApi, World, deployment, eventually

from gateway.kube import phdeployments
from gateway.kube.client import Kube
from gateway.kube.phdeployments import PHDEPLOYMENTS


async def test_create_get_list_update_stop_start_delete(api: Api, world: World) -> None:
    """The SDK's create, get, list, update, stop, start and delete documents all work."""
    created = (await api.data(sdkdocs.CREATE, {"data": deployment(
        "iris-abcde", env=[{"name": "MODE", "value": "fast"}], metadata={"owner": "ml"},
        description="first")}, token=world.alice, form=True))["createPhDeployment"]
    assert created == {
        "id": "iris-abcde", "name": "iris", "modelImage": "infuseai/sklearn-prepackaged:v0.1.0",
        "imagePullSecret": None, "description": "first", "replicas": 1, "stop": False,
        "endpointAccessType": "public", "endpointClients": [], "status": "Deploying",
        "endpoint": f"{PUBLIC}/deployment/iris-abcde/api/v1.0/predictions",
        "availableReplicas": None, "message": None, "pods": []}

    got = (await api.data(sdkdocs.GET, {"where": {"id": "iris-abcde"}}, token=world.alice,
                          form=True))["phDeployment"]
    assert got["metadata"] == {"owner": "ml"}
    assert got["env"] == [{"name": "MODE", "value": "fast"}]
    assert (got["userName"], got["groupName"], got["modelURI"]) == (
        "alice", "team-a", "gs://seldon-models/sklearn/iris")
    assert got["instanceType"] == {"name": "cpu-1"}
    assert got["creationTime"]
    assert got["lastUpdatedTime"]

    listed = (await api.data(sdkdocs.LIST, {"where": {"groupId_in": ["team-a"]}},
                             token=world.alice, form=True))["phDeployments"]
    assert [item["id"] for item in listed] == ["iris-abcde"]

    updated = (await api.data(sdkdocs.UPDATE, {"where": {"id": "iris-abcde"}, "data": {
        "replicas": 2, "modelImage": "repo/iris:2", "description": "second"}},
        token=world.alice, form=True))["updatePhDeployment"]
    assert (updated["replicas"], updated["modelImage"], updated["description"]) == (
        2, "repo/iris:2", "second")

    stopped = (await api.data(sdkdocs.STOP, {"where": {"id": "iris-abcde"}}, token=world.alice,
                              form=True))["stopPhDeployment"]
    assert (stopped["stop"], stopped["status"]) == (True, "Stopping")
    started = (await api.data(sdkdocs.START, {"where": {"id": "iris-abcde"}},
                              token=world.alice, form=True))["deployPhDeployment"]
    assert (started["stop"], started["status"]) == (False, "Deploying")

    deleted = await api.data(sdkdocs.DELETE, {"where": {"id": "iris-abcde"}}, token=world.alice,
                             form=True)
    assert deleted == {"deletePhDeployment": {"id": "iris-abcde"}}
    error = await api.error(sdkdocs.GET, {"where": {"id": "iris-abcde"}}, token=world.alice,
                            form=True)
    assert error["message"] == 'phdeployments.primehub.io "iris-abcde" not found'
    assert error["extensions"]["code"] == "RESOURCE_NOT_FOUND"


async def test_mutations_record_the_caller_and_primehubs_messages(
        api: Api, world: World, kubeclient: Kube) -> None:
    """Start/stop set PrimeHub's messages and the caller; the resource stores them."""
    await api.data(sdkdocs.CREATE, {"data": deployment("wine-00001")}, token=world.alice)
    query = """query ($where: PhDeploymentWhereUniqueInput!) { phDeployment(where: $where) {
        userId userName updateMessage stop } }"""
    where = {"where": {"id": "wine-00001"}}
    await api.data(sdkdocs.STOP, where, token=world.root)
    assert (await api.data(query, where, token=world.alice))["phDeployment"] == {
        "userId": "root", "userName": "root", "updateMessage": "Deployment Stopped",
        "stop": True}
    await api.data(sdkdocs.START, where, token=world.alice)
    assert (await api.data(query, where, token=world.alice))["phDeployment"] == {
        "userId": "alice", "userName": "alice", "updateMessage": "Deployment Started",
        "stop": False}
    stored = phdeployments.parse(await kubeclient.get(PHDEPLOYMENTS, namespace="default",
                                                      name="wine-00001"))
    assert (stored.spec.user_id, stored.spec.update_message, stored.spec.stop) == (
        "alice", "Deployment Started", False)
    assert stored.spec.predictor.name == "predictor1"


async def test_an_update_restarts_a_stopped_deployment(api: Api, world: World) -> None:
    """updatePhDeployment sets stop: false, as PrimeHub's does."""
    where = {"where": {"id": "wine-00002"}}
    await api.data(sdkdocs.CREATE, {"data": deployment("wine-00002")}, token=world.alice)
    await api.data(sdkdocs.STOP, where, token=world.alice)
    updated = await api.data(sdkdocs.UPDATE, {**where, "data": {"description": "again"}},
                             token=world.alice)
    assert updated["updatePhDeployment"]["stop"] is False


async def test_status_follows_the_controllers_phase(api: Api, world: World,
                                                    kubeclient: Kube) -> None:
    """With a phase in status, ``status``, ``message`` and counts come from it."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00003")}, token=world.alice)
    await kubeclient.patch(PHDEPLOYMENTS, namespace="default", name="iris-00003",
                           subresource="status", body={"status": {
                               "phase": "Deployed", "observedGeneration": 1,
                               "availableReplicas": 1, "replicas": 1,
                               "message": "Deployment is deployed and available now",
                               "endpoint": "https://elsewhere/deployment/iris-00003"}})

    async def deployed() -> None:
        got = (await api.data(sdkdocs.WAIT, {"where": {"id": "iris-00003"}},
                              token=world.alice))["phDeployment"]
        assert got == {"stop": False, "status": "Deployed"}

    await eventually(deployed)
    got = (await api.data(sdkdocs.GET, {"where": {"id": "iris-00003"}},
                          token=world.alice))["phDeployment"]
    assert (got["message"], got["availableReplicas"], got["endpoint"]) == (
        "Deployment is deployed and available now", 1,
        "https://elsewhere/deployment/iris-00003")


async def test_availability_of_ids(api: Api, world: World) -> None:
    """phDeploymentAvail is true only for a valid id no deployment has."""
    await api.data(sdkdocs.CREATE, {"data": deployment("taken-00001")}, token=world.alice)
    query = """query ($where: PhDeploymentWhereUniqueInput!) {
        phDeploymentAvail(where: $where) }"""
    for candidate, available in (("free-00001", True), ("taken-00001", False),
                                 ("Bad_Id", False), ("ab", False)):
        got = await api.data(query, {"where": {"id": candidate}}, token=world.bob)
        assert got["phDeploymentAvail"] is available, candidate


async def test_instance_types_that_vanished_are_primehubs_stand_in(api: Api,
                                                                    world: World) -> None:
    """A deployment whose instance type was deleted shows ``<name>-not-found``."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00004")}, token=world.alice)
    await api.data('mutation { deleteInstanceType(where: {id: "cpu-1"}) { id } }')
    query = """{ phDeployment(where: {id: "iris-00004"}) {
        instanceType { id name tolerations { key } } } }"""
    got = await api.data(query, token=world.alice)
    assert got["phDeployment"]["instanceType"] == {"id": "cpu-1-not-found", "name": "cpu-1",
                                                   "tolerations": []}


async def test_me_serves_the_sdks_group_and_user_documents(api: Api, world: World) -> None:
    """``me`` answers the SDK's groups, me and instance-type documents for a member."""
    groups = (await api.data(sdkdocs.GROUPS, token=world.alice, form=True))["me"]
    assert groups == {"effectiveGroups": [{
        "id": "team-a", "name": "team-a", "displayName": "Team A", "quotaCpu": 2.0,
        "quotaGpu": None, "quotaMemory": 4.0, "projectQuotaCpu": None, "projectQuotaGpu": None,
        "projectQuotaMemory": None}]}
    me = (await api.data(sdkdocs.ME, token=world.alice, form=True))["me"]
    assert me == {"id": "alice", "username": "alice", "firstName": None, "lastName": None,
                  "email": None, "isAdmin": False}
    types = (await api.data(sdkdocs.INSTANCE_TYPES, token=world.bob, form=True))["me"]
    assert types == {"effectiveGroups": [{"name": "team-b", "instanceTypes": [
        {"id": "cpu-1", "name": "cpu-1", "displayName": "CPU 1", "description": None},
        {"id": "gpu-1", "name": "gpu-1", "displayName": "gpu-1", "description": None}]}]}


async def test_instance_type_fields_in_primehubs_units(api: Api, world: World) -> None:
    """Instance types show CPU in cores, memory in gigabytes, GPUs, placement."""
    query = """{ me { effectiveGroups { enabledDeployment maxDeploy deploymentsUsage
        instanceTypes { name cpuLimit memoryLimit gpuLimit cpuRequest memoryRequest global
                        nodeSelector tolerations { key operator value effect } } } } }"""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00005", group="team-b")},
                   token=world.bob)
    group = (await api.data(query, token=world.bob))["me"]["effectiveGroups"][0]
    assert (group["enabledDeployment"], group["maxDeploy"], group["deploymentsUsage"]) == (
        True, None, 1)
    assert group["instanceTypes"][1] == {
        "name": "gpu-1", "cpuLimit": 4.0, "memoryLimit": 16.0, "gpuLimit": 1, "cpuRequest": 0.0,
        "memoryRequest": None, "global": False, "nodeSelector": {"accelerator": "t4"},
        "tolerations": [{"key": "gpu", "operator": "Exists", "value": None,
                         "effect": "NoSchedule"}]}



async def test_new_deployments_are_private_unless_the_install_says_public(
        api: Api, world: World, start_api: StartApi) -> None:
    """No endpointAccessType: private by default; API_DEFAULT_ENDPOINT_ACCESS=public restores
    PrimeHub's public default; an explicit access type wins either way."""
    public_api = await start_api(default_access_type="public")
    for server, expected in ((api, "private"), (public_api, "public")):
        data = deployment(f"iris-{expected}", group="team-b")
        del data["endpointAccessType"]
        made = await server.data(sdkdocs.CREATE, {"data": data}, token=world.bob)
        assert made["createPhDeployment"]["endpointAccessType"] == expected
        explicit = deployment(f"iris-x-{expected}", group="team-b",
                              endpointAccessType="private" if expected == "public" else "public")
        made = await server.data(sdkdocs.CREATE, {"data": explicit}, token=world.bob)
        assert made["createPhDeployment"]["endpointAccessType"] != expected
