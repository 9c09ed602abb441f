"""A CRD version's structural schema, compiled once and applied to every write of its objects.

:func:`compile_schema` turns a version's ``openAPIV3Schema`` into a tree of frozen
:class:`SchemaNode` (regexes compiled, keywords typed) behind a :class:`StructuralSchema`, which
does what kube-apiserver does to a custom object on create and update, in the same order:

1. :meth:`~StructuralSchema.prune` drops fields the schema does not specify (apiextensions'
   ``pruning/algorithm.go``): unknown keys go unless ``x-kubernetes-preserve-unknown-fields``;
   ``additionalProperties`` keeps every key; the root, like an embedded resource, always keeps
   ``apiVersion``, ``kind`` and ``metadata`` (ObjectMeta is the server's business, not the
   schema's). It returns the dropped paths, the ``unknown field`` warnings a server may send.
2. :meth:`~StructuralSchema.default` removes nulls the schema does not allow and that have no
   default, then fills ``default`` values into missing fields of objects that exist (and into
   non-nullable nulls), recursing into what it filled, as ``defaulting/algorithm.go`` does.
3. :meth:`~StructuralSchema.validate` checks the result (``schemavalidating``).

Go's regular expressions (RE2) are not Python's: :func:`compile_go_regex` makes ``$`` mean
end of text, makes ``\\d \\w \\s \\b`` ASCII-only, and refuses what RE2 refuses (lookaround,
backreferences), so a pattern accepts the same strings here as in a real cluster.

:meth:`~StructuralSchema.list_map_keys` tells server-side apply which lists merge by key.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.localcluster.errors import Cause
from gateway.localcluster.schemavalidating import validate as validate_against

_RESOURCE_META = frozenset({"apiVersion", "kind", "metadata"})


@dataclass(frozen=True, eq=False, slots=True)
class SchemaNode:
    """One compiled schema: the structural part, the value validations, the junctors."""

    type: str = ""  # "" when unset: x-kubernetes-int-or-string, preserve-unknown, junctors
    nullable: bool = False
    int_or_string: bool = False
    preserve_unknown: bool = False
    embedded_resource: bool = False
    properties: dict[str, SchemaNode] = field(default_factory=dict)
    additional: SchemaNode | None = None  # the additionalProperties schema
    items: SchemaNode | None = None
    has_default: bool = False
    default: Any = None
    required: tuple[str, ...] = ()
    enum: tuple[Any, ...] | None = None
    format: str = ""
    pattern: re.Pattern[str] | None = None
    pattern_source: str = ""
    minimum: int | float | None = None
    exclusive_minimum: bool = False
    maximum: int | float | None = None
    exclusive_maximum: bool = False
    multiple_of: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    unique_items: bool = False
    min_properties: int | None = None
    max_properties: int | None = None
    list_type: str = ""
    list_map_keys: tuple[str, ...] = ()
    all_of: tuple[SchemaNode, ...] = ()
    any_of: tuple[SchemaNode, ...] = ()
    one_of: tuple[SchemaNode, ...] = ()
    not_: SchemaNode | None = None


class StructuralSchema:
    """The compiled schema of one CRD version: prune, default, validate, list-map keys."""

    __slots__ = ("_list_map_keys", "root")

    def __init__(self, root: SchemaNode) -> None:
        self.root = root
        self._list_map_keys: dict[str, tuple[str, ...]] = {}
        _collect_list_map_keys(root, "", self._list_map_keys)

    def prune(self, obj: dict[str, Any]) -> list[str]:
        """Drop unspecified fields in place; return their paths (``spec.a[0].b``)."""
        pruned: list[str] = []
        _prune(obj, self.root, "", pruned, resource=True)
        return pruned

    def default(self, obj: dict[str, Any]) -> None:
        """Remove disallowed nulls and apply ``default`` values, in place."""
        _prune_nulls(obj, self.root)
        _default(obj, self.root)

    def validate(self, obj: dict[str, Any]) -> list[Cause]:
        """Every problem with ``obj``, with kube's field paths, reasons and messages."""
        return validate_against(self.root, obj)

    def list_map_keys(self) -> dict[str, tuple[str, ...]]:
        """Keys of every ``x-kubernetes-list-type: map`` list, by field path.

        A path names properties from the root joined by dots (``spec.predictors``); list items
        add nothing (a keyed list inside list items is ``spec.predictors.env``) and a value of
        ``additionalProperties`` is ``*`` (``spec.byName.*.ports``).
        """
        return dict(self._list_map_keys)


def compile_schema(schema: Mapping[str, Any]) -> StructuralSchema:
    """Compile an ``openAPIV3Schema``; ``ValueError`` if a keyword has an unusable value."""
    return StructuralSchema(_node(schema))


def compile_go_regex(pattern: str) -> re.Pattern[str]:
    """A Python regex accepting what Go's ``regexp`` accepts; ``ValueError`` like Go's."""
    multiline = re.search(r"\(\?[a-zA-Z]*m", pattern) is not None
    out: list[str] = []
    index, class_start = 0, -1
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            escaped = pattern[index + 1]
            if escaped == "Z" or escaped in "123456789":
                raise ValueError(f"error parsing regexp: invalid escape sequence: `\\{escaped}`")
            out.append("\\Z" if escaped == "z" else char + escaped)
            index += 2
            continue
        if class_start >= 0:
            # "]" right after "[" or "[^" is a literal, as in Go
            if char == "]" and index > class_start + 1 and pattern[class_start + 1:index] != "^":
                class_start = -1
        elif char == "[":
            class_start = index
        elif char == "$" and not multiline:
            char = "\\Z"
        elif pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), index):
            raise ValueError("error parsing regexp: invalid or unsupported Perl syntax: "
                             f"`{pattern[index:index + 3]}`")
        out.append(char)
        index += 1
    try:
        return re.compile("".join(out), re.ASCII)
    except re.error as err:
        raise ValueError(f"error parsing regexp: {err}") from err


def _node(raw: Any) -> SchemaNode:
    if not isinstance(raw, Mapping):
        raise ValueError(f"a schema must be an object, not {raw!r}")
    kind = raw.get("type", "")
    if not isinstance(kind, str):
        raise ValueError(f"type must be a string, not {kind!r}")
    items = raw.get("items")
    if items is not None and not isinstance(items, Mapping):
        raise ValueError("items must be a schema object and not an array")
    additional = raw.get("additionalProperties")
    pattern = raw.get("pattern")
    enum = raw.get("enum")
    return SchemaNode(
        type=kind,
        nullable=raw.get("nullable") is True,
        int_or_string=raw.get("x-kubernetes-int-or-string") is True,
        preserve_unknown=raw.get("x-kubernetes-preserve-unknown-fields") is True,
        embedded_resource=raw.get("x-kubernetes-embedded-resource") is True,
        properties={str(name): _node(sub) for name, sub in _mapping(raw, "properties").items()},
        # additionalProperties: true keeps every key but specifies nothing below it
        additional=(_node(additional) if isinstance(additional, Mapping)
                    else SchemaNode() if additional is True else None),
        items=_node(items) if items is not None else None,
        has_default=raw.get("default") is not None,
        default=raw.get("default"),
        required=tuple(str(name) for name in _list(raw, "required")),
        enum=tuple(enum) if isinstance(enum, list) else None,
        format=str(raw.get("format") or ""),
        pattern=compile_go_regex(pattern) if isinstance(pattern, str) and pattern else None,
        pattern_source=pattern if isinstance(pattern, str) else "",
        minimum=_number(raw, "minimum"),
        exclusive_minimum=raw.get("exclusiveMinimum") is True,
        maximum=_number(raw, "maximum"),
        exclusive_maximum=raw.get("exclusiveMaximum") is True,
        multiple_of=_number(raw, "multipleOf"),
        min_length=_count(raw, "minLength"),
        max_length=_count(raw, "maxLength"),
        min_items=_count(raw, "minItems"),
        max_items=_count(raw, "maxItems"),
        unique_items=raw.get("uniqueItems") is True,
        min_properties=_count(raw, "minProperties"),
        max_properties=_count(raw, "maxProperties"),
        list_type=str(raw.get("x-kubernetes-list-type") or ""),
        list_map_keys=tuple(str(key) for key in _list(raw, "x-kubernetes-list-map-keys")),
        all_of=tuple(_node(sub) for sub in _list(raw, "allOf")),
        any_of=tuple(_node(sub) for sub in _list(raw, "anyOf")),
        one_of=tuple(_node(sub) for sub in _list(raw, "oneOf")),
        not_=_node(raw["not"]) if raw.get("not") is not None else None,
    )


def _mapping(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{key} must be an object, not {value!r}")
    return value


def _list(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list, not {value!r}")
    return value


def _number(raw: Mapping[str, Any], key: str) -> int | float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, not {value!r}")
    return value


def _count(raw: Mapping[str, Any], key: str) -> int | None:
    value = _number(raw, key)
    if value is None:
        return None
    if not float(value).is_integer():
        raise ValueError(f"{key} must be an integer, not {value!r}")
    return int(value)


def _collect_list_map_keys(node: SchemaNode, path: str,
                           found: dict[str, tuple[str, ...]]) -> None:
    if node.list_type == "map":
        found[path] = node.list_map_keys
    for name, sub in node.properties.items():
        _collect_list_map_keys(sub, _join(path, name), found)
    if node.additional is not None:
        _collect_list_map_keys(node.additional, _join(path, "*"), found)
    if node.items is not None:
        _collect_list_map_keys(node.items, path, found)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _prune(value: Any, node: SchemaNode | None, path: str, pruned: list[str], *,
           resource: bool = False) -> None:
    if node is not None and node.preserve_unknown:
        _skip_prune(value, node, path, pruned, resource=resource)
        return
    if isinstance(value, dict):
        for key in list(value):
            if (resource or (node is not None and node.embedded_resource)) \
                    and key in _RESOURCE_META:
                continue
            sub = None if node is None else node.properties.get(key, node.additional)
            if sub is None:
                pruned.append(_join(path, key))
                del value[key]
            else:
                _prune(value[key], sub, _join(path, key), pruned)
    elif isinstance(value, list):
        items = None if node is None else node.items
        for index, item in enumerate(value):
            _prune(item, items, f"{path}[{index}]", pruned)


def _skip_prune(value: Any, node: SchemaNode, path: str, pruned: list[str], *,
                resource: bool) -> None:
    """Under ``x-kubernetes-preserve-unknown-fields``: keep unknown keys, prune known ones."""
    if isinstance(value, dict):
        for key, item in value.items():
            if (resource or node.embedded_resource) and key in _RESOURCE_META:
                continue
            sub = node.properties.get(key, node.additional)
            if sub is not None:
                _prune(item, sub, _join(path, key), pruned)
    elif isinstance(value, list) and node.items is not None:
        for index, item in enumerate(value):
            _skip_prune(item, node.items, f"{path}[{index}]", pruned, resource=False)


def _field_schema(node: SchemaNode | None, key: str) -> SchemaNode | None:
    return None if node is None else node.properties.get(key, node.additional)


def _prune_nulls(value: Any, node: SchemaNode | None) -> None:
    """Drop nulls where the schema allows none and has no default to put instead."""
    if isinstance(value, dict):
        for key in list(value):
            sub = _field_schema(node, key)
            if value[key] is None and sub is not None and not sub.nullable \
                    and not sub.has_default:
                del value[key]
            else:
                _prune_nulls(value[key], sub)
    elif isinstance(value, list):
        items = None if node is None else node.items
        for item in value:
            _prune_nulls(item, items)


def _needs_default(value: Any, node: SchemaNode | None) -> bool:
    return value is None and node is not None and not node.nullable and node.has_default


def _default(value: Any, node: SchemaNode | None) -> None:
    if node is None:
        return
    if isinstance(value, dict):
        for key, prop in node.properties.items():
            if prop.has_default and (key not in value or _needs_default(value[key], prop)):
                value[key] = copy.deepcopy(prop.default)
        for key in value:
            sub = _field_schema(node, key)
            if _needs_default(value[key], sub):
                assert sub is not None
                value[key] = copy.deepcopy(sub.default)
            _default(value[key], sub)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if _needs_default(item, node.items):
                assert node.items is not None
                value[index] = copy.deepcopy(node.items.default)
            _default(value[index], node.items)
