"""The PATCH flavours that need no ownership tracking: merge, JSON and strategic merge patch.

Every function takes the current object and the decoded patch document and returns a new
value; neither input is changed and the result shares nothing with them.

- :func:`merge_patch`: RFC 7386 (``application/merge-patch+json``). A patch that is not an
  object replaces the whole document, as the RFC says; the caller rejects a non-object result.
- :func:`json_patch`: RFC 6902 (``application/json-patch+json``). As in kube-apiserver, a
  document that is not a list of operation objects is a 400 BadRequest, more than 10000
  operations a 413, and any operation that cannot be applied (unknown ``op``, bad pointer,
  missing path, failed ``test``) a 422 Invalid with the apiserver's generic message; the
  specific reason is chained as the exception's ``__cause__`` for logs.
- :func:`strategic_merge_patch` and :func:`supports_strategic` come from :mod:`strategic` and
  :mod:`mergekeys`; they are re-exported so that this module is the one place PATCH goes.
"""

from __future__ import annotations

import copy
import re

from gateway.localcluster.errors import ApiError, bad_request, patch_failed
from gateway.localcluster.jsonvalues import Json, JsonObject, json_equal
from gateway.localcluster.mergekeys import supports_strategic
from gateway.localcluster.strategic import strategic_merge_patch

__all__ = ["json_patch", "merge_patch", "strategic_merge_patch", "supports_strategic"]

MAX_OPERATIONS = 10000  # kube-apiserver's limit on one JSON patch


def merge_patch(target: Json, patch: Json) -> Json:
    """RFC 7386: ``null`` deletes, objects merge recursively, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    _merge_into(result, patch)
    return result


def _merge_into(target: JsonObject, patch: JsonObject) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            child = target.get(key)
            if not isinstance(child, dict):
                child = target[key] = {}
            _merge_into(child, value)
        else:
            target[key] = copy.deepcopy(value)


class PatchOperationFailed(Exception):
    """Why a JSON patch operation could not be applied (the cause of the 422)."""


def json_patch(document: Json, operations: Json) -> Json:
    """RFC 6902: apply ``operations`` in order to a copy of ``document``."""
    steps = [op for op in operations if isinstance(op, dict)] \
        if isinstance(operations, list) else []
    if not isinstance(operations, list) or len(steps) != len(operations):
        raise bad_request("json: cannot unmarshal the patch into Go value of type "
                          "jsonpatch.Patch: a JSON patch is a list of operation objects")
    if len(steps) > MAX_OPERATIONS:
        raise ApiError(413, "RequestEntityTooLarge",
                       "Request entity too large: The allowed maximum operations in a JSON "
                       f"patch is {MAX_OPERATIONS}, got {len(steps)}")
    result = copy.deepcopy(document)
    for operation in steps:
        try:
            result = _apply(result, operation)
        except PatchOperationFailed as failure:
            raise patch_failed() from failure
    return result


def _apply(document: Json, operation: JsonObject) -> Json:
    kind = operation.get("op")
    path = _pointer(operation, "path")
    if kind == "add":
        return _add(document, path, _value(operation))
    if kind == "remove":
        return _remove(document, path)
    if kind == "replace":
        value = _value(operation)
        return _add(_remove(document, path), path, value) if path else value
    if kind == "move":
        source = _pointer(operation, "from")
        if path[:len(source)] == source and len(path) > len(source):
            raise PatchOperationFailed(f"cannot move {_spell(source)} into its own child "
                                       f"{_spell(path)}")
        value = _get(document, source)
        return _add(_remove(document, source), path, value)
    if kind == "copy":
        return _add(document, path, copy.deepcopy(_get(document, _pointer(operation, "from"))))
    if kind == "test":
        if not json_equal(_get(document, path), _value(operation)):
            raise PatchOperationFailed(f"testing value {_spell(path)} failed")
        return document
    raise PatchOperationFailed(f"Unexpected kind: {kind}")


def _value(operation: JsonObject) -> Json:
    if "value" not in operation:
        raise PatchOperationFailed(f"operation {operation.get('op')} needs a value")
    return copy.deepcopy(operation["value"])


_ESCAPE = re.compile(r"~(?![01])")


def _pointer(operation: JsonObject, member: str) -> list[str]:
    """RFC 6901: "" is the whole document, "/a~1b/~0c" is ["a/b", "~c"]."""
    text = operation.get(member)
    if not isinstance(text, str):
        raise PatchOperationFailed(f"operation {operation.get('op')} is missing {member}")
    if text == "":
        return []
    if not text.startswith("/") or _ESCAPE.search(text):
        raise PatchOperationFailed(f"invalid JSON pointer: {text!r}")
    return [token.replace("~1", "/").replace("~0", "~") for token in text[1:].split("/")]


def _spell(path: list[str]) -> str:
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in path)


def _index(token: str, size: int) -> int:
    """A list index below ``size``: digits without a leading zero."""
    if not re.fullmatch(r"0|[1-9][0-9]*", token) or int(token) >= size:
        raise PatchOperationFailed(f"index {token} is out of range")
    return int(token)


def _get(document: Json, path: list[str]) -> Json:
    node = document
    for depth, token in enumerate(path):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(token, len(node))]
        else:
            raise PatchOperationFailed(f"path {_spell(path[:depth + 1])} does not exist")
    return node


def _add(document: Json, path: list[str], value: Json) -> Json:
    if not path:
        return value
    parent, last = _get(document, path[:-1]), path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(len(parent) if last == "-" else _index(last, len(parent) + 1), value)
    else:
        raise PatchOperationFailed(f"cannot add to {_spell(path[:-1])}: not a container")
    return document


def _remove(document: Json, path: list[str]) -> Json:
    if not path:
        raise PatchOperationFailed("cannot remove the whole document")
    parent, last = _get(document, path[:-1]), path[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(last, len(parent))]
    else:
        raise PatchOperationFailed(f"path {_spell(path)} does not exist")
    return document
