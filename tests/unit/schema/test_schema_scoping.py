"""The one scope check of every mutation: which scope each needs, and who is refused."""

from __future__ import annotations

import pytest
from strawberry.types.base import get_object_definition

from gateway.api.auth import Principal
from schema import Mutation
from schema.auditing import Audited
from schema.scoping import RequireScope, refusal


@pytest.mark.parametrize(("principal", "needed", "refused"), [
    (Principal("alice", scopes=frozenset({"read"})), "deployments:write", True),
    (Principal("alice", scopes=frozenset({"deployments:write"})), "deployments:write", False),
    (Principal("alice"), "admin", False),  # no admin: the resolver says NOT_AUTH
    (Principal("root", admin=True, scopes=frozenset({"deployments:write"})), "admin", True),
    (Principal("root", admin=True), "admin", False),
    (None, "deployments:write", False),  # anonymous: the resolver says NOT_AUTH
])
def test_a_mutation_needs_its_scope(principal: Principal | None, needed: str,
                                    refused: bool) -> None:
    """A token without scopes has its user's full rights; a narrower one is refused, with
    FORBIDDEN naming the scope needed and the token's."""
    error = refusal("stopPhDeployment", principal, needed)
    assert (error is not None) is refused
    if error is not None:
        assert error.extensions == {"code": "FORBIDDEN", "scope": needed,
                                    "mutation": "stopPhDeployment"}


def test_every_mutation_is_scoped_inside_its_audit() -> None:
    """Every mutation field, new ones included, carries one scope check, innermost (so the
    audit trail records a refusal): admin for the admin module's, deployments:write else."""
    needs: dict[str, str] = {}
    for field in get_object_definition(Mutation, strict=True).fields:
        checks = [extension for extension in field.extensions
                  if isinstance(extension, RequireScope)]
        assert len(checks) == 1, field.python_name
        assert field.extensions.index(checks[0]) < next(
            index for index, extension in enumerate(field.extensions)
            if isinstance(extension, Audited))
        needs[field.python_name] = checks[0].needed
    assert {name for name, needed in needs.items() if needed == "admin"} == {
        "create_group", "update_group", "delete_group", "create_instance_type",
        "update_instance_type", "delete_instance_type"}
    assert needs["create_api_token"] == needs["rotate_ph_deployment_client"] == \
        "deployments:write"
