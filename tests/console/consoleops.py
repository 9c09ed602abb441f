"""The console's GraphQL operations, read the way the console reads them.

``console/src/api/operations.graphql`` holds every operation the console sends;
``console/src/api/operations.ts`` names them in closed unions. Tests load the file here,
split it into one document per operation (with the fragments each uses, as the console
does), and check the documents against the API.
"""

from __future__ import annotations

import re
from pathlib import Path

from graphql import DocumentNode, OperationDefinitionNode, parse, print_ast
from graphql.utilities import separate_operations

CONSOLE = Path(__file__).resolve().parents[2] / "console"
OPERATIONS = CONSOLE / "src" / "api" / "operations.graphql"
NAMES_MODULE = CONSOLE / "src" / "api" / "operations.ts"
_UNION = re.compile(r'export type (Query|Mutation|Subscription)Name\s*=\s*([^;]*);')


def documents() -> dict[str, DocumentNode]:
    """One document per named operation, holding the fragments it spreads."""
    return dict(separate_operations(parse(OPERATIONS.read_text())))


def texts() -> dict[str, str]:
    return {name: print_ast(document) for name, document in documents().items()}


def kinds() -> dict[str, str]:
    """Operation name → ``query``, ``mutation`` or ``subscription``."""
    found = {}
    for definition in parse(OPERATIONS.read_text()).definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None:
            found[definition.name.value] = definition.operation.value
    return found


def declared_names() -> dict[str, set[str]]:
    """The names in operations.ts's unions, by kind (``never`` is the empty union)."""
    found: dict[str, set[str]] = {}
    for match in _UNION.finditer(NAMES_MODULE.read_text()):
        found[match[1].lower()] = set(re.findall(r'"(\w+)"', match[2]))
    return found
