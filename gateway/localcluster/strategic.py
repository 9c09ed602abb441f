"""Strategic merge patch (``application/strategic-merge-patch+json``) for the built-in kinds.

Like a JSON merge patch, except lists named in :mod:`mergekeys` merge instead of being
replaced: a list of maps merges item by item on its merge key (new items are appended, in the
patch's order, after the existing ones), a set of scalars (``finalizers``) gains the patch's
new members. The directives of kube-apiserver's format are honoured:

- ``$patch: replace`` in a map replaces the map with the patch; as an item of a keyed list it
  replaces the whole list with the patch's other items.
- ``$patch: delete`` in a map deletes that map; as an item of a keyed list it deletes the
  item with that key.
- ``$deleteFromPrimitiveList/<field>: [...]`` removes those scalars from ``<field>`` (before
  the patch's own ``<field>`` members are added).
- ``$retainKeys: [...]`` drops every key of the merged map not listed (and, as in kube, a
  patch that sets a key outside the list is rejected).
- ``$setElementOrder/<field>`` is validated and dropped: the result keeps existing order.
- ``null`` deletes the key.

Errors follow the apiserver: a malformed directive is 400 BadRequest with mergepatch's
message; a ``$retainKeys`` mismatch is the generic 422. An unknown ``$patch`` value or a list
item without its merge key is a 400 here (kube answers those with a 500).
"""

from __future__ import annotations

import copy

from gateway.localcluster.errors import bad_request, patch_failed, unsupported_media_type
from gateway.localcluster.jsonvalues import Json, JsonObject, json_equal
from gateway.localcluster.mergekeys import FieldNames, ListRule, MergeSchema, strategic_schema

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_FROM = "$deleteFromPrimitiveList/"
_ELEMENT_ORDER = "$setElementOrder/"
_MEDIA_TYPE = "application/strategic-merge-patch+json"


def strategic_merge_patch(original: Json, patch: Json, kind: str) -> Json:
    """``original`` (a built-in ``kind``) with ``patch`` applied; the inputs are not changed."""
    schema = strategic_schema(kind)
    if schema is None:
        raise unsupported_media_type(_MEDIA_TYPE)
    if not isinstance(patch, dict):
        raise bad_request("json: cannot unmarshal the patch into Go value of type "
                          "map[string]interface {}")
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    if not _patch_map(result, patch, (), schema):
        raise bad_request("a strategic merge patch cannot delete the whole object")
    return result


def _patch_map(target: JsonObject, patch: JsonObject, names: FieldNames,
               schema: MergeSchema) -> bool:
    """Apply ``patch`` to ``target`` in place; False when the patch deletes the map itself."""
    directive = patch.get(_PATCH)
    if directive == "delete":
        return False
    if directive == "replace":
        target.clear()
    elif directive not in (None, "merge"):
        raise bad_request(f"unknown patch type: {directive} in map: {patch}")
    retained = _retained_keys(patch)
    for key, value in patch.items():
        if key.startswith(_ELEMENT_ORDER) and not isinstance(value, list):
            raise bad_request("invalid patch format of setElementOrder list")
        if key.startswith(_DELETE_FROM):
            _delete_from_list(target, key.removeprefix(_DELETE_FROM), value)
    for key, value in patch.items():
        if key not in (_PATCH, _RETAIN_KEYS) and not key.startswith((_ELEMENT_ORDER,
                                                                        _DELETE_FROM)):
            _patch_field(target, key, value, (*names, key), schema)
    if retained is not None:
        for key in [key for key in target if key not in retained]:
            del target[key]
    return True


def _retained_keys(patch: JsonObject) -> set[str] | None:
    listed = patch.get(_RETAIN_KEYS)
    if listed is None:
        return None
    if not isinstance(listed, list) or not all(isinstance(key, str) for key in listed):
        raise bad_request("invalid patch format of retainKeys")
    retained = {key for key in listed if isinstance(key, str)}
    if any(value is not None and not key.startswith("$") and key not in retained
           for key, value in patch.items()):
        raise patch_failed() from ValueError("patch content doesn't match retainKeys list")
    return retained


def _delete_from_list(target: JsonObject, field: str, doomed: Json) -> None:
    if not isinstance(doomed, list):
        raise bad_request("invalid patch format of primitive list")
    current = target.get(field)
    if isinstance(current, list):
        target[field] = [item for item in current
                         if not any(json_equal(item, gone) for gone in doomed)]


def _patch_field(target: JsonObject, key: str, value: Json, names: FieldNames,
                 schema: MergeSchema) -> None:
    current = target.get(key)
    if value is None:
        target.pop(key, None)
    elif isinstance(value, dict):
        child = current if isinstance(current, dict) else {}
        if _patch_map(child, value, names, schema):
            target[key] = child
        else:
            target.pop(key, None)
    elif isinstance(value, list):
        rule = schema.rule(names)
        existing = current if isinstance(current, list) else []
        if rule is None:
            target[key] = copy.deepcopy(value)
        elif rule.is_set:
            target[key] = existing + [copy.deepcopy(item) for index, item in enumerate(value)
                                      if not _contains(existing + value[:index], item)]
        else:
            target[key] = _patch_keyed_list(existing, value, rule, names, schema)
    else:
        target[key] = value


def _contains(items: list[Json], wanted: Json) -> bool:
    return any(json_equal(item, wanted) for item in items)


def _patch_keyed_list(existing: list[Json], patch: list[Json], rule: ListRule,
                      names: FieldNames, schema: MergeSchema) -> list[Json]:
    replace = any(isinstance(item, dict) and item.get(_PATCH) == "replace" for item in patch)
    result = [] if replace else existing
    for item in patch:
        if not isinstance(item, dict):
            raise bad_request(f"expected a map in the list merged by {', '.join(rule.keys)}, "
                              f"got {item!r}")
        directive = item.get(_PATCH)
        if directive == "replace":
            continue
        if directive not in (None, "merge", "delete"):
            raise bad_request(f"unknown patch type: {directive} in map: {item}")
        missing = [key for key in rule.keys if key not in item]
        if missing:
            raise bad_request(f"map: {item} does not contain declared merge key: {missing[0]}")
        found = _find(result, rule.keys, item)
        if directive == "delete":
            if found is not None:
                del result[found[0]]
            continue
        if found is None:
            added: JsonObject = {}
            _patch_map(added, item, names, schema)
            result.append(added)
        else:
            _patch_map(found[1], item, names, schema)
    return result


def _find(items: list[Json], keys: tuple[str, ...],
          wanted: JsonObject) -> tuple[int, JsonObject] | None:
    """The position and item whose ``keys`` equal ``wanted``'s."""
    for index, item in enumerate(items):
        if isinstance(item, dict) and all(key in item and json_equal(item[key], wanted[key])
                                          for key in keys):
            return index, item
    return None
