"""PrimeHub's console operations as the contract: the copies under ``tests/contract/console``.

Each file holds one operation of PrimeHub's console (with the fragments it spreads), copied
verbatim, its source path and commit in the header. :func:`with_typename` rewrites a document
the way Apollo Client sends it: ``__typename`` added to every selection set below the root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    NameNode,
    SelectionSetNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

CONSOLE = Path(__file__).resolve().parents[2] / "contract" / "console"


def operations() -> dict[str, str]:
    """Every console operation, by file name (without ``.graphql``)."""
    return {path.stem: path.read_text() for path in sorted(CONSOLE.glob("*.graphql"))}


class _AddTypename(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self._in_operation = False
        self._depth = 0

    def enter_operation_definition(self, *_: Any) -> None:
        self._in_operation = True

    def leave_operation_definition(self, *_: Any) -> None:
        self._in_operation = False

    def enter_selection_set(self, *_: Any) -> None:
        self._depth += 1

    def leave_selection_set(self, node: SelectionSetNode, *_: Any) -> SelectionSetNode | None:
        self._depth -= 1
        if (self._in_operation and self._depth == 0) or any(
                isinstance(selection, FieldNode) and selection.name.value == "__typename"
                for selection in node.selections):
            return None
        typename = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())
        return SelectionSetNode(selections=(*node.selections, typename))


def with_typename(document: str) -> str:
    """``document`` with ``__typename`` in every selection set except the operation's own."""
    return print_ast(visit(parse(document), _AddTypename()))
