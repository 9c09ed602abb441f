"""The exported SDL is committed, and every field of PrimeHub's contract exists with its type."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType

from schema import build_schema, sdl

ROOT = Path(__file__).resolve().parents[3]
# A copy of shared/reference/primehub-contract.md kept in the repository, so the test runs
# from any checkout; update it together with the shared file.
CONTRACT = ROOT / "tests" / "contract" / "primehub-contract.md"
SDL_FILE = ROOT / "schema" / "schema.graphql"
_BLOCK = re.compile(r"```graphql\n(.*?)```", re.DOTALL)
_TYPE = re.compile(r"\b(type|input)\s+(\w+)\s*\{(.*?)\}", re.DOTALL)
_FIELD = re.compile(r"(\w+)\s*(\(([^)]*)\))?(?:\s*:\s*([\w\[\]!]+))?")

# (kind, type, field) -> (declared type or None when the contract leaves it out, {arg: type})
Contract = dict[tuple[str, str, str], tuple[str | None, dict[str, str]]]


def contract_fields() -> Contract:
    text = CONTRACT.read_text()
    found: Contract = {}
    for block in _BLOCK.findall(text):
        block = re.sub(r"#[^\n]*", "", block)
        for kind, name, body in _TYPE.findall(block):
            for field, _, args, declared in _FIELD.findall(body):
                arguments = dict(re.findall(r"(\w+)\s*:\s*([\w\[\]!]+)", args))
                found[(kind, name, field)] = (declared or None, arguments)
    return found


def test_the_committed_sdl_matches_the_code() -> None:
    """schema/schema.graphql is exactly what the code exports (regenerate: python -m schema)."""
    assert SDL_FILE.read_text() == sdl()


def test_the_contract_parser_sees_the_whole_contract() -> None:
    """The contract file yields the root fields and types this test is meant to check."""
    fields = contract_fields()
    assert ("type", "Query", "phDeploymentsConnection") in fields
    assert ("type", "Mutation", "deletePhDeploymentClient") in fields
    assert ("type", "PhDeployment", "endpointClients") in fields
    assert ("input", "PhDeploymentWhereInput", "groupId_in") in fields
    assert ("type", "InstanceType", "displayName") in fields
    assert len(fields) > 100


@pytest.fixture(scope="module")
def served() -> dict[str, Any]:
    """The served schema's types by name (built once for this module)."""
    return dict(build_schema()._schema.type_map)


@pytest.mark.parametrize(("key", "expected"), sorted(contract_fields().items()),
                         ids=lambda value: ".".join(value[1:]) if isinstance(value, tuple)
                         and len(value) == 3 else "")
def test_every_contract_field_exists_with_its_type(
        served: dict[str, Any], key: tuple[str, str, str],
        expected: tuple[str | None, dict[str, str]]) -> None:
    """Each contract field, its arguments and declared type are served as written; any
    argument added beside them is optional, so PrimeHub's callers stay valid."""
    kind, type_name, field_name = key
    declared, arguments = expected
    graphql_type = served.get(type_name)
    wanted = GraphQLInputObjectType if kind == "input" else GraphQLObjectType
    assert isinstance(graphql_type, wanted), f"{type_name} is not an {kind} type"
    field = graphql_type.fields.get(field_name)
    assert field is not None, f"{type_name}.{field_name} is missing"
    if declared is not None:
        assert str(field.type) == declared
    served_args = {name: str(arg.type) for name, arg in getattr(field, "args", {}).items()}
    assert {name: served_args.get(name) for name in arguments} == arguments
    required_additions = [name for name, served_type in served_args.items()
                          if name not in arguments and served_type.endswith("!")]
    assert required_additions == []
