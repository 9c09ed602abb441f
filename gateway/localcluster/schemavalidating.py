"""Validating a custom object against its compiled schema, with kube-apiserver's messages.

kube-apiserver validates custom objects with kube-openapi's port of go-openapi's validator and
turns the results into field errors (apiextensions' ``kubeOpenAPIResultToFieldErrors``). This
module walks a :class:`~gateway.localcluster.structural.SchemaNode` the same way, so causes
carry the same paths (``spec.predictors[0].replicas``), reasons and messages
(``Invalid value: -1: spec.predictors[0].replicas in body should be greater than or equal to
0``). It keeps the validator's behaviour where users see it: each check applies by the
*value's* JSON type, a type error does not stop the other checks, a null fails any ``enum``,
string checks stop at the first failure, ``maxProperties`` hides the rest of that object's
errors, a whole-number float is an integer, and anyOf/oneOf/allOf/not failures are reported at
``<nil>`` next to the errors of the best failing alternative. After the schema errors come, as
in the API server's strategy, the ``apiVersion``/``kind`` checks of embedded resources and the
uniqueness of ``x-kubernetes-list-type`` ``set`` and ``map`` lists.

The ``jsonschema`` library is not used: its messages, JSON-pointer paths and keyword semantics
(``nullable``, ``x-kubernetes-int-or-string``, integers written as floats) differ from kube's
wherever users look, and the small subset of OpenAPI a structural schema allows is simpler and
faster to walk directly on the write path.

Approximations, on purpose: go-openapi picks the "best" failing anyOf/oneOf alternative by
counting passed checks, this picks the one with the fewest errors (the first on ties); ``enum``
compares JSON values (1 equals 1.0) rather than through Go's type conversions; the formats
checked are ``date-time`` and ``date`` (other formats are ignored, as kube ignores formats it
does not know); an embedded resource's ``metadata`` is left to the server.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.localcluster import fielderrors as fe
from gateway.localcluster.errors import Cause

if TYPE_CHECKING:
    from gateway.localcluster.structural import SchemaNode


@dataclass
class _Sink:
    """Where causes go, in the order the API server reports them."""

    schema: list[Cause] = field(default_factory=list)
    embedded: list[Cause] = field(default_factory=list)
    lists: list[Cause] = field(default_factory=list)

    def all(self) -> list[Cause]:
        return self.schema + self.embedded + self.lists


def validate(root: SchemaNode, obj: Any) -> list[Cause]:
    """Every problem of a custom object (the root is a resource: no embedded checks)."""
    sink = _Sink()
    _validate(root, obj, "", sink, resource=True)
    return sink.all()


def validate_value(node: SchemaNode, value: Any, at: str) -> list[Cause]:
    """Problems of a value that sits at path ``at`` of another document (a schema default)."""
    sink = _Sink()
    _validate(node, value, "", sink)
    return [Cause(cause.reason, cause.message, _under(at, cause.field)) for cause in sink.all()]


def _under(prefix: str, path: str) -> str:
    if path == fe.ROOT:
        return prefix
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_KINDS = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
          dict: "object"}


def _kind(value: Any) -> str:
    """The JSON type of a decoded value, as go-openapi names it."""
    kind = _KINDS.get(type(value))
    if kind is not None:
        return kind
    for python_type, name in _KINDS.items():  # subclasses, e.g. an OrderedDict
        if isinstance(value, python_type):
            return name
    raise TypeError(f"not a JSON value: {value!r}")


def _validate(node: SchemaNode, value: Any, path: str, sink: _Sink, *,
              resource: bool = False) -> None:
    out = sink.schema
    if value is None:
        _check_type(node, None, "null", path, out)
        if node.enum is not None:
            _check_enum(node, None, path, out)
        return
    kind = _kind(value)
    _check_type(node, value, kind, path, out)
    if node.all_of or node.any_of or node.one_of or node.not_ is not None:
        _check_junctors(node, value, path, out)
    if kind == "string":
        _check_string(node, value, path, out)
        if node.format:
            _check_format(node, value, path, out)
    elif kind in ("integer", "number"):
        _check_number(node, value, kind, path, out)
    elif kind == "array":
        _check_array(node, value, path, sink)
    if node.enum is not None:
        _check_enum(node, value, path, out)
    if kind == "object":
        _check_object(node, value, path, sink, resource=resource)


def _type_error(path: str, expected: str, actual: str) -> Cause:
    return fe.type_invalid(path, actual,
                           f"{path} in body must be of type {expected}: {fe.go_quote(actual)}")


def _check_type(node: SchemaNode, value: Any, kind: str, path: str, out: list[Cause]) -> None:
    types = ("integer", "string") if node.int_or_string else (node.type,) if node.type else ()
    if not types and not node.format:
        return
    if value is None:
        if types and not node.nullable:
            out.append(_type_error(path, ",".join(types), "null"))
        return
    whole_float = kind == "number" and float(value).is_integer() and "integer" in types
    int_as_number = kind == "integer" and "number" in types
    if node.format and kind not in ("string", "array"):
        data_format = {"integer": "int64", "number": "float64"}.get(kind, "")
        if not (kind in types or data_format == node.format or whole_float or int_as_number):
            out.append(_type_error(path, node.format, data_format))
            return
    if node.format and kind in ("string", "array") and not {"integer", "number"} & set(types):
        return
    if not (kind in types or whole_float or int_as_number):
        out.append(_type_error(path, ",".join(types), kind))


def _check_string(node: SchemaNode, value: str, path: str, out: list[Cause]) -> None:
    if node.max_length is not None and len(value) > node.max_length:
        out.append(fe.too_long(path, node.max_length))
    elif node.min_length is not None and len(value) < node.min_length:
        out.append(fe.invalid(path, value,
                              f"{path} in body should be at least {node.min_length} chars long"))
    elif node.pattern is not None and not node.pattern.search(value):
        out.append(fe.invalid(path, value,
                              f"{path} in body should match '{node.pattern_source}'"))


_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))")


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_date_time(text: str) -> bool:
    """go-openapi's ``IsDateTime``: an RFC 3339 date, a ``T`` (any case), a zoned time."""
    parts = text.lower().split("t")
    if len(text) < 4 or len(parts) < 2 or not _is_date(parts[0]):
        return False
    match = _TIME.fullmatch(parts[1])
    return match is not None and match[1] <= "23" and match[2] <= "59" and match[3] <= "59"


_FORMATS = {"datetime": _is_date_time, "date": _is_date}


def _check_format(node: SchemaNode, value: str, path: str, out: list[Cause]) -> None:
    check = _FORMATS.get(node.format.replace("-", ""))
    if check is not None and not check(value):
        out.append(fe.type_invalid(
            path, value, f"{path} in body must be of type {node.format}: {fe.go_quote(value)}"))


def _check_number(node: SchemaNode, value: int | float, kind: str, path: str,
                  out: list[Cause]) -> None:
    as_int = kind == "integer"
    if node.multiple_of is not None:
        factor = node.multiple_of
        if as_int and float(factor).is_integer() and factor > 0:
            if value % int(factor):
                out.append(fe.invalid(path, value,
                                      f"{path} in body should be a multiple of {int(factor)}"))
        elif factor > 0:
            ratio = (1 / factor) * value if factor < 1 else value / factor
            if abs(ratio - round(ratio)) > 1e-9:
                out.append(fe.invalid(path, value, f"{path} in body should be a multiple of "
                                                    f"{fe.go_float(float(factor))}"))
    # go-openapi compares integers with the bound truncated to int64, floats with the float
    for bound, exclusive, lower in ((node.minimum, node.exclusive_minimum, True),
                                    (node.maximum, node.exclusive_maximum, False)):
        if bound is None:
            continue
        limit: int | float = int(bound) if as_int else float(bound)
        beyond = value < limit if lower else value > limit
        if beyond or (exclusive and value == limit):
            relation = "greater than" if lower else "less than"
            text = str(limit) if as_int else fe.go_float(float(limit))
            out.append(fe.invalid(path, value, f"{path} in body should be {relation} "
                                               f"{'' if exclusive else 'or equal to '}{text}"))


def _check_array(node: SchemaNode, value: list[Any], path: str, sink: _Sink) -> None:
    if node.items is not None:
        for index, item in enumerate(value):
            _validate(node.items, item, f"{path}[{index}]", sink)
    size = len(value)
    if node.min_items is not None and size < node.min_items:
        sink.schema.append(fe.invalid(
            path, size, f"{path} in body should have at least {node.min_items} items"))
    if node.max_items is not None and size > node.max_items:
        sink.schema.append(fe.too_many(path, size, node.max_items))
    if node.unique_items and len({_identity(item) for item in value}) < size:
        sink.schema.append(fe.invalid(path, "", f"{path} in body shouldn't contain duplicates"))
    if node.list_type == "set":
        sink.lists += [fe.duplicate(f"{path}[{i}]", value[i]) for i in _repeats(value)]
    elif node.list_type == "map":
        sink.lists += _check_list_map(node.list_map_keys, value, path)


def _check_list_map(keys: tuple[str, ...], value: list[Any], path: str) -> list[Cause]:
    for index, item in enumerate(value):
        if item is not None and not isinstance(item, dict):
            return [fe.invalid(f"{path}[{index}]", item,
                               "must be an object for an array of list-type map")]
    # an absent key (or a null item) is "unspecified": equal to other unspecified keys only
    identities: list[dict[str, Any]] = [
        {key: item[key] for key in keys if key in item} if item is not None else {}
        for item in value]
    return [fe.duplicate(f"{path}[{i}]", identities[i]) for i in _repeats(identities)]


def _repeats(values: list[Any]) -> list[int]:
    """Indexes of the second appearance of each value that appears more than once."""
    counts: dict[Any, int] = {}
    second: list[int] = []
    for index, item in enumerate(values):
        identity = _identity(item)
        counts[identity] = counts.get(identity, 0) + 1
        if counts[identity] == 2:
            second.append(index)
    return second


def _identity(value: Any) -> Any:
    """A hashable stand-in of a JSON value; like Go's, 1 and 1.0 differ."""
    if isinstance(value, dict):
        return ("o", tuple(sorted((key, _identity(item)) for key, item in value.items())))
    if isinstance(value, list):
        return ("a", tuple(_identity(item) for item in value))
    return (_kind(value) if value is not None else "null", value)


def _same(left: Any, right: Any) -> bool:
    """JSON equality for ``enum``: numbers by value, booleans never equal to numbers."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return type(left) is type(right) and bool(left == right)


def _check_enum(node: SchemaNode, value: Any, path: str, out: list[Cause]) -> None:
    assert node.enum is not None
    if value is not None and any(_same(value, choice) for choice in node.enum):
        return
    out.append(fe.not_supported(
        path, value, [c if isinstance(c, str) else fe.go_json(c) for c in node.enum]))


def _check_object(node: SchemaNode, value: dict[str, Any], path: str, sink: _Sink, *,
                  resource: bool) -> None:
    size = len(value)
    if node.min_properties is not None and size < node.min_properties:
        sink.schema.append(fe.invalid(
            path, size, f"{path} in body should have at least {node.min_properties} properties"))
        return
    if node.max_properties is not None and size > node.max_properties:
        sink.schema.append(fe.too_many(path, size, node.max_properties))
        return
    if node.additional is not None:
        for key, item in value.items():
            if key not in node.properties:
                _validate(node.additional, item, _join(path, key), sink)
    for name, prop in node.properties.items():
        if name in value:
            _validate(prop, value[name], _join(path, name), sink)
    sink.schema += [fe.required(_join(path, name)) for name in node.required
                    if name not in value]
    if node.embedded_resource and not resource:
        sink.embedded += _check_embedded(value, path)


def _check_embedded(value: dict[str, Any], path: str) -> list[Cause]:
    """An embedded resource needs an ``apiVersion`` and a ``kind`` that parse."""
    causes = []
    for key in ("apiVersion", "kind"):
        at = _join(path, key)
        if key not in value:
            causes.append(fe.required(at, "must not be empty"))
            continue
        text = value[key]
        if not isinstance(text, str):
            causes.append(fe.invalid(at, text, "must be a string"))
        elif not text:
            causes.append(fe.invalid(at, text, "must not be empty"))
        elif key == "apiVersion" and text.count("/") > 1:
            causes.append(fe.invalid(at, text, f"unexpected GroupVersion string: {text}"))
        elif key == "kind" and (problems := fe.dns1035_label(text.lower())):
            causes.append(fe.invalid(at, text, "may have mixed case, but should otherwise "
                                               "match: " + ",".join(problems)))
    return causes


def _check_junctors(node: SchemaNode, value: Any, path: str, out: list[Cause]) -> None:
    quoted = fe.go_quote(path)
    if node.any_of:
        failures: list[list[Cause]] = []
        for alternative in node.any_of:
            errors = _alternative(alternative, value, path)
            if not errors:
                break
            failures.append(errors)
        else:
            out.append(fe.invalid("", "", f"{quoted} must validate at least one schema (anyOf)"))
            out.extend(_fewest(failures))
    if node.one_of:
        valid, failures = 0, []
        for alternative in node.one_of:
            errors = _alternative(alternative, value, path)
            if errors:
                failures.append(errors)
            else:
                valid += 1
        if valid != 1:
            found = "Found none valid" if valid == 0 else f"Found {valid} valid alternatives"
            out.append(fe.invalid(
                "", "", f"{quoted} must validate one and only one schema (oneOf). {found}"))
            if valid == 0:
                out.extend(_fewest(failures))
    if node.all_of:
        results = [_alternative(alternative, value, path) for alternative in node.all_of]
        for errors in results:
            out.extend(errors)
        failed = sum(1 for errors in results if errors)
        if failed:
            none = ". None validated" if failed == len(results) else ""
            out.append(fe.invalid("", "", f"{quoted} must validate all the schemas (allOf){none}"))
    if node.not_ is not None and not _alternative(node.not_, value, path):
        out.append(fe.invalid("", "", f"{quoted} must not validate the schema (not)"))


def _fewest(failures: list[list[Cause]]) -> list[Cause]:
    """The failing alternative with the fewest errors, the first on ties."""
    return min(failures, key=lambda errors: len(errors))


def _alternative(node: SchemaNode, value: Any, path: str) -> list[Cause]:
    sink = _Sink()
    _validate(node, value, path, sink)
    return sink.schema
