"""The rules a deployment must satisfy to (keep) running: pure functions over cached views.

Checked on create, update and start, in this order, each with PrimeHub's message where it
had one:

1. the licence has not expired (``LICENSE_ERROR``);
2. the group exists (``Group Not Found``) and has deployment enabled;
3. the instance type exists (``InstanceType not found: <name>``) and the group may use it;
4. what the deployment refers to in the namespace (a ``pvc://`` claim, ``imagePullSecret``,
   ``modelURISecret``) was assigned to the group and is not the product's own
   (:mod:`gateway.kube.references`), and a ``modelURISecret`` goes with a downloaded URI;
5. one pod of that type fits the group's per-pod quota (``EXCEED_QUOTA``);
6. starting one more keeps the group within ``maxDeploy`` and everyone within the licence
   limit plus PrimeHub's 10% grace. Only running (not stopped) deployments count, and this
   rule is skipped for a deployment that is already running: updating it never fails a limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from gateway.kube import references
from gateway.kube.groups import Group
from gateway.kube.instancetypes import InstanceType
from gateway.kube.phdeployments import PhDeployment, Predictor
from gateway.sources import Sources
from schema.errors import BadUserInput, ExceedQuota, LicenseError, ResourceNotFound

GROUP_DISABLED = "The model deployment is not enabled for the selected group"
_QUOTA_MESSAGES = {"cpu": "Group Cpu Quota exceeded", "gpu": "Group Gpu Quota exceeded",
                   "memory": "Group Memory exceeded"}
LICENSE_LIMIT = "Number of running model deployments exceeds license limitation"


def licence_valid(*, expires: datetime | None, now: datetime) -> None:
    if expires is not None and now >= expires:
        raise LicenseError("License expired")


def usable_group(group: Group | None) -> Group:
    if group is None:
        raise ResourceNotFound("Group Not Found")
    if not group.spec.enabled_deployment:
        raise BadUserInput("groupId", GROUP_DISABLED)
    return group


def usable_instance_type(group: Group, name: str,
                         instance_type: InstanceType | None) -> InstanceType:
    if instance_type is None:
        raise ResourceNotFound(f"InstanceType not found: {name}")
    if name not in group.spec.instance_types:
        raise BadUserInput("instanceType", f'"{name}" is not available to group '
                           f'"{group.name}"')
    return instance_type


def references_allowed(group: Group, predictor: Predictor, sources: Sources) -> None:
    """Every claim and Secret the predictor names is the group's to use."""
    found = references.first_refusal(predictor, group_name=group.name, group=group.spec,
                                     protected=sources.protected)
    if found is not None:
        reference, reason = found
        raise BadUserInput(reference.field, reason)
    scheme = urlsplit(predictor.model_uri or "").scheme.lower()
    if predictor.model_uri_secret and scheme not in sources.initializers:
        raise BadUserInput("modelURISecret", "only a downloaded model URI ("
                           f"{', '.join(f'{item}://' for item in sorted(sources.initializers))}"
                           ") takes a Secret")


def within_quota(group: Group, instance_type: InstanceType) -> None:
    exceeded = group.spec.quota.exceeded_by(instance_type.spec)
    if exceeded is not None:
        raise ExceedQuota(_QUOTA_MESSAGES[exceeded])


def running(deployments: Iterable[PhDeployment], *, group_id: str | None = None,
            excluding: str | None = None) -> int:
    """How many deployments are running (not stopped), optionally of one group."""
    return sum(1 for item in deployments
               if not item.spec.stop and item.name != excluding
               and (group_id is None or item.spec.group_id == group_id))


def room_to_start(group: Group, deployments: Iterable[PhDeployment], *, deployment_id: str,
                  licence_limit: int | None) -> None:
    """One more running deployment fits ``maxDeploy`` and the licence (with 10% grace)."""
    everything = list(deployments)
    limit = group.spec.max_deploy
    if limit is not None and running(everything, group_id=group.name,
                                     excluding=deployment_id) >= limit:
        raise ExceedQuota(f'Group "{group.name}" may run at most {limit} deployments at '
                          "once (maxDeploy); stop another deployment first")
    if licence_limit is not None and running(everything, excluding=deployment_id) >= \
            licence_allowance(licence_limit):
        raise ExceedQuota(LICENSE_LIMIT)


def licence_allowance(limit: int) -> int:
    """The limit plus 10%, rounded up, in exact integers (10 -> 11, 15 -> 17)."""
    return -(-11 * limit // 10)
