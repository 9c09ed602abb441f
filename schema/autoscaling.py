"""The ``autoscaling`` input: from GraphQL to the stored block, refused whole when it is wrong.

The rules are :func:`gateway.kube.autoscaling.refusal`'s (one statement for the API and the
controller); this module names the field as the client sent it (``autoscaling.maxReplicas``)
and adds the group's quota: ``maxReplicas`` pods of the instance type must fit it, since the
autoscaler may start that many.
"""

from __future__ import annotations

from gateway.kube.autoscaling import Autoscaling, refusal
from gateway.kube.groups import Group
from gateway.kube.instancetypes import InstanceType
from schema.errors import BadUserInput
from schema.inputs import AutoscalingInput

FIELD = "autoscaling"


def validated(data: AutoscalingInput | None, *, max_replicas: int) -> Autoscaling | None:
    """The block to store (``None``: fixed replicas); :class:`BadUserInput` naming the field."""
    if data is None:
        return None
    found = Autoscaling(min_replicas=data.min_replicas, max_replicas=data.max_replicas,
                        target_concurrency=data.target_concurrency,
                        target_cpu_percent=data.target_cpu_percent,
                        scale_to_zero_after_seconds=data.scale_to_zero_after_seconds)
    broken = refusal(found, max_replicas=max_replicas)
    if broken is not None:
        raise BadUserInput(f"{FIELD}.{broken[0]}", broken[1])
    return found


def within_quota(group: Group, instance_type: InstanceType,
                 autoscaling: Autoscaling | None) -> None:
    """``maxReplicas`` pods of ``instance_type`` fit the group's quota (where it has one)."""
    if autoscaling is None:
        return
    quota, spec, count = group.spec.quota, instance_type.spec, autoscaling.max_replicas
    for name, limit, size in (("cpu", quota.cpu, spec.cpu_limit),
                              ("memory", quota.memory, spec.memory_limit),
                              ("gpu", quota.gpu, spec.gpu_limit)):
        if limit is not None and size and size * count > limit:
            raise BadUserInput(f"{FIELD}.maxReplicas", (
                f"{count} pods of instance type {instance_type.name} need {size * count:g} "
                f"{name}, over the group's {name} quota of {limit:g}"))
