"""Rolling-update bounds that keep a group within its quota."""

from __future__ import annotations

from gateway.controller.rollouts import (
    PodSize,
    Rollout,
    plan,
    replicas_of,
    size_of_instance_type,
    size_of_template,
)
from gateway.kube.groups import Quota
from gateway.kube.instancetypes import InstanceTypeSpec

GIB = 2**30
SMALL = PodSize(cpu=1, memory=GIB, gpu=0)


def test_unlimited_group_surges_a_quarter_and_keeps_every_pod_available() -> None:
    """No quota: surge 25% of replicas (at least 1), never take a pod away first."""
    assert plan(quota=Quota(), replicas=1, new_size=SMALL, old_size=SMALL,
                others=[]) == Rollout(1, 0)
    assert plan(quota=Quota(), replicas=8, new_size=SMALL, old_size=SMALL,
                others=[]) == Rollout(2, 0)


def test_surge_is_cut_to_what_the_quota_leaves_free() -> None:
    """Quota 10 CPU: 8 pods here leave room for the usual 2 surge pods; 1 more elsewhere, 1."""
    rollout = plan(quota=Quota(cpu=10), replicas=8, new_size=SMALL, old_size=SMALL,
                   others=[])
    assert rollout == Rollout(max_surge=2, max_unavailable=0)
    rollout = plan(quota=Quota(cpu=10), replicas=8, new_size=SMALL, old_size=SMALL,
                   others=[(1, SMALL)])
    assert rollout == Rollout(max_surge=1, max_unavailable=0)


def test_a_full_group_replaces_pods_one_at_a_time() -> None:
    """No room for one more pod: surge 0 and unavailable 1 (never above steady state)."""
    rollout = plan(quota=Quota(cpu=4, memory=8 * GIB), replicas=2, new_size=SMALL,
                   old_size=SMALL, others=[(2, SMALL)])
    assert rollout == Rollout(max_surge=0, max_unavailable=1)


def test_the_larger_of_old_and_new_pods_counts_for_each_resource() -> None:
    """Shrinking pods still counts the old size while old pods run."""
    big = PodSize(cpu=2, memory=GIB)
    rollout = plan(quota=Quota(cpu=5), replicas=2, new_size=SMALL, old_size=big, others=[])
    assert rollout == Rollout(max_surge=1, max_unavailable=0)
    rollout = plan(quota=Quota(cpu=4), replicas=2, new_size=SMALL, old_size=big, others=[])
    assert rollout == Rollout(max_surge=0, max_unavailable=1)


def test_gpu_and_memory_limits_apply_too() -> None:
    """A resource the pod uses and the quota limits bounds the surge."""
    gpu_pod = PodSize(cpu=1, memory=GIB, gpu=1)
    assert plan(quota=Quota(gpu=1), replicas=1, new_size=gpu_pod, old_size=None,
                others=[]) == Rollout(0, 1)
    assert plan(quota=Quota(memory=3 * GIB), replicas=2, new_size=SMALL, old_size=None,
                others=[]) == Rollout(1, 0)


def test_sizes_are_read_from_instance_types_and_live_templates() -> None:
    """Limits are preferred, requests stand in; quantities are parsed; replicas default 1."""
    spec = InstanceTypeSpec(cpu_request=0.5, memory_limit=GIB, gpu_limit=1)
    assert size_of_instance_type(spec) == PodSize(cpu=0.5, memory=GIB, gpu=1)
    live = {"spec": {"replicas": 3, "template": {"spec": {"containers": [
        {"resources": {"limits": {"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": "1"}}},
        {"resources": {"requests": {"cpu": "1", "memory": "512Mi"}}},
        {"name": "no-resources"},
    ]}}}}
    assert size_of_template(live) == PodSize(cpu=1.5, memory=1.5 * GIB, gpu=1)
    assert replicas_of(live) == 3
    assert replicas_of({"spec": {}}) == 1
