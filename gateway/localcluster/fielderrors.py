"""kube-apiserver's field errors (apimachinery's ``util/validation/field``), as :class:`Cause`.

A cause's ``message`` is what Go's ``field.Error.ErrorBody()`` returns: the error type's phrase
("Invalid value", "Required value", ...), the offending value printed the way Go's ``fmt``
prints it, then the detail. Clients and people compare these strings, so the value rendering is
reproduced for JSON values: ``%q`` for strings (and for ``null``, which Go prints as the string
"null"), ``%v`` for numbers and booleans, and JSON for objects and arrays, as current
apimachinery does (``Duplicate value: {"name":"a"}``). The field of an error with no path (the
object itself) is ``<nil>``, as Go prints a nil ``*field.Path``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from gateway.localcluster.errors import Cause

ROOT = "<nil>"


def required(path: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", _with_detail("Required value", detail), path or ROOT)


def forbidden(path: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", _with_detail("Forbidden", detail), path or ROOT)


def invalid(path: str, value: Any, detail: str) -> Cause:
    return Cause("FieldValueInvalid", _with_detail(f"Invalid value: {go_value(value)}", detail),
                 path or ROOT)


def type_invalid(path: str, value: Any, detail: str) -> Cause:
    return Cause("FieldValueTypeInvalid",
                 _with_detail(f"Invalid value: {go_value(value)}", detail), path or ROOT)


def not_supported(path: str, value: Any, supported: Iterable[str]) -> Cause:
    detail = ", ".join(go_quote(choice) for choice in supported)
    return Cause("FieldValueNotSupported",
                 _with_detail(f"Unsupported value: {go_value(value)}",
                              f"supported values: {detail}" if detail else ""), path or ROOT)


def too_long(path: str, max_length: int) -> Cause:
    """A string over ``maxLength``; like Go, the message leaves the value out."""
    return Cause("FieldValueTooLong", f"Too long: may not be longer than {max_length}",
                 path or ROOT)


def too_many(path: str, actual: int, maximum: int) -> Cause:
    return Cause("FieldValueTooMany", f"Too many: {actual}: must have at most {maximum} items",
                 path or ROOT)


def duplicate(path: str, value: Any) -> Cause:
    return Cause("FieldValueDuplicate", f"Duplicate value: {go_value(value)}", path or ROOT)


def _with_detail(head: str, detail: str) -> str:
    return f"{head}: {detail}" if detail else head


def go_value(value: Any) -> str:
    """A bad value as ``ErrorBody`` prints it: ``"text"``, ``5``, ``1.5``, ``true``, ``"null"``."""
    if value is None:
        return go_quote("null")
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, dict | list):
        return go_json(value)
    return _scalar(value)


def go_json(value: Any) -> str:
    """Go's ``encoding/json`` of a decoded value: compact, keys sorted, HTML-safe strings."""
    if value is None:
        return "null"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        for char, escape in _JSON_ESCAPES.items():
            text = text.replace(char, escape)
        return text
    if isinstance(value, dict):
        return "{" + ",".join(f"{go_quote(k)}:{go_json(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(item) for item in value) + "]"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote``: printable characters kept, the rest escaped."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char == " " or char.isprintable():
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                 "\u2029": "\\u2029"}
_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
               "\v": "\\v"}


def go_float(value: float) -> str:
    """Go's ``%v`` of a float64: shortest digits, exponent form below 1e-4 and from 1e6 up."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    digits_tuple = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(d) for d in digits_tuple.digits)
    assert isinstance(digits_tuple.exponent, int)
    point = len(digits) + digits_tuple.exponent  # digits before the decimal point
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


# apimachinery's util/validation name checks, with their messages
_DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def dns1035_label(value: str) -> list[str]:
    """Why ``value`` is not a DNS-1035 label (empty when it is one)."""
    problems = ["must be no more than 63 characters"] if len(value) > 63 else []
    if not _DNS1035_LABEL.fullmatch(value):
        problems.append(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
            "with an alphabetic character, and end with an alphanumeric character (e.g. "
            "'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
    return problems


def dns1123_subdomain(value: str) -> list[str]:
    """Why ``value`` is not a DNS-1123 subdomain (empty when it is one)."""
    problems = ["must be no more than 253 characters"] if len(value) > 253 else []
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        problems.append(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character (e.g. "
            "'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
    return problems
