"""Server-side printing for kubectl get."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.localcluster.kinds import BUILTIN_KINDS, Kind
from gateway.localcluster.tables import age, table, wants_table

PODS = next(kind for kind in BUILTIN_KINDS if kind.key == "/pods")


def _ago(seconds: int) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_kubectl_accept_header_asks_for_a_table() -> None:
    """kubectl's Accept list selects tables; plain JSON clients do not."""
    assert wants_table("application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
    assert not wants_table("application/json")


def test_age_reads_like_kubectl() -> None:
    """Ages use the largest sensible unit: seconds, minutes, hours, days."""
    assert [age({"metadata": {"creationTimestamp": _ago(s)}}) for s in (5, 150, 4 * 3600,
                                                                         3 * 86400)] == [
        "5s", "2m", "4h", "3d"]


def test_pod_rows_show_readiness_and_the_waiting_reason() -> None:
    """A pod stuck pulling its image prints 0/1 and ImagePullBackOff."""
    pod = {"metadata": {"name": "p", "creationTimestamp": _ago(1)},
           "spec": {"containers": [{"name": "model"}], "nodeName": "n"},
           "status": {"phase": "Pending", "containerStatuses": [
               {"ready": False, "restartCount": 2,
                "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}
    printed = table(PODS, [pod], crd_columns=[], resource_version="7")
    names = [column["name"] for column in printed["columnDefinitions"]]
    assert names == ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"]
    assert printed["rows"][0]["cells"][:4] == ["p", "0/1", "ImagePullBackOff", 2]


def test_custom_kinds_print_their_crd_columns() -> None:
    """additionalPrinterColumns are followed by Age, with simple JSON paths resolved."""
    kind = Kind(group="example.com", version="v1", plural="widgets", kind="Widget",
                namespaced=True, builtin=False)
    obj = {"metadata": {"name": "w", "creationTimestamp": _ago(1)},
           "status": {"phase": "Deployed"}}
    printed = table(kind, [obj], crd_columns=[{"name": "Status", "type": "string",
                                               "jsonPath": ".status.phase"}],
                    resource_version="1")
    assert printed["rows"][0]["cells"][:2] == ["w", "Deployed"]
    assert printed["columnDefinitions"][-1]["name"] == "Age"
