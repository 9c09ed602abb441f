"""What a mutation's audit record names: derived from the mutation's name and ids only."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.types.base import get_object_definition

from gateway.api.tokens import new_api_token, new_client_token
from schema import Mutation
from schema.auditing import Audited, identifier, kind_of, target_of
from schema.inputs import (
    GroupCreateInput,
    PhDeploymentClientWhereUniqueInput,
    PhDeploymentCreateInput,
    PhDeploymentWhereUniqueInput,
    WhereIdInput,
)


def test_every_mutation_is_audited() -> None:
    """Each field of the Mutation type, present and future, carries the audit extension."""
    for field in get_object_definition(Mutation, strict=True).fields:
        assert sum(isinstance(item, Audited) for item in field.extensions) == 1, field.name


@pytest.mark.parametrize(("mutation", "arguments", "target"), [
    ("createPhDeployment", {"data": PhDeploymentCreateInput(id="iris")}, "deployment/iris"),
    ("stopPhDeployment", {"where": PhDeploymentWhereUniqueInput(id="iris")},
     "deployment/iris"),
    ("deletePhDeploymentClient",
     {"where": PhDeploymentClientWhereUniqueInput(deployment_id="iris", name="app"),
      "reason": "x"}, "deployment/iris/client/app"),
    ("createGroup", {"data": GroupCreateInput(name="team")}, "group/team"),
    ("deleteInstanceType", {"where": WhereIdInput(id="cpu-1")}, "instanceType/cpu-1"),
    ("revokeApiToken", {"where": WhereIdInput(id="0123456789ab")}, "apiToken/0123456789ab"),
    ("promotePhDeploymentPredictor", {"where": PhDeploymentWhereUniqueInput(id="iris")},
     "deployment/iris"),
    ("stopPhDeployment", {"where": PhDeploymentWhereUniqueInput(id="bad id\n")},
     "deployment/?"),
    ("somethingNew", {"data": GroupCreateInput(name="team")}, "somethingNew"),
])
def test_targets_come_from_the_name_and_ids(mutation: str, arguments: dict[str, Any],
                                            target: str) -> None:
    """The kind is the first known one the name mentions; ids come from where/data."""
    assert target_of(mutation, arguments) == target


def test_only_identifier_shaped_values_are_named() -> None:
    """Tokens, text with spaces or control characters, and non-strings become ``?``."""
    assert identifier("iris-1.v2_a") == "iris-1.v2_a"
    for value in (new_client_token(), new_api_token()[1], "two words", "a\nb", "", 12, None,
                  "x" * 254):
        assert identifier(value) == "?"


def test_kinds_match_the_most_specific_fragment() -> None:
    """A client mutation is a client's, not its deployment's."""
    assert kind_of("rotatePhDeploymentClient") == "client"
    assert kind_of("updatePhDeployment") == "deployment"
    assert kind_of("createApiToken") == "apiToken"
