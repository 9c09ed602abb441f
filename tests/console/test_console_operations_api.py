"""Every query and mutation the console sends runs against a live API, in the order the
console's pages use them, and returns what the pages read."""

from __future__ import annotations

import time
from typing import Any

import pytest
from browserkit import DevStack
from consoleops import kinds, texts

pytestmark = pytest.mark.timeout(120)


class Console:
    """Sends the console's own documents by operation name, as the admin."""

    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.documents = texts()
        self.sent: set[str] = set()

    def __call__(self, operation: str, /, **variables: Any) -> dict[str, Any]:
        self.sent.add(operation)
        return self.stack.gql(self.documents[operation], variables)


def wait_for_history(run: Console, deployment_id: str, message: str) -> list[dict[str, Any]]:
    """The history once the controller has recorded an entry with ``message``."""
    deadline = time.monotonic() + 30
    while True:
        history: list[dict[str, Any]] = run("DeploymentHistory", id=deployment_id)[
            "phDeployment"]["history"]
        if any(item["deployment"]["updateMessage"] == message for item in history):
            return history
        assert time.monotonic() < deadline, f"no history entry {message!r}: {history}"
        time.sleep(0.2)


def test_every_console_operation_runs_against_the_api(dev_stack: DevStack) -> None:
    """Each query and mutation in operations.graphql runs without errors on a dev stack."""
    run = Console(dev_stack)
    me = run("Me")["me"]
    assert me["isAdmin"] is True
    assert any(group["id"] == "demo" for group in me["effectiveGroups"])
    assert run("License")["license"]["maxModelDeploy"] == -1
    assert run("DeploymentIdAvailable", id="ops-one")["phDeploymentAvail"] is True
    created = run("CreateDeployment", data={
        "id": "ops-one", "name": "ops one", "groupId": "demo", "instanceType": "cpu-1",
        "modelImage": "infuseai/sklearn-prepackaged:v0.1.0", "replicas": 1,
        "endpointAccessType": "private", "env": [{"name": "A", "value": "1"}],
        "metadata": {"team": "ds"}, "updateMessage": "first"})
    assert created["createPhDeployment"]["id"] == "ops-one"
    listed = run("Deployments", where={"groupId_in": ["demo"]})["phDeployments"]
    assert "ops-one" in [card["id"] for card in listed]
    detail = run("Deployment", id="ops-one")["phDeployment"]
    assert detail["env"] == [{"name": "A", "value": "1"}]
    assert detail["instanceType"]["name"] == "cpu-1"
    client = run("CreateClient", deploymentId="ops-one", name="app")["createPhDeploymentClient"]
    assert client["plainTextToken"]
    rotated = run("RotateClient", deploymentId="ops-one", name="app", overlapSeconds=60)
    assert rotated["rotatePhDeploymentClient"]["plainTextToken"] not in (
        None, client["plainTextToken"])
    updated = run("UpdateDeployment", id="ops-one", data={"replicas": 2, "updateMessage": "two"})
    assert updated["updatePhDeployment"]["replicas"] == 2
    history = wait_for_history(run, "ops-one", "two")  # before the next change, which may
    assert history[0]["deployment"]["endpointClients"] == [{"name": "app"}]  # coalesce with it
    first = next(item for item in history if item["deployment"]["updateMessage"] == "first")
    back = run("RollbackDeployment", id="ops-one", historyId=first["deployment"]["id"],
               updateMessage="back")
    assert back["rollbackPhDeployment"]["id"] == "ops-one"
    assert run("StopDeployment", id="ops-one")["stopPhDeployment"]["stop"] is True
    assert run("StartDeployment", id="ops-one")["deployPhDeployment"]["stop"] is False
    remaining = run("DeleteClient", deploymentId="ops-one", name="app")["deletePhDeploymentClient"]
    assert remaining["endpointClients"] == []
    assert run("DeleteDeployment", id="ops-one")["deletePhDeployment"]["id"] == "ops-one"

    run("CreateInstanceType", data={"name": "ops-type", "cpuLimit": 1.0, "memoryLimit": 1.0})
    run("UpdateInstanceType", id="ops-type", data={"displayName": "Ops"})
    assert "ops-type" in [item["name"] for item in run("InstanceTypes")["instanceTypes"]]
    run("CreateGroup", data={"name": "ops-group", "instanceTypes": ["ops-type"]})
    run("UpdateGroup", id="ops-group", data={"maxDeploy": 2})
    groups = {group["id"]: group for group in run("Groups")["groups"]}
    assert groups["ops-group"]["maxDeploy"] == 2
    run("DeleteGroup", id="ops-group")
    run("DeleteInstanceType", id="ops-type")
    issued = run("CreateApiToken", data={"username": "ops-user",
                                         "expiresAt": "2099-01-01T00:00:00Z"})
    token_id = issued["createApiToken"]["apiToken"]["id"]
    assert token_id in [item["id"] for item in run("ApiTokens")["apiTokens"]]
    rotated_token = run("RotateApiToken", id=token_id, overlapSeconds=0)["rotateApiToken"]
    assert rotated_token["apiToken"]["rotatedAt"] is not None
    run("RevokeApiToken", id=token_id, reason="ops test done")

    audited = run("AuditEvents", where={"target": "deployment/ops-one"}, first=50, after=None)
    actions = {edge["node"]["action"] for edge in audited["auditEvents"]["edges"]}
    assert {"createPhDeployment", "rotatePhDeploymentClient", "rollbackPhDeployment"} <= actions

    unsent = {name for name, kind in kinds().items() if kind != "subscription"} - run.sent
    assert unsent == set(), "operations this test does not run"
