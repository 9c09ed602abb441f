"""Admin operations: groups and instance types, created, read, updated and deleted."""

from __future__ import annotations

import sdkdocs
from apikit import Api, World, deployment

from gateway.kube import groups, instancetypes
from gateway.kube.client import Kube
from gateway.kube.groups import GROUPS
from gateway.kube.instancetypes import INSTANCETYPES

GROUP_FIELDS = """id name displayName enabledDeployment maxDeploy quotaCpu quotaGpu
    quotaMemory members deploymentsUsage instanceTypes { name }"""


async def test_groups_lifecycle(api: Api, world: World, kubeclient: Kube) -> None:
    """createGroup, group, groups, updateGroup and deleteGroup, stored in the group CRD."""
    made = await api.data(f"""mutation {{ createGroup(data: {{name: "team-z",
        displayName: "Team Z", members: ["zoe", "zed", "zoe"], enabledDeployment: true,
        maxDeploy: 3, quotaCpu: 1.5, quotaGpu: 0, quotaMemory: 2,
        instanceTypes: ["cpu-1"]}}) {{ {GROUP_FIELDS} }} }}""")
    assert made["createGroup"] == {
        "id": "team-z", "name": "team-z", "displayName": "Team Z", "enabledDeployment": True,
        "maxDeploy": 3, "quotaCpu": 1.5, "quotaGpu": 0, "quotaMemory": 2.0,
        "members": ["zoe", "zed"], "deploymentsUsage": 0, "instanceTypes": [{"name": "cpu-1"}]}
    stored = groups.parse(await kubeclient.get(GROUPS, namespace="default", name="team-z"))
    assert stored.spec.quota == groups.Quota(cpu=1.5, memory=2e9, gpu=0)

    updated = await api.data(f"""mutation {{ updateGroup(where: {{id: "team-z"}}, data: {{
        maxDeploy: null, quotaMemory: null, members: ["zoe"],
        instanceTypes: ["cpu-1", "gpu-1"]}}) {{ {GROUP_FIELDS} }} }}""")
    group = updated["updateGroup"]
    assert (group["maxDeploy"], group["quotaMemory"], group["quotaCpu"], group["members"]) == (
        None, None, 1.5, ["zoe"])
    assert group["instanceTypes"] == [{"name": "cpu-1"}, {"name": "gpu-1"}]

    names = [item["id"] for item in (await api.data("{ groups { id } }"))["groups"]]
    assert names == ["team-a", "team-b", "team-off", "team-z"]
    assert (await api.data('{ group(where: {id: "team-z"}) { displayName } }'))["group"] == {
        "displayName": "Team Z"}
    await api.data('mutation { deleteGroup(where: {id: "team-z"}) { id } }')
    error = await api.error('{ group(where: {id: "team-z"}) { id } }')
    assert (error["message"], error["extensions"]["code"]) == ('group "team-z" not found',
                                                               "RESOURCE_NOT_FOUND")


async def test_group_input_is_validated(api: Api, world: World) -> None:
    """Group names, limits and instance types are checked, naming the field."""
    for document, field in (
            ('createGroup(data: {name: "Team_Z"})', "name"),
            ('createGroup(data: {name: "team-z", maxDeploy: -1})', "maxDeploy"),
            ('createGroup(data: {name: "team-z", quotaCpu: -1})', "quotaCpu"),
            ('createGroup(data: {name: "team-z", instanceTypes: ["nope"]})', "instanceTypes"),
            ('createGroup(data: {name: "team-a"})', "name"),
            ('updateGroup(where: {id: "team-a"}, data: {members: [" "]})', "members")):
        error = await api.error(f"mutation {{ {document} {{ id }} }}")
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, document
    error = await api.error('mutation { updateGroup(where: {id: "nope"}, data: {maxDeploy: 1})'
                            " { id } }")
    assert error["extensions"]["code"] == "RESOURCE_NOT_FOUND"


async def test_group_membership_grants_access(api: Api, world: World) -> None:
    """Adding bob to team-a lets him see team-a's deployments; removing him takes it away."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00001")}, token=world.alice)
    where = {"where": {"id": "iris-00001"}}
    assert (await api.error(sdkdocs.GET, where, token=world.bob))["extensions"][
        "code"] == "NOT_AUTH"
    await api.data('mutation { updateGroup(where: {id: "team-a"}, '
                   'data: {members: ["alice", "bob"]}) { id } }')
    assert (await api.data(sdkdocs.GET, where, token=world.bob))["phDeployment"]["id"] == \
        "iris-00001"
    await api.data('mutation { updateGroup(where: {id: "team-a"}, data: {members: ["alice"]})'
                   " { id } }")
    assert (await api.error(sdkdocs.GET, where, token=world.bob))["extensions"][
        "code"] == "NOT_AUTH"


async def test_instance_types_lifecycle(api: Api, world: World, kubeclient: Kube) -> None:
    """Instance types are created, read, updated and deleted in PrimeHub's shape."""
    made = await api.data("""mutation { createInstanceType(data: {name: "mem-8",
        displayName: "Memory 8", description: "big memory", cpuLimit: 2, memoryLimit: 8,
        cpuRequest: 1, memoryRequest: 4}) { id displayName memoryLimit gpuLimit } }""")
    assert made["createInstanceType"] == {"id": "mem-8", "displayName": "Memory 8",
                                          "memoryLimit": 8.0, "gpuLimit": 0}
    raw = await kubeclient.get(INSTANCETYPES, namespace="default", name="mem-8")
    assert (raw["spec"]["limits.cpu"], raw["spec"]["limits.memory"],
            raw["spec"]["requests.memory"]) == (2, "8G", "4G")

    updated = await api.data("""mutation { updateInstanceType(where: {id: "mem-8"}, data: {
        memoryLimit: 16, gpuLimit: 2, description: null,
        tolerations: [{key: "k", operator: "Equal", value: "v", effect: "NoExecute"}]}) {
        memoryLimit gpuLimit description cpuLimit tolerations { key value } } }""")
    assert updated["updateInstanceType"] == {
        "memoryLimit": 16.0, "gpuLimit": 2, "description": None, "cpuLimit": 2.0,
        "tolerations": [{"key": "k", "value": "v"}]}
    stored = instancetypes.parse(await kubeclient.get(INSTANCETYPES, namespace="default",
                                                      name="mem-8"))
    assert stored.spec.memory_limit == 16e9
    names = [item["id"] for item in (await api.data("{ instanceTypes { id } }"))[
        "instanceTypes"]]
    assert names == ["cpu-1", "gpu-1", "mem-8"]
    await api.data('mutation { deleteInstanceType(where: {id: "mem-8"}) { id } }')
    error = await api.error('{ instanceType(where: {id: "mem-8"}) { id } }')
    assert error["extensions"]["code"] == "RESOURCE_NOT_FOUND"


async def test_instance_type_input_is_validated(api: Api, world: World) -> None:
    """Names, required limits, signs and tolerations are checked, naming the field."""
    for document, field in (
            ('createInstanceType(data: {name: "Big", cpuLimit: 1, memoryLimit: 1})', "name"),
            ('createInstanceType(data: {name: "x", memoryLimit: 1})', "cpuLimit"),
            ('createInstanceType(data: {name: "x", cpuLimit: 1})', "memoryLimit"),
            ('createInstanceType(data: {name: "x", cpuLimit: -1, memoryLimit: 1})', "cpuLimit"),
            ('createInstanceType(data: {name: "x", cpuLimit: 1, memoryLimit: 1, gpuLimit: -2})',
             "gpuLimit"),
            ('createInstanceType(data: {name: "x", cpuLimit: 1, memoryLimit: 1, '
             'tolerations: [{operator: "Maybe"}]})', "tolerations[0].operator"),
            ('createInstanceType(data: {name: "x", cpuLimit: 1, memoryLimit: 1, '
             "nodeSelector: {a: 1}})", "nodeSelector"),
            ('createInstanceType(data: {name: "cpu-1", cpuLimit: 1, memoryLimit: 1})', "name"),
            ('updateInstanceType(where: {id: "cpu-1"}, data: {cpuLimit: null})', "cpuLimit")):
        error = await api.error(f"mutation {{ {document} {{ id }} }}")
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, document
