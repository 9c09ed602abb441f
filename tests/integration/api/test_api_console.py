"""PrimeHub's console works unchanged: each of its domain operations validates and executes.

The operations are the verbatim copies in ``tests/contract/console`` (see :mod:`consolekit`).
One walk through a deployment's life sends every one of them as a group member would, first
as written, then as Apollo Client sends them (``__typename`` in every selection set).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from apikit import Api, GraphQLErrors, StartApi, World, deployment, eventually, seed
from consolekit import operations, with_typename

from gateway.kube.client import Kube
from gateway.kube.instancetypes import INSTANCETYPES

Variables = Callable[[str], dict[str, Any]]
CREATE = "mutation ($data: PhDeploymentCreateInput!) { createPhDeployment(data: $data) { id } }"

# The walk: (operation, its variables for deployment id ``d``), in the console's order.
WALK: list[tuple[str, Variables]] = [
    ("CurrentUser", lambda d: {}),
    ("LicenseWarningBanner", lambda d: {}),
    ("LicenseDeployLimit", lambda d: {}),
    ("checkDeploymentAvail", lambda d: {"deploymentId": d}),
    ("ImagePullSecretSelector", lambda d: {}),
    ("createPhDeployment", lambda d: {"data": {
        "id": d, "name": "console demo", "groupId": "team-a", "instanceType": "cpu-1",
        "modelImage": "infuseai/sklearn-prepackaged:v0.1.0", "modelURI": "", "replicas": 1,
        "imagePullSecret": "", "description": "", "updateMessage": "", "metadata": {},
        "env": [{"name": "MODE", "value": ""}], "endpointAccessType": "private"}}),
    ("phDeployment", lambda d: {"where": {"id": d}}),
    ("PhDeploymentsConnection", lambda d: {"where": {"groupId_in": ["team-a"]}, "first": 12}),
    ("DeploymentsQuery", lambda d: {"where": {"mine": True, "search": "console"}, "first": 12}),
    ("QueryModelVersionDeploy", lambda d: {"groupId": "team-a"}),
    ("updatePhDeployment", lambda d: {"where": {"id": d}, "data": {
        "instanceType": "cpu-1", "modelImage": "infuseai/sklearn-prepackaged:v0.2.0",
        "imagePullSecret": "", "modelURI": "", "replicas": 2, "metadata": {},
        "description": "", "updateMessage": "new image", "env": [],
        "endpointAccessType": "private"}}),
    ("createPhDeploymentClient", lambda d: {"data": {"deploymentId": d, "name": "my-app"}}),
    ("deletePhDeploymentClient", lambda d: {"where": {"deploymentId": d, "name": "my-app"}}),
    ("stopPhDeploymentMutation", lambda d: {"where": {"id": d}}),
    ("startPhDeploymentMutation", lambda d: {"where": {"id": d}}),
    ("stopPhDeployment", lambda d: {"where": {"id": d}}),
    ("deployPhDeployment", lambda d: {"where": {"id": d}}),
    ("deletePhDeployment", lambda d: {"where": {"id": d}}),
]


def test_the_walk_sends_every_copied_operation() -> None:
    """Every copied console operation is sent by the walk, and every one sent is copied."""
    assert sorted(name for name, _ in WALK) == sorted(operations())


@pytest.mark.parametrize("apollo", [False, True], ids=["as-written", "with-typename"])
async def test_console_operations_validate_and_execute(data_plane: str, api: Api, world: World,
                                                       apollo: bool) -> None:
    """Each console operation answers data without errors, as written and as Apollo sends it."""
    documents = operations()
    deployment_id = "console-apollo" if apollo else "console-plain"
    answers: dict[str, dict[str, Any]] = {}
    for name, variables in WALK:
        document = with_typename(documents[name]) if apollo else documents[name]
        try:
            answers[name] = await api.data(document, variables(deployment_id),
                                           token=world.alice)
        except GraphQLErrors as error:
            raise AssertionError(f"{name}: {error}") from None
    me = answers["CurrentUser"]["me"]
    assert me["username"] == "alice"
    assert [group["name"] for group in me["groups"]] == ["team-a"]
    assert answers["checkDeploymentAvail"]["phDeploymentAvail"] is True
    created = answers["phDeployment"]["phDeployment"]
    assert (created["description"], created["modelURI"], created["env"]) == \
        ("", "", [{"name": "MODE", "value": ""}] if not apollo else
         [{"name": "MODE", "value": "", "__typename": "EnvVar"}])
    assert answers["createPhDeploymentClient"]["createPhDeploymentClient"]["name"] == "my-app"
    assert answers["deletePhDeployment"]["deletePhDeployment"]["id"] == deployment_id
    if apollo:
        assert me["__typename"] == "User"
        assert me["groups"][0]["resourceStatus"]["__typename"] == "ResourceStatus"


async def test_current_user_answers_primehub_defaults_for_what_has_no_meaning_here(
        api: Api, world: World) -> None:
    """Shared volumes, jobs, admins, images and datasets are PrimeHub's empty values."""
    query = operations()["CurrentUser"]
    group = (await api.data(query, token=world.alice))["me"]["groups"][0]
    assert (group["admins"], group["enabledSharedVolume"], group["sharedVolumeCapacity"],
            group["launchGroupOnly"], group["jobDefaultActiveDeadlineSeconds"],
            group["images"], group["datasets"]) == ("", False, None, None, None, [], [])
    assert group["resourceStatus"] == {"cpuUsage": "0", "memUsage": "0", "gpuUsage": "0"}
    assert (group["enabledDeployment"], group["maxDeploy"], group["deploymentsUsage"]) == \
        (True, 2, 0)
    instance_type = group["instanceTypes"][0]
    assert instance_type["spec"]["limits.cpu"] == 1
    assert instance_type["memoryLimit"] == 1


async def test_the_license_reports_the_real_limit_and_usage(start_api: StartApi) -> None:
    """maxModelDeploy is the configured limit, usage the running count: the banner's inputs."""
    api = await start_api(license_max_deploy=1)
    world = await seed(api)
    banner = operations()["LicenseWarningBanner"]
    before = (await api.data(banner, token=world.alice))["license"]
    assert (before["maxModelDeploy"], before["usage"]["maxModelDeploy"]) == (1, 0)
    assert (before["licenseStatus"], before["maxNode"], before["usage"]["maxNode"]) == \
        ("unexpired", -1, None)
    assert before["usage"]["maxGroup"] == 3
    for name in ("one-in", "two-in"):  # 1 + 10% grace rounds up to 2
        await api.data(CREATE, {"data": deployment(name)}, token=world.alice)
    after = (await api.data(banner, token=world.alice))["license"]
    assert after["usage"]["maxModelDeploy"] == 2  # above the limit: the banner warns
    unlimited = await start_api()
    limit = operations()["LicenseDeployLimit"]
    assert (await unlimited.data(limit, token=world.alice))["license"]["maxModelDeploy"] == -1


async def test_memory_shows_as_primehub_shows_it(api: Api, kubeclient: Kube) -> None:
    """1Gi shows 1 and 2G shows 2, not 1.073741824; other units convert within their family."""
    await kubeclient.create(INSTANCETYPES, namespace="default", body={
        "apiVersion": INSTANCETYPES.api_version, "kind": INSTANCETYPES.kind,
        "metadata": {"name": "binary"},
        "spec": {"limits.cpu": 1, "limits.memory": "1Gi", "requests.memory": "512Mi"}})
    found = await eventually(lambda: api.data(
        '{ instanceType(where: {id: "binary"}) { memoryLimit memoryRequest spec } }'))
    shown = found["instanceType"]
    assert (shown["memoryLimit"], shown["memoryRequest"]) == (1, 0.5)
    assert shown["spec"]["limits.memory"] == "1Gi"
