"""The rules at create, update and start: group, instance type, quota, maxDeploy, licence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sdkdocs
from apikit import Api, StartApi, World, deployment, seed


async def test_groups_must_exist_and_have_deployment_enabled(api: Api, world: World) -> None:
    """Unknown group: "Group Not Found" (admin); disabled group: PrimeHub's sentence."""
    error = await api.error(sdkdocs.CREATE, {"data": deployment("iris-00001", group="nobody")},
                            token=world.root)
    assert (error["message"], error["extensions"]["code"]) == (
        "Group Not Found", "RESOURCE_NOT_FOUND")
    error = await api.error(sdkdocs.CREATE, {"data": deployment("iris-00001",
                                                                group="team-off")},
                            token=world.carol)
    assert error["message"] == ("groupId: The model deployment is not enabled for the selected "
                                "group")
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "groupId"}


async def test_instance_types_must_exist_and_be_the_groups(api: Api, world: World) -> None:
    """Unknown: "InstanceType not found: <name>"; another group's: names instanceType."""
    error = await api.error(sdkdocs.CREATE, {"data": deployment("iris-00002",
                                                                instanceType="huge")},
                            token=world.alice)
    assert (error["message"], error["extensions"]["code"]) == (
        "InstanceType not found: huge", "RESOURCE_NOT_FOUND")
    error = await api.error(sdkdocs.CREATE, {"data": deployment("iris-00002",
                                                                instanceType="gpu-1")},
                            token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "instanceType"}
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00002")}, token=world.alice)
    error = await api.error(sdkdocs.UPDATE, {"where": {"id": "iris-00002"},
                                             "data": {"instanceType": "gpu-1"}},
                            token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "instanceType"}


async def test_pods_must_fit_the_groups_quota(api: Api, world: World) -> None:
    """An instance type larger than the group's per-pod quota is EXCEED_QUOTA (PrimeHub text)."""
    for quota, message in (("quotaGpu: 0", "Group Gpu Quota exceeded"),
                           ("quotaGpu: null, quotaCpu: 2", "Group Cpu Quota exceeded"),
                           ("quotaCpu: null, quotaMemory: 8", "Group Memory exceeded")):
        await api.data(f'mutation {{ updateGroup(where: {{id: "team-b"}}, data: {{{quota}}})'
                       " { id } }")
        error = await api.error(sdkdocs.CREATE, {"data": deployment(
            "big-00001", group="team-b", instanceType="gpu-1")}, token=world.bob)
        assert (error["message"], error["extensions"]["code"]) == (message, "EXCEED_QUOTA")
    await api.data(sdkdocs.CREATE, {"data": deployment("small-0001", group="team-b")},
                   token=world.bob)


async def test_max_deploy_counts_running_deployments(api: Api, world: World) -> None:
    """team-a may run 2: a third fails, a stopped one frees a slot, updates never fail."""
    for name in ("run-00001", "run-00002"):
        await api.data(sdkdocs.CREATE, {"data": deployment(name)}, token=world.alice)
    error = await api.error(sdkdocs.CREATE, {"data": deployment("run-00003")},
                            token=world.alice)
    assert error["extensions"]["code"] == "EXCEED_QUOTA"
    assert "maxDeploy" in error["message"]

    await api.data('mutation { updateGroup(where: {id: "team-a"}, data: {maxDeploy: 1}) '
                   "{ id } }")
    updated = await api.data(sdkdocs.UPDATE, {"where": {"id": "run-00001"},
                                              "data": {"replicas": 2}}, token=world.alice)
    assert updated["updatePhDeployment"]["replicas"] == 2

    await api.data(sdkdocs.STOP, {"where": {"id": "run-00002"}}, token=world.alice)
    error = await api.error(sdkdocs.START, {"where": {"id": "run-00002"}}, token=world.alice)
    assert error["extensions"]["code"] == "EXCEED_QUOTA"
    error = await api.error(sdkdocs.UPDATE, {"where": {"id": "run-00002"},
                                             "data": {"replicas": 3}}, token=world.alice)
    assert error["extensions"]["code"] == "EXCEED_QUOTA"
    await api.data(sdkdocs.STOP, {"where": {"id": "run-00001"}}, token=world.alice)
    await api.data(sdkdocs.START, {"where": {"id": "run-00002"}}, token=world.alice)


async def test_the_licence_limit_allows_ten_percent_more(start_api: StartApi) -> None:
    """With a licence of 2 deployments, 3 may run (10% grace, rounded up); the 4th fails."""
    api = await start_api(license_max_deploy=2)
    world = await seed(api)
    await api.data('mutation { updateGroup(where: {id: "team-a"}, data: {maxDeploy: null}) '
                   "{ id } }")
    for name in ("lic-00001", "lic-00002", "lic-00003"):
        await api.data(sdkdocs.CREATE, {"data": deployment(name)}, token=world.alice)
    error = await api.error(sdkdocs.CREATE, {"data": deployment("lic-00004", group="team-b")},
                            token=world.bob)
    assert (error["message"], error["extensions"]["code"]) == (
        "Number of running model deployments exceeds license limitation", "EXCEED_QUOTA")
    await api.data(sdkdocs.STOP, {"where": {"id": "lic-00001"}}, token=world.alice)
    await api.data(sdkdocs.CREATE, {"data": deployment("lic-00004", group="team-b")},
                   token=world.bob)


async def test_an_expired_licence_refuses_new_deployments(start_api: StartApi) -> None:
    """After the licence expires, creating a deployment fails with LICENSE_ERROR."""
    api = await start_api(license_expires=datetime.now(UTC) - timedelta(days=1))
    world = await seed(api)
    error = await api.error(sdkdocs.CREATE, {"data": deployment("exp-00001")},
                            token=world.alice)
    assert (error["message"], error["extensions"]["code"]) == ("License expired",
                                                               "LICENSE_ERROR")
