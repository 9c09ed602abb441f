"""The migration plan: pure decisions about each PrimeHub object, one report line each."""

from __future__ import annotations

from typing import Any

from gateway.controller.labels import pod_labels
from gateway.migration.keycloak import KeycloakGroup, instance_type_of
from gateway.migration.planning import group_name, plan

APR1 = "$apr1$tMZ0eDVC$u1mjM3gVhGI1jWw4.4Y5c1"


def phdeployment(**clients: Any) -> dict[str, Any]:
    return {"metadata": {"name": "iris", "uid": "uid-1"},
            "spec": {"groupId": "kc-1", "groupName": "Data_Team",
                     "endpoint": {"accessType": "private", "clients": [
                         {"name": name, "token": token} for name, token in clients.items()]}}}


def child(*, uid: str = "uid-1", group: str = "Data_Team") -> dict[str, Any]:
    return {"metadata": {"ownerReferences": [{"uid": uid, "controller": True}]},
            "spec": {"selector": {"matchLabels": pod_labels(deployment_id="iris",
                                                            group_name=group)}}}


def test_group_names_become_resource_names_or_are_refused() -> None:
    """PrimeHub's name lowercased with '_' as '-'; what cannot be a DNS label is refused."""
    assert group_name("Data_Team") == "data-team"
    assert group_name("team a") is None
    assert instance_type_of("it:cpu-1") == "cpu-1"
    assert instance_type_of("prefix:it:gpu-1") == "gpu-1"
    assert instance_type_of("offline_access") is None


def test_groups_take_keycloak_attributes_and_everyones_instance_types() -> None:
    """Attributes, members and it: roles (plus everyone's) become the Group's spec."""
    made = plan(keycloak=[
        KeycloakGroup("kc-1", "Data_Team", {"enabled-deployment": ("true",),
                                            "max-deploy": ("2",),
                                            "project-quota-memory": ("4G",)},
                      members=("alice",), instance_types=("gpu-1", "tpu-9")),
        KeycloakGroup("kc-0", "everyone", {}, instance_types=("cpu-1",))],
        existing_groups=[], instance_types=["cpu-1", "gpu-1"], deployments=[], children={})
    (group,) = made.groups
    assert group.name == "data-team"
    assert (group.spec.enabled_deployment, group.spec.max_deploy, group.spec.quota.memory,
            group.spec.instance_types) == (True, 2, 4e9, ("cpu-1", "gpu-1"))
    assert any("unknown instance types left out: tpu-9" in line for line in made.report)


def test_only_well_formed_apr1_hashes_move_and_the_group_id_is_renamed() -> None:
    """A client whose token is not an $apr1$ hash is dropped, and the report says so."""
    keycloak = [KeycloakGroup("kc-1", "Data_Team", {})]
    made = plan(keycloak=keycloak, existing_groups=[], instance_types=[],
                deployments=[phdeployment(app=APR1, web="plaintext-token")],
                children={"deploy-iris": child()})
    (move,) = made.deployments
    assert (dict(move.hashes), move.group_id, move.adopt) == ({"app": APR1}, "data-team", True)
    assert "client 'web' dropped" in made.report[-1]


def test_a_deployment_is_adopted_only_when_its_shape_allows() -> None:
    """Another owner or other selector labels mean the controller replaces the Deployment."""
    for found, reason in ((child(uid="other"), "not controlled by it"),
                          (child(group="Other"), "selects other labels"),
                          (None, "the controller creates it")):
        made = plan(keycloak=[], existing_groups=[], instance_types=[],
                    deployments=[phdeployment()],
                    children={"deploy-iris": found} if found else {})
        assert made.deployments[0].adopt is False
        assert reason in made.report[-1]
