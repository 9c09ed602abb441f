"""Small helpers for parsing custom-resource JSON into typed views.

A view parser reads fields written by anyone (our API, PrimeHub, ``kubectl edit``), so it
checks every type it relies on and raises :class:`MalformedObject` naming the field; optional
fields that are absent or ``null`` take their documented default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class MalformedObject(ValueError):
    """A stored object does not have the shape its kind promises."""


def field(source: Mapping[str, Any], name: str, kind: type[T], default: T, *,
          where: str) -> T:
    """``source[name]`` if it is a ``kind`` (``default`` when absent or null)."""
    value = source.get(name)
    if value is None:
        return default
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # type: ignore[return-value]  # int is a JSON number too
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedObject(f"{where}.{name}: expected {kind.__name__}, got {value!r}")
    return value


def mapping(source: Mapping[str, Any], name: str, *, where: str) -> dict[str, Any]:
    """``source[name]`` as a dict (empty when absent)."""
    return field(source, name, dict, {}, where=where)


def items(source: Mapping[str, Any], name: str, *, where: str) -> list[dict[str, Any]]:
    """``source[name]`` as a list of objects (empty when absent)."""
    values = field(source, name, list, [], where=where)
    for index, value in enumerate(values):
        if not isinstance(value, dict):
            raise MalformedObject(f"{where}.{name}[{index}]: expected an object")
    return values


def strings(source: Mapping[str, Any], name: str, *, where: str) -> tuple[str, ...]:
    """``source[name]`` as a tuple of strings (empty when absent)."""
    values = field(source, name, list, [], where=where)
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise MalformedObject(f"{where}.{name}[{index}]: expected a string")
    return tuple(values)


def string_map(source: Mapping[str, Any], name: str, *, where: str) -> dict[str, str]:
    """``source[name]`` as a string-to-string map (values stringified, nulls dropped)."""
    values = mapping(source, name, where=where)
    return {str(key): value if isinstance(value, str) else _scalar(value)
            for key, value in values.items() if value is not None}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object's metadata, checking that it has a name."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        raise MalformedObject("metadata.name: missing")
    return meta
