"""Server-side printing: ``meta.k8s.io/v1`` Tables, which ``kubectl get`` asks for.

kubectl sends ``Accept: application/json;as=Table;g=meta.k8s.io;v=v1`` and prints the columns
the server chooses. Built-in kinds get the columns a real API server prints for them (pods:
READY, STATUS, RESTARTS, AGE, IP, NODE; deployments: READY, UP-TO-DATE, AVAILABLE...); custom
resources get their CRD's ``additionalPrinterColumns`` (simple ``.a.b`` JSON paths); every
kind gets NAME first and AGE.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gateway.localcluster.kinds import Kind
from gateway.localcluster.store import Object

Column = tuple[str, str, int, Callable[[Object], Any]]  # name, type, priority, cell


def wants_table(accept: str) -> bool:
    return any("as=Table" in part and "g=meta.k8s.io" in part for part in accept.split(","))


def age(obj: Object) -> str:
    """How long ago the object was created, the way kubectl shows it (5s, 3m, 2h, 4d)."""
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return "<unknown>"
    seconds = int((datetime.now(UTC) - datetime.fromisoformat(created)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * 2 or (unit == "m" and seconds >= 60):
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _pod_status(pod: Object) -> str:
    status = pod.get("status") or {}
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        reason = (state.get("waiting") or {}).get("reason") or (
            state.get("terminated") or {}).get("reason")
        if reason:
            return str(reason)
    return str(status.get("phase", "Pending"))


def _pod_ready(pod: Object) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len(pod["spec"].get("containers") or [])
    return f"{sum(bool(s.get('ready')) for s in statuses)}/{total}"


def _ports(service: Object) -> str:
    ports = (service.get("spec") or {}).get("ports") or []
    return ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"


_BUILTIN: dict[str, list[Column]] = {
    "/pods": [
        ("Ready", "string", 0, _pod_ready),
        ("Status", "string", 0, _pod_status),
        ("Restarts", "integer", 0, lambda p: sum(
            s.get("restartCount", 0) for s in (p.get("status") or {}).get(
                "containerStatuses") or [])),
        ("Age", "string", 0, age),
        ("IP", "string", 1, lambda p: (p.get("status") or {}).get("podIP", "<none>")),
        ("Node", "string", 1, lambda p: p["spec"].get("nodeName", "<none>")),
    ],
    "apps/deployments": [
        ("Ready", "string", 0, lambda d: f"{(d.get('status') or {}).get('readyReplicas', 0)}/"
                                         f"{d['spec'].get('replicas', 0)}"),
        ("Up-to-date", "integer", 0, lambda d: (d.get("status") or {}).get("updatedReplicas", 0)),
        ("Available", "integer", 0,
         lambda d: (d.get("status") or {}).get("availableReplicas", 0)),
    ],
    "/services": [
        ("Type", "string", 0, lambda s: s["spec"].get("type", "ClusterIP")),
        ("Cluster-IP", "string", 0, lambda s: s["spec"].get("clusterIP", "<none>")),
        ("External-IP", "string", 0, lambda s: "<none>"),
        ("Port(s)", "string", 0, _ports),
    ],
    "/namespaces": [("Status", "string", 0, lambda n: (n.get("status") or {}).get("phase"))],
}


def _json_path(path: str) -> Callable[[Object], Any]:
    """A printer column's ``.a.b.c`` path (the common subset of JSONPath CRDs use)."""
    keys = [key for key in path.strip().lstrip("{").rstrip("}").split(".") if key]

    def cell(obj: Object) -> Any:
        value: Any = obj
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return cell


def _as_age(cell: Callable[[Object], Any]) -> Callable[[Object], Any]:
    """A date column printed as an age, like kubectl shows CRD date columns."""
    return lambda obj: age({"metadata": {"creationTimestamp": cell(obj)}})


def columns(kind: Kind, crd_columns: list[dict[str, Any]]) -> list[Column]:
    if not kind.builtin:
        custom: list[Column] = []
        for column in crd_columns:
            cell = _json_path(column.get("jsonPath", ""))
            if column.get("type") == "date":
                custom.append((column["name"], "string", column.get("priority", 0),
                               _as_age(cell)))
            else:
                custom.append((column["name"], column.get("type", "string"),
                               column.get("priority", 0), cell))
        return custom
    return _BUILTIN.get(kind.key, [])


def table(kind: Kind, objects: list[Object], *, crd_columns: list[dict[str, Any]],
          resource_version: str, continue_token: str | None = None) -> dict[str, Any]:
    """The Table for ``objects``: NAME, the kind's columns, AGE; rows carry metadata."""
    chosen = columns(kind, crd_columns)
    has_age = any(name.lower() == "age" for name, *_ in chosen)
    everything: list[Column] = [("Name", "string", 0, lambda o: o["metadata"]["name"]),
                                *chosen]
    if not has_age:
        everything.append(("Age", "string", 0, age))
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
        "columnDefinitions": [{"name": name, "type": kind_of, "format": "",
                               "description": name, "priority": priority}
                              for name, kind_of, priority, _ in everything],
        "rows": [{"cells": [cell(obj) for *_, cell in everything],
                  "object": {"kind": "PartialObjectMetadata",
                             "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj["metadata"]}} for obj in objects],
    }
