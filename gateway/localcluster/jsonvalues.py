"""JSON values as the patch machinery sees them: the type, and equality with JSON's semantics.

Python's ``==`` is not JSON equality: ``True == 1`` and ``1 == 1.0`` are both true in Python,
while JSON (and kube-apiserver's Go code) tells booleans from numbers. :func:`json_equal`
compares the way a JSON patch ``test`` and a field comparison must.
"""

from __future__ import annotations

from typing import TypeAlias

Json: TypeAlias = "dict[str, Json] | list[Json] | str | int | float | bool | None"
JsonObject: TypeAlias = "dict[str, Json]"


def json_equal(left: Json, right: Json) -> bool:
    """Equality of two JSON values; numbers compare by value, booleans only with booleans."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, dict):
        return (isinstance(right, dict) and left.keys() == right.keys()
                and all(json_equal(value, right[key]) for key, value in left.items()))
    if isinstance(left, list):
        return (isinstance(right, list) and len(left) == len(right)
                and all(json_equal(a, b) for a, b in zip(left, right, strict=True)))
    if isinstance(left, int | float):
        return isinstance(right, int | float) and left == right
    return type(left) is type(right) and left == right
