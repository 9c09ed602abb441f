"""Server-side apply and field ownership (``metadata.managedFields``), as kube-apiserver keeps it.

Two entry points:

- :func:`apply` merges an applied configuration (``application/apply-patch+yaml``) into the
  live object and returns the new object. The configuration must carry the endpoint's
  ``apiVersion`` and a ``kind`` (400 otherwise, with kube's "Incorrect version specified in
  apply patch" text for the former). Maps merge key by key, lists named in
  :mod:`mergekeys` (or the CRD's list-map keys) merge item by item, every other list is
  replaced whole. The manager's ``operation: Apply`` entry then owns exactly the fields the
  configuration sets (:func:`fieldsets.field_paths`). A field it owned before and omits now is
  removed, unless another manager owns it (or something below it). Changing a field another
  manager owns is a 409 Conflict listing every conflict, like kube's ("Apply failed with 1
  conflict: conflict with \\"other\\": .spec.replicas", causes of reason
  ``FieldManagerConflict``); ``force`` takes those fields away from their owners instead.
  An apply that changes nothing returns the live object with its ``managedFields`` untouched,
  time included, so applying the same configuration twice is not a write; a manager left
  owning nothing has no entry. A ``null`` on a live map or keyed list is no opinion (kube's
  merge keeps what is there), and owners lose whatever the apply removed. As in kube, the
  fields of an object that has no ``managedFields`` at all are first given to an Update
  manager named ``before-first-apply``, so an apply that changes them conflicts.
- :func:`record_update` runs after an ordinary create, update or patch made with a
  ``fieldManager``: the manager's ``operation: Update`` entry gains the fields that write added
  or changed, other managers lose the fields it changed, and everyone loses removed fields.
  An update never conflicts.

:func:`decode_apply_body` turns the request body (YAML or JSON) into the configuration.

Entries are identified by manager, operation and subresource, and sorted like kube's (Apply
before Update, then by time, then manager). Timestamps come from ``time`` or the clock.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from gateway.localcluster import fieldsets
from gateway.localcluster.errors import ApiError, Cause, bad_request
from gateway.localcluster.fieldsets import FieldPath
from gateway.localcluster.jsonvalues import Json, JsonObject, json_equal
from gateway.localcluster.mergekeys import FieldNames, MergeSchema, apply_schema
from gateway.localcluster.metadata import now

BEFORE_FIRST_APPLY = "before-first-apply"


@dataclass
class _Entry:
    """One ``managedFields`` entry, its FieldsV1 decoded into paths."""

    manager: str
    operation: str
    api_version: str
    time: str | None
    subresource: str
    paths: set[FieldPath]

    def is_owner(self, manager: str, operation: str) -> bool:
        return (self.manager, self.operation, self.subresource) == (manager, operation, "")

    def describe(self) -> str:
        """The manager as kube's conflict messages print it."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}" + (f" at {self.time}" if self.time else "")
        return text

    def encode(self) -> JsonObject:
        encoded: JsonObject = {"manager": self.manager, "operation": self.operation,
                               "apiVersion": self.api_version}
        if self.time:
            encoded["time"] = self.time
        encoded.update(fieldsType="FieldsV1", fieldsV1=fieldsets.to_fields_v1(self.paths))
        if self.subresource:
            encoded["subresource"] = self.subresource
        return encoded


def _text(raw: JsonObject, key: str) -> str:
    value = raw.get(key)
    return value if isinstance(value, str) else ""


def _listed(obj: Mapping[str, Json] | None) -> list[Json] | None:
    """The object's ``managedFields`` when it has a non-empty list of them."""
    metadata = (obj or {}).get("metadata")
    listed = metadata.get("managedFields") if isinstance(metadata, dict) else None
    return listed if isinstance(listed, list) and listed else None


def _decode(obj: Mapping[str, Json] | None) -> list[_Entry]:
    """The entries that name a manager (so ``[{}]`` decodes to none: the way to reset)."""
    return [_Entry(manager=_text(raw, "manager"), operation=_text(raw, "operation"),
                   api_version=_text(raw, "apiVersion"), time=_text(raw, "time") or None,
                   subresource=_text(raw, "subresource"),
                   paths=fieldsets.from_fields_v1(raw.get("fieldsV1"))
                   if raw.get("fieldsType", "FieldsV1") == "FieldsV1" else set())
            for raw in _listed(obj) or [] if isinstance(raw, dict) and _text(raw, "manager")]


def _store(obj: JsonObject, entries: Iterable[_Entry]) -> None:
    ordered = sorted(entries, key=lambda e: (e.operation, e.time or "", e.manager,
                                             e.subresource))
    _store_raw(obj, [entry.encode() for entry in ordered])


def _store_raw(obj: JsonObject, listed: list[Json]) -> None:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = obj["metadata"] = {}
    if listed:
        metadata["managedFields"] = listed
    else:
        metadata.pop("managedFields", None)


# -- apply --------------------------------------------------------------------------------

def apply(live: JsonObject | None, applied: JsonObject, *, manager: str, force: bool,
          api_version: str, list_map_keys: Mapping[str, Sequence[str]] | None = None,
          time: str | None = None) -> dict[str, Any]:
    """``applied`` merged into ``live`` (None: the object does not exist yet) for ``manager``.

    The result is typed like the store's objects (``dict[str, Any]``); it holds JSON values.
    """
    if applied.get("apiVersion") != api_version:
        raise bad_request("Incorrect version specified in apply patch. Specified patch version: "
                          f"{_text(applied, 'apiVersion')}, expected: {api_version}")
    kind = _text(applied, "kind")
    if not kind:
        raise bad_request("failed to create typed patch object: no corresponding type for "
                          f"{api_version}, Kind=")
    metadata = applied.get("metadata")
    if isinstance(metadata, dict) and metadata.get("managedFields"):
        raise bad_request("metadata.managedFields must be nil")
    schema = apply_schema(api_version, kind, list_map_keys)
    _check_lists(applied, (), (), schema)
    current: JsonObject = copy.deepcopy(live) if live is not None else {}
    applied = _without_wildcard_nulls(applied, (), (), current, schema)
    entries = _decode(live)
    if not entries and (existing := fieldsets.field_paths(current, schema)):
        # kube's rule for objects nobody manages yet: what is there belongs to a
        # "before-first-apply" updater, so the first apply cannot silently change it.
        entries = [_Entry(BEFORE_FIRST_APPLY, "Update", api_version, time or now(), "",
                          existing)]
    mine = next((e for e in entries if e.is_owner(manager, "Apply")), None)
    others = [e for e in entries if e is not mine]
    wanted = fieldsets.field_paths(applied, schema)

    # Fields given up go first, then the configuration merges in. What anyone else owns is
    # kept, and force only takes paths the configuration sets, so this is the same either way.
    merged = copy.deepcopy(current)
    _remove_released(merged, (mine.paths if mine else set()) - wanted,
                     wanted.union(*(entry.paths for entry in others)))
    _merge_map(merged, applied, (), schema)
    changed = {path for path in wanted if fieldsets.changed(current, merged, path)}
    conflicts = sorted(((entry, path) for entry in others for path in entry.paths & changed),
                       key=lambda found: (found[0].describe(), fieldsets.describe(found[1])))
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for entry in others:
        entry.paths -= changed | {path for path in entry.paths if _gone(current, merged, path)}

    if mine is not None and mine.paths == wanted and mine.api_version == api_version \
            and json_equal(merged, current):
        return merged
    updated = _Entry(manager, "Apply", api_version, time or now(), "", wanted)
    _store(merged, [entry for entry in [*others, updated] if entry.paths])
    return merged


def _without_wildcard_nulls(value: JsonObject, path: FieldPath, names: FieldNames,
                            live: JsonObject, schema: MergeSchema) -> JsonObject:
    """The configuration without the nulls kube reads as "no opinion".

    kube merges an applied ``null`` into a live map or keyed/set list as nothing at all: the
    live content stays and the applier owns none of it, so a ``null`` cannot wipe fields other
    managers own. (On a scalar, an atomic list or a missing field it is a value: the field is
    removed, and owned.)
    """
    kept: JsonObject = {}
    for key, child in value.items():
        child_path, child_names = (*path, "f:" + key), (*names, key)
        current, rule = fieldsets.value_at(live, child_path), schema.rule(child_names)
        merges = isinstance(current, dict) or (isinstance(current, list) and rule is not None)
        if child is None and merges and current:
            continue
        if isinstance(child, dict):
            child = _without_wildcard_nulls(child, child_path, child_names, live, schema)
        elif isinstance(child, list) and rule is not None and not rule.is_set:
            child = [_without_wildcard_nulls(
                item, (*child_path, fieldsets.item_element(item, rule)), child_names, live,
                schema) if isinstance(item, dict) else item for item in child]
        kept[key] = child
    return kept


def _gone(before: Json, after: Json, path: FieldPath) -> bool:
    """True when the apply removed ``path`` (its owners lose it, as in kube)."""
    return (fieldsets.value_at(before, path) is not fieldsets.MISSING
            and fieldsets.value_at(after, path) is fieldsets.MISSING)


def _check_lists(value: Json, path: FieldPath, names: FieldNames, schema: MergeSchema) -> None:
    """Refuse a configuration whose keyed lists cannot be merged by key, as kube does."""
    if isinstance(value, dict):
        for key, child in value.items():
            _check_lists(child, (*path, "f:" + key), (*names, key), schema)
    elif isinstance(value, list):
        rule = schema.rule(names)
        problem = fieldsets.list_problem(value, rule) if rule is not None else None
        if problem is not None:
            raise bad_request(f"failed to create typed patch object: "
                              f"{fieldsets.describe(path)}: {problem}")
        for item in value:
            if isinstance(item, dict):
                _check_lists(item, path, names, schema)


def _merge_map(target: JsonObject, applied: JsonObject, names: FieldNames,
               schema: MergeSchema) -> None:
    for key, value in applied.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            child = target.get(key)
            if not isinstance(child, dict):
                child = target[key] = {}
            _merge_map(child, value, (*names, key), schema)
        elif isinstance(value, list):
            target[key] = _merge_list(target.get(key), value, (*names, key), schema)
        else:
            target[key] = value


def _merge_list(current: Json, applied: list[Json], names: FieldNames,
                schema: MergeSchema) -> list[Json]:
    """Keyed and set lists merge into the live list (new items last); others are replaced."""
    rule = schema.rule(names)
    if rule is None or not isinstance(current, list) \
            or fieldsets.list_problem(current, rule) is not None:
        return copy.deepcopy(applied)
    result = current
    for item in applied:
        element = fieldsets.item_element(item, rule)
        index = next((i for i, existing in enumerate(result)
                      if fieldsets.item_element(existing, rule) == element), None)
        if rule.is_set:
            if index is None:
                result.append(item)
        elif isinstance(item, dict):
            if index is None:
                result.append({})
            target = result[-1 if index is None else index]
            if isinstance(target, dict):
                _merge_map(target, item, names, schema)
    return result


def _remove_released(merged: JsonObject, released: set[FieldPath],
                     kept: set[FieldPath]) -> None:
    """Delete the fields the applier gave up, unless a kept path is at or below them.

    ``kept`` is what the applier still applies plus what anyone else owns. A key field of a
    list item is never removed on its own: the item goes (when released) or stays whole.
    """
    for path in sorted(released, key=len, reverse=True):
        if not _is_key_field(path) and not any(other[:len(path)] == path for other in kept):
            fieldsets.remove(merged, path)


def _is_key_field(path: FieldPath) -> bool:
    """True for ``...k:{"name":"x"}/f:name``: a merge key field of a keyed list item."""
    if len(path) < 2 or not path[-2].startswith("k:"):
        return False
    try:
        keys = json.loads(path[-2][2:])
    except ValueError:
        return False
    return isinstance(keys, dict) and path[-1][2:] in keys


def _conflict_error(conflicts: list[tuple[_Entry, FieldPath]]) -> ApiError:
    causes = [Cause("FieldManagerConflict", f"conflict with {entry.describe()}",
                    fieldsets.describe(path)) for entry, path in conflicts]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = (f"Apply failed with 1 conflict: conflict with {entry.describe()}: "
                   f"{fieldsets.describe(path)}")
    else:
        lines: list[str] = []
        for entry, path in conflicts:
            heading = f"conflicts with {entry.describe()}:"
            if heading not in lines:
                lines.append(heading)
            lines.append(f"- {fieldsets.describe(path)}")
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, causes=causes)


# -- ordinary writes ----------------------------------------------------------------------

def record_update(old: JsonObject | None, new: JsonObject, *, manager: str, api_version: str,
                  list_map_keys: Mapping[str, Sequence[str]] | None = None,
                  time: str | None = None) -> None:
    """Record ``manager``'s ``Update`` ownership of what ``old`` -> ``new`` changed, in ``new``.

    This one changes its argument: ``new`` is the object the caller is about to store, and
    its ``metadata.managedFields`` is set here. Managed fields the writer sent in ``new`` win
    over the stored ones (that is how a client resets them); without, ``old``'s carry over.
    A write that changes no field leaves them as they were.
    """
    kind = new.get("kind")
    schema = apply_schema(api_version, kind if isinstance(kind, str) else "", list_map_keys)
    provided = _listed(new) is not None
    entries = _decode(new) if provided else _decode(old)
    before = fieldsets.field_paths(old or {}, schema)
    after = fieldsets.field_paths(new, schema)
    modified = {path for path in before & after if fieldsets.changed(old, new, path)}
    added, removed = after - before, before - after
    if not (modified or added or removed):
        if provided:
            _store(new, entries)
        elif (kept := _listed(old)) is not None:
            _store_raw(new, copy.deepcopy(kept))
        return
    mine = next((e for e in entries if e.is_owner(manager, "Update")), None)
    others = [e for e in entries if e is not mine]
    for entry in others:
        entry.paths -= modified | removed
    owned = ((mine.paths if mine else set()) | modified | added) - removed
    updated = [_Entry(manager, "Update", api_version, time or now(), "", owned)] if owned else []
    _store(new, [entry for entry in others if entry.paths] + updated)


# -- the request body ---------------------------------------------------------------------

class _JsonLikeLoader(yaml.SafeLoader):
    """YAML as kube reads it for apply: timestamps stay strings (JSON has no dates)."""


_JsonLikeLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers
            if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def decode_apply_body(raw: bytes) -> JsonObject:
    """The applied configuration from a YAML or JSON body; 400 when it is not a JSON object.

    Clients (controllers especially) mostly send JSON, which is YAML too: it is tried first
    with the JSON parser, a hundred times faster than the pure-Python YAML one.
    """
    try:
        decoded = json.loads(raw)
    except ValueError:
        try:
            decoded = yaml.load(raw, Loader=_JsonLikeLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as error:
            raise bad_request(f"error decoding YAML: {error}") from error
    if not isinstance(decoded, dict) or not _is_json(decoded):
        raise bad_request("error decoding YAML: the applied configuration must be an object "
                          "of JSON values (string keys; no binary, sets or tagged types)")
    return decoded


def _is_json(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_json(child) for key, child in value.items())
    if isinstance(value, list):
        return all(_is_json(child) for child in value)
    return value is None or isinstance(value, str | int | float | bool)
