"""Field paths and ``managedFields``' FieldsV1 encoding, for server-side apply ownership.

A path is a tuple of FieldsV1 elements: ``f:<field>`` for a map field, ``k:<json>`` for the
item of a keyed list (``k:{"name":"model"}``, key fields sorted, compact JSON), ``v:<json>``
for a member of a set of scalars. The FieldsV1 tree nests those elements; ``{}`` marks a
member with nothing below it and ``".": {}`` a member that also has members below it.

Which paths an object "sets" (:func:`field_paths`): every scalar, null, empty map and atomic
list, each keyed list item (the item itself, with ``"."``, and each of its fields) and each set
member. Maps are never members themselves, so two managers can own different keys of one
map. Fields the server owns (``apiVersion``, ``kind``, ``metadata.name``, ``.uid``,
``.resourceVersion``, ``.managedFields``...) are left out, as kube-apiserver strips them.

A keyed list whose items lack a key field, or repeat a key, cannot be addressed by key:
:func:`list_problem` says why, and :func:`field_paths` treats such a list as atomic.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from enum import Enum

from gateway.localcluster.jsonvalues import Json, JsonObject, json_equal
from gateway.localcluster.mergekeys import FieldNames, ListRule, MergeSchema

FieldPath = tuple[str, ...]


class Missing(Enum):
    """What :func:`value_at` returns for a path the object does not have."""

    MISSING = "missing"


MISSING = Missing.MISSING

SERVER_SET: tuple[FieldPath, ...] = (
    ("f:apiVersion",), ("f:kind",),
    *[("f:metadata", "f:" + name) for name in ("name", "namespace", "uid", "resourceVersion",
                                                "generation", "creationTimestamp", "selfLink",
                                                "managedFields")],
)
_Tree = dict[str, "_Tree"]


def _canonical(value: Json) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def item_element(item: Json, rule: ListRule) -> str:
    """The path element of one list item: ``v:<value>`` in a set, ``k:<keys>`` in a map."""
    if rule.is_set:
        return "v:" + _canonical(item)
    if not isinstance(item, dict):
        raise TypeError(f"an item of a list keyed by {rule.keys} must be a map")
    return "k:" + _canonical({key: item[key] for key in rule.keys})


def list_problem(items: list[Json], rule: ListRule) -> str | None:
    """Why ``items`` cannot be merged by ``rule`` (None when it can)."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        if rule.is_set and isinstance(item, dict | list):
            return f"element {index}: a set may only hold scalars"
        if not rule.is_set:
            if not isinstance(item, dict):
                return f"element {index}: expected a map in a list keyed by {rule.keys}"
            for key in rule.keys:
                if key not in item:
                    return (f"element {index}: associative list with keys has an element "
                            f'that omits key field "{key}"')
        element = item_element(item, rule)
        if element in seen:
            return f"duplicate entries for key {describe((element,))}"
        seen.add(element)
    return None


def field_paths(obj: JsonObject, schema: MergeSchema) -> set[FieldPath]:
    """Every path ``obj`` sets (see the module docstring), without the server-set ones."""
    found: set[FieldPath] = set()
    _walk_map(obj, (), (), schema, found)
    return {path for path in found if not any(path[:len(s)] == s for s in SERVER_SET)}


def _walk_map(value: JsonObject, path: FieldPath, names: FieldNames, schema: MergeSchema,
              found: set[FieldPath]) -> None:
    for key, child in value.items():
        _walk(child, (*path, "f:" + key), (*names, key), schema, found)


def _walk(value: Json, path: FieldPath, names: FieldNames, schema: MergeSchema,
          found: set[FieldPath]) -> None:
    if isinstance(value, dict) and value:
        _walk_map(value, path, names, schema, found)
        return
    rule = schema.rule(names)
    if isinstance(value, list) and value and rule is not None \
            and list_problem(value, rule) is None:
        for item in value:
            item_path = (*path, item_element(item, rule))
            found.add(item_path)
            if isinstance(item, dict):
                _walk_map(item, item_path, names, schema, found)
        return
    found.add(path)


def to_fields_v1(paths: Iterable[FieldPath]) -> JsonObject:
    """The FieldsV1 tree of ``paths``."""
    tree: _Tree = {}
    for path in paths:
        node = tree
        for element in path:
            node = node.setdefault(element, {})
        node["."] = {}
    return _finish(tree)


def _finish(node: _Tree) -> JsonObject:
    """Drop a lone ``"."`` (a member with nothing below is just ``{}``); sort for stable output."""
    finished: JsonObject = {}
    for key in sorted(node, key=lambda k: (k != ".", k)):
        child = node[key]
        finished[key] = {} if list(child) == ["."] else _finish(child)
    return finished


def from_fields_v1(tree: Json) -> set[FieldPath]:
    """The paths a FieldsV1 tree holds; anything that is not a tree of maps holds none."""
    found: set[FieldPath] = set()
    if isinstance(tree, dict):
        _read(tree, (), found)
    return found


def _read(node: JsonObject, path: FieldPath, found: set[FieldPath]) -> None:
    for key, child in node.items():
        if key == "." and path:
            found.add(path)
        elif isinstance(child, dict) and child:
            _read(child, (*path, key), found)
        elif key != ".":
            found.add((*path, key))


def describe(path: FieldPath) -> str:
    """The path as kube-apiserver prints it: ``.spec.containers[name="model"].image``."""
    parts = []
    for element in path:
        kind, text = element[:2], element[2:]
        if kind == "f:":
            parts.append("." + text)
        elif kind == "k:":
            keys = json.loads(text)
            parts.append("[" + ",".join(f"{key}={json.dumps(value)}"
                                        for key, value in keys.items()) + "]")
        else:
            parts.append("[=" + text + "]")
    return "".join(parts)


def _item_index(items: list[Json], element: str) -> int | None:
    """Where the item named by a ``k:``/``v:`` element sits in ``items``."""
    try:
        wanted = json.loads(element[2:])
    except ValueError:
        return None
    for index, item in enumerate(items):
        if element.startswith("v:") and json_equal(item, wanted):
            return index
        if element.startswith("k:") and isinstance(item, dict) and isinstance(wanted, dict) \
                and all(key in item and json_equal(item[key], value)
                        for key, value in wanted.items()):
            return index
    return None


def value_at(obj: Json, path: FieldPath) -> Json | Missing:
    """The value at ``path`` (a keyed item is the item's map), or :data:`MISSING`."""
    node = obj
    for element in path:
        if isinstance(node, dict) and element.startswith("f:") and element[2:] in node:
            node = node[element[2:]]
        elif isinstance(node, list) and (index := _item_index(node, element)) is not None:
            node = node[index]
        else:
            return MISSING
    return node


def changed(before: Json, after: Json, path: FieldPath) -> bool:
    """Whether the value at ``path`` differs; two maps are the same node (their fields may not)."""
    old, new = value_at(before, path), value_at(after, path)
    if old is MISSING or new is MISSING:
        return old is not new
    if isinstance(old, dict) and isinstance(new, dict):
        return False
    return not json_equal(old, new)


def remove(obj: JsonObject, path: FieldPath) -> None:
    """Delete ``path`` from ``obj`` in place, and any map or list the removal left empty."""
    _remove(obj, path)


def _remove(node: Json, path: FieldPath) -> bool:
    """Remove ``path`` below ``node``; True when that left ``node`` empty."""
    element, rest = path[0], path[1:]
    if isinstance(node, dict):
        key = element[2:]
        if not element.startswith("f:") or key not in node:
            return False
        if rest and not _remove(node[key], rest):
            return False
        del node[key]
    elif isinstance(node, list):
        index = _item_index(node, element)
        if index is None or (rest and not _remove(node[index], rest)):
            return False
        del node[index]
    else:
        return False
    return not node
