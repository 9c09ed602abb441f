"""The PATCH flavours that need no ownership tracking: merge, JSON and strategic merge patch.

Every function takes the current object (a JSON object) and the decoded patch document and
returns a new object; neither input is changed and the result shares nothing with them. The
result is always an object: a patch that would turn the object into anything else is refused
the way kube-apiserver refuses it, when it cannot decode the patched document into its type
(422 Invalid on the field ``patch``).

- :func:`merge_patch`: RFC 7386 (``application/merge-patch+json``) as kube's json-patch library
  applies it: ``null`` deletes, objects merge, anything else replaces (with the ``null``
  members of replacing objects dropped). A ``null`` or scalar patch is 400 "Invalid JSON
  Patch"; a list would replace the object, so it is the 422.
- :func:`json_patch`: RFC 6902 (``application/json-patch+json``) with the status codes of
  kube-apiserver: a document that is not a list of operation objects is 400 BadRequest, more
  than 10000 operations 413, and any operation that cannot be applied (unknown ``op``, bad
  pointer, missing path, failed ``test``) a 422 Invalid with the apiserver's generic message;
  the specific reason is chained as the exception's ``__cause__`` for logs. Where RFC 6902 and
  kube's library (``evanphx/json-patch`` v4) disagree, this follows kube, so that a patch the
  real API server accepts is accepted here too: the last step of a path that names a missing
  member of an object reads as ``null`` (``replace`` then adds it, ``test`` compares with
  ``null``, ``copy`` copies ``null``), an operation without ``value`` uses ``null``, list
  indices may be signed (``-1`` is the last item), and ``add``, ``remove``, ``move`` and
  ``copy`` cannot address the whole document (path ``""``).
- :func:`strategic_merge_patch` and :func:`supports_strategic` come from :mod:`strategic` and
  :mod:`mergekeys`; they are re-exported so that this module is the one place PATCH goes.
"""

from __future__ import annotations

import copy
import json
import re
from typing import TypeAlias

from gateway.localcluster.errors import ApiError, Cause, bad_request, invalid, patch_failed
from gateway.localcluster.jsonvalues import Json, JsonObject, json_equal
from gateway.localcluster.mergekeys import supports_strategic
from gateway.localcluster.strategic import strategic_merge_patch

__all__ = ["json_patch", "merge_patch", "strategic_merge_patch", "supports_strategic"]

MAX_OPERATIONS = 10000  # kube-apiserver's limit on one JSON patch


def merge_patch(target: JsonObject, patch: Json) -> Json:
    """RFC 7386 applied to an object: ``null`` deletes, objects merge, anything else replaces."""
    if isinstance(patch, list):
        raise _not_an_object(_pruned(patch))
    if not isinstance(patch, dict):
        raise bad_request("Invalid JSON Patch")
    result = copy.deepcopy(target)
    _merge_into(result, patch)
    return result


def _merge_into(target: JsonObject, patch: JsonObject) -> None:
    for key, value in patch.items():
        current = target.get(key)
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(current, dict):
            _merge_into(current, value)
        else:
            target[key] = _pruned(value)


def _pruned(value: Json) -> Json:
    """A copy of a replacing value without the ``null`` members of its objects (list items stay)."""
    if isinstance(value, dict):
        return {key: _pruned(child) for key, child in value.items() if child is not None}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


def _not_an_object(value: Json) -> ApiError:
    """kube's 422 when the patched document does not decode into the object's type."""
    text = json.dumps(value, separators=(",", ":"))
    return invalid("", "", "", [Cause(
        "FieldValueInvalid", f"Invalid value: {json.dumps(text)}: the patched document must be "
        "a JSON object", "patch")])


class PatchOperationFailed(Exception):
    """Why a JSON patch operation could not be applied (the cause of the 422)."""


def json_patch(document: JsonObject, operations: Json) -> Json:
    """RFC 6902 as kube applies it: ``operations`` in order, on a copy of ``document``."""
    ops = [op for op in operations if isinstance(op, dict)] \
        if isinstance(operations, list) else []
    if not isinstance(operations, list) or len(ops) != len(operations):
        raise bad_request("json: cannot unmarshal the patch into Go value of type "
                          "jsonpatch.Patch: a JSON patch is a list of operation objects")
    if len(ops) > MAX_OPERATIONS:
        raise ApiError(413, "RequestEntityTooLarge",
                       "Request entity too large: The allowed maximum operations in a JSON "
                       f"patch is {MAX_OPERATIONS}, got {len(ops)}")
    result: Json = copy.deepcopy(document)
    for operation in ops:
        try:
            result = _apply(result, operation)
        except PatchOperationFailed as failure:
            raise patch_failed() from failure
    if not isinstance(result, dict):
        raise _not_an_object(result)
    return result


def _apply(document: Json, operation: JsonObject) -> Json:
    kind = operation.get("op")
    path = _pointer(operation, "path")
    value = copy.deepcopy(operation.get("value"))  # absent reads as null, as in kube
    if kind == "add":
        _insert(*_parent(document, path, kind), value)
    elif kind == "remove":
        _delete(*_parent(document, path, kind))
    elif kind == "replace":
        if not path:
            if not isinstance(value, dict | list):
                raise PatchOperationFailed("replace operation value must be object or array")
            return value
        _overwrite(*_parent(document, path, kind), value)
    elif kind in ("move", "copy"):
        source = _parent(document, _pointer(operation, "from"), kind, "from ")
        moved = _read(*source)
        if kind == "move":
            _delete(*source)
        _insert(*_parent(document, path, kind, "destination "), copy.deepcopy(moved))
    elif kind == "test":
        actual = _read(*_parent(document, path, kind)) if path else document
        if not json_equal(actual, value):
            raise PatchOperationFailed(f"testing value {_spell(path)} failed: test failed")
    else:
        raise PatchOperationFailed(f"Unexpected kind: {kind}")
    return document


_ESCAPE = re.compile(r"~(?![01])")
_ESCAPED = re.compile(r"~[01]")


def _pointer(operation: JsonObject, member: str) -> list[str]:
    """RFC 6901: "" is the whole document, "/a~1b/~0c" is ["a/b", "~c"]."""
    text = operation.get(member)
    if not isinstance(text, str):
        raise PatchOperationFailed(f"operation missing {member} field: missing value")
    if text == "":
        return []
    if not text.startswith("/") or _ESCAPE.search(text):
        raise PatchOperationFailed(f"invalid JSON pointer: {text!r}")
    return [_ESCAPED.sub(lambda m: "~" if m[0] == "~0" else "/", step)
            for step in text[1:].split("/")]


def _spell(path: list[str]) -> str:
    return "".join("/" + step.replace("~", "~0").replace("/", "~1") for step in path)


def _position(step: str, size: int) -> int | None:
    """The place in ``range(size)`` that ``step`` names, or None.

    Tokens are read like Go's ``strconv.Atoi`` reads them, and a negative one counts from the
    end, as kube's json-patch library allows.
    """
    if not re.fullmatch(r"[+-]?[0-9]+", step) or not -size <= int(step) < size:
        return None
    return int(step) % size


def _index(step: str, size: int) -> int:
    found = _position(step, size)
    if found is None:
        raise PatchOperationFailed(f"Unable to access invalid index: {step}: "
                                   "invalid index referenced")
    return found


Container: TypeAlias = "JsonObject | list[Json]"


def _parent(document: Json, path: list[str], kind: object,
            which: str = "") -> tuple[Container, str]:
    """The object or list holding the last step of ``path``, and that step."""
    if not path:
        raise PatchOperationFailed(f"{kind} operation does not apply: doc is missing {which}"
                                   'path: ""')
    node = document
    for step in path[:-1]:
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and (at := _position(step, len(node))) is not None:
            node = node[at]
        else:
            node = None
            break
    if not isinstance(node, dict | list):
        raise PatchOperationFailed(f"{kind} operation does not apply: doc is missing {which}"
                                   f"path: {_spell(path)}: missing value")
    return node, path[-1]


def _read(container: Container, step: str) -> Json:
    """The value at ``step``; a missing member of an object reads as ``null``."""
    if isinstance(container, dict):
        return container.get(step)
    return container[_index(step, len(container))]


def _insert(container: Container, step: str, value: Json) -> None:
    if isinstance(container, dict):
        container[step] = value
    elif step == "-":
        container.append(value)
    else:
        container.insert(_index(step, len(container) + 1), value)


def _overwrite(container: Container, step: str, value: Json) -> None:
    if isinstance(container, dict):
        container[step] = value
    else:
        container[_index(step, len(container))] = value


def _delete(container: Container, step: str) -> None:
    if isinstance(container, list):
        del container[_index(step, len(container))]
    elif step in container:
        del container[step]
    else:
        raise PatchOperationFailed(f"Unable to remove nonexistent key: {step}: missing value")
