"""The start rules: group, instance type, per-pod quota, maxDeploy and the licence limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.kube.groups import Group, GroupSpec, Quota
from gateway.kube.instancetypes import InstanceType, InstanceTypeSpec
from gateway.kube.phdeployments import DeploymentSpec, PhDeployment, Predictor
from schema import rules
from schema.errors import BadUserInput, ExceedQuota, LicenseError, ResourceNotFound

GIB = 2**30
SMALL = InstanceType("small", InstanceTypeSpec(cpu_limit=1, memory_limit=GIB, gpu_limit=0))
GPU = InstanceType("gpu", InstanceTypeSpec(cpu_limit=4, memory_limit=8 * GIB, gpu_limit=1))


def group(**spec: object) -> Group:
    values: dict[str, object] = {"enabled_deployment": True, "instance_types": ("small", "gpu")}
    values.update(spec)
    return Group("team", GroupSpec(**values))  # type: ignore[arg-type]


def deployment(name: str, *, group_id: str = "team", stop: bool = False) -> PhDeployment:
    return PhDeployment(name=name, namespace="default", spec=DeploymentSpec(
        predictor=Predictor(replicas=1, model_image="m", instance_type="small"),
        group_id=group_id, stop=stop))


def test_missing_groups_are_primehubs_group_not_found() -> None:
    """No group resource: RESOURCE_NOT_FOUND "Group Not Found"."""
    with pytest.raises(ResourceNotFound, match=r"^Group Not Found$"):
        rules.usable_group(None)


def test_groups_without_deployment_are_refused_with_primehubs_message() -> None:
    """A group with deployment disabled gets PrimeHub's sentence on field groupId."""
    with pytest.raises(BadUserInput) as caught:
        rules.usable_group(group(enabled_deployment=False))
    assert caught.value.field == "groupId"
    assert rules.GROUP_DISABLED in caught.value.message


def test_unknown_instance_types_are_primehubs_not_found() -> None:
    """An instance type that does not exist: "InstanceType not found: <name>"."""
    with pytest.raises(ResourceNotFound, match=r"^InstanceType not found: huge$"):
        rules.usable_instance_type(group(), "huge", None)


def test_instance_types_outside_the_group_are_refused() -> None:
    """An existing instance type the group may not use names field instanceType."""
    with pytest.raises(BadUserInput) as caught:
        rules.usable_instance_type(group(instance_types=("small",)), "gpu", GPU)
    assert caught.value.field == "instanceType"


@pytest.mark.parametrize(("quota", "message"), [
    (Quota(gpu=0), "Group Gpu Quota exceeded"), (Quota(cpu=2), "Group Cpu Quota exceeded"),
    (Quota(memory=4 * GIB), "Group Memory exceeded"),
])
def test_pods_larger_than_the_quota_exceed_it(quota: Quota, message: str) -> None:
    """One pod's limits above the group's quota: EXCEED_QUOTA with PrimeHub's text."""
    with pytest.raises(ExceedQuota, match=rf"^{message}$"):
        rules.within_quota(group(quota=quota), GPU)


def test_pods_within_the_quota_pass() -> None:
    """Limits equal to the quota fit; absent quota values are unlimited."""
    rules.within_quota(group(quota=Quota(cpu=4, memory=8 * GIB, gpu=1)), GPU)
    rules.within_quota(group(quota=Quota()), GPU)


def test_max_deploy_counts_running_deployments_of_the_group_only() -> None:
    """Stopped deployments and other groups' do not count towards maxDeploy."""
    others = [deployment("a"), deployment("b", stop=True), deployment("c", group_id="other")]
    rules.room_to_start(group(max_deploy=2), others, deployment_id="new", licence_limit=None)
    with pytest.raises(ExceedQuota, match="maxDeploy"):
        rules.room_to_start(group(max_deploy=1), others, deployment_id="new",
                            licence_limit=None)


def test_the_deployment_itself_is_not_counted_twice() -> None:
    """Restarting a deployment excludes itself from the running count."""
    rules.room_to_start(group(max_deploy=1), [deployment("a")], deployment_id="a",
                        licence_limit=None)


@pytest.mark.parametrize(("limit", "allowed"), [(10, 11), (15, 17), (1, 2), (100, 110)])
def test_the_licence_limit_has_ten_percent_grace(limit: int, allowed: int) -> None:
    """The licence allows its limit plus 10%, rounded up, in exact arithmetic."""
    assert rules.licence_allowance(limit) == allowed
    running = [deployment(f"d{index}", group_id=f"g{index}") for index in range(allowed)]
    rules.room_to_start(group(), running[:-1], deployment_id="new", licence_limit=limit)
    with pytest.raises(ExceedQuota, match=rf"^{rules.LICENSE_LIMIT}$"):
        rules.room_to_start(group(), running, deployment_id="new", licence_limit=limit)


def test_an_expired_licence_is_a_licence_error() -> None:
    """After the licence expiry, starting fails with LICENSE_ERROR "License expired"."""
    now = datetime(2030, 1, 1, tzinfo=UTC)
    rules.licence_valid(expires=None, now=now)
    rules.licence_valid(expires=now + timedelta(seconds=1), now=now)
    with pytest.raises(LicenseError, match=r"^License expired$") as caught:
        rules.licence_valid(expires=now, now=now)
    assert caught.value.extensions == {"code": "LICENSE_ERROR"}
