"""Pod and Deployment status shapes as the kubelet, scheduler and deployment controller write
them, for the controller's pure tests (the integration tests inject the same shapes)."""

from __future__ import annotations

from typing import Any


def pod(name: str, *, containers: list[dict[str, Any]] | None = None,
        init: list[dict[str, Any]] | None = None,
        conditions: list[dict[str, Any]] | None = None, phase: str = "Pending",
        deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if deleting:
        metadata["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    status: dict[str, Any] = {"phase": phase, "conditions": conditions or []}
    if containers is not None:
        status["containerStatuses"] = containers
    if init is not None:
        status["initContainerStatuses"] = init
    return {"metadata": metadata, "status": status}


def waiting(name: str, reason: str, message: str = "", *, restarts: int = 0,
            last: dict[str, Any] | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"reason": reason}
    if message:
        state["message"] = message
    return {"name": name, "ready": False, "restartCount": restarts,
            "state": {"waiting": state}, "lastState": {"terminated": last} if last else {}}


def running(name: str, *, ready: bool, restarts: int = 0,
            last: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "ready": ready, "restartCount": restarts,
            "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}},
            "lastState": {"terminated": last} if last else {}}


def terminated(name: str, exit_code: int, reason: str = "Error", message: str = "",
               *, restarts: int = 0) -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": exit_code, "reason": reason}
    if message:
        state["message"] = message
    return {"name": name, "ready": False, "restartCount": restarts,
            "state": {"terminated": state}, "lastState": {}}


def unschedulable(message: str) -> list[dict[str, Any]]:
    return [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": message}]


def replica_failure(message: str) -> dict[str, Any]:
    return {"status": {"conditions": [
        {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
         "message": message}]}}
