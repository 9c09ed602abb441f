"""The chart's RBAC is what the components get: a request its Roles do not allow is refused,
and the audit-log check that guards every product test names the rule that was missing."""

from __future__ import annotations

import pytest
from kubernetes_asyncio.client import ApiClient, CoreV1Api
from kubernetes_asyncio.client.exceptions import ApiException

from realcluster.auditing import AuditLog, Refusal
from realcluster.chartinstall import Installed, token_for
from realcluster.controlplane import ControlPlane, client_configuration
from realcluster.graphqlkit import eventually

pytestmark = pytest.mark.realcluster


async def test_a_request_outside_the_chart_rbac_is_refused_and_named(
        control_plane: ControlPlane, installed: Installed, audit: AuditLog) -> None:
    """The API's ServiceAccount may not list nodes; the audit check names that rule."""
    account = installed.service_accounts["api"]
    token = token_for(control_plane, installed.namespace, account)
    user = f"system:serviceaccount:{installed.namespace}:{account}"
    audit.refusals({user})  # forget anything earlier
    async with ApiClient(client_configuration(control_plane.admin, token=token)) as api:
        with pytest.raises(ApiException) as refused:
            await CoreV1Api(api).list_node()
    assert refused.value.status == 403

    async def named() -> list[Refusal]:
        found = audit.refusals({user})
        assert found, "no refusal in the audit log yet"
        return found

    (refusal,) = await eventually(named)
    assert str(refusal) == (
        f"{user} was refused `list` on nodes cluster-wide: the chart grants no rule "
        'apiGroups: [""], resources: [nodes], verbs: [list]')
