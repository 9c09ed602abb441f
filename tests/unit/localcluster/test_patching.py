"""JSON merge patch (RFC 7386) and JSON patch (RFC 6902) with kube-apiserver's error codes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.localcluster.errors import ApiError
from gateway.localcluster.jsonvalues import Json, json_equal
from gateway.localcluster.patching import (
    MAX_OPERATIONS,
    PatchOperationFailed,
    json_patch,
    merge_patch,
)

OBJ: dict[str, Any] = {
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "c", "labels": {"a": "1", "b": "2"}},
    "data": {"x": "1", "list": ["p", "q"]},
}

# -- merge patch ---------------------------------------------------------------------------


def test_merge_patch_merges_objects_and_deletes_nulls() -> None:
    """Objects merge recursively, null removes a key, other values replace."""
    result = merge_patch(OBJ, {"metadata": {"labels": {"a": None, "c": "3"}},
                               "data": {"list": ["z"]}})
    assert result == {**OBJ, "metadata": {"name": "c", "labels": {"b": "2", "c": "3"}},
                      "data": {"x": "1", "list": ["z"]}}


def test_merge_patch_creates_missing_objects_and_replaces_scalars_by_objects() -> None:
    """A patch object under a missing or non-object member starts from an empty object."""
    result = merge_patch({"a": 1}, {"a": {"b": {"c": None, "d": 2}}, "e": {"f": 1}})
    assert result == {"a": {"b": {"d": 2}}, "e": {"f": 1}}


@pytest.mark.parametrize("patch", [None, 5, "x", True])
def test_a_null_or_scalar_merge_patch_is_400_like_kubes_library(patch: Json) -> None:
    """kube's merge patch refuses a document that is neither an object nor a list."""
    with pytest.raises(ApiError) as caught:
        merge_patch(OBJ, patch)
    assert (caught.value.code, caught.value.message) == (400, "Invalid JSON Patch")


def test_a_list_merge_patch_would_replace_the_object_so_it_is_422() -> None:
    """RFC 7386 makes a list the new document; kube cannot decode that into the object."""
    with pytest.raises(ApiError) as caught:
        merge_patch(OBJ, [{"a": None}, None])
    assert caught.value.to_status()["details"]["causes"] == [{
        "reason": "FieldValueInvalid", "field": "patch",
        "message": 'Invalid value: "[{},null]": the patched document must be a JSON object'}]
    assert caught.value.message.startswith(' "" is invalid: patch: Invalid value: ')


def test_replacing_values_lose_their_null_members_but_lists_keep_null_items() -> None:
    """Nulls inside a new object are dropped, also in objects inside a list; list items stay."""
    result = merge_patch({"a": "scalar"}, {"a": {"b": None, "c": [{"d": None, "e": 1}, None]},
                                           "f": [None]})
    assert result == {"a": {"c": [{"e": 1}, None]}, "f": [None]}


def test_merge_patch_neither_mutates_nor_shares_its_inputs() -> None:
    """The result is a fresh value: changing it leaves the target and the patch alone."""
    target, patch = copy.deepcopy(OBJ), {"data": {"new": {"deep": [1]}}}
    before_target, before_patch = copy.deepcopy(target), copy.deepcopy(patch)
    result = merge_patch(target, patch)
    assert isinstance(result, dict)
    result["metadata"]["labels"]["a"] = "changed"
    result["data"]["new"]["deep"].append(2)
    assert (target, patch) == (before_target, before_patch)


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=3),
    max_leaves=10)
# Objects whose members are never null: a merge patch cannot produce a null member.
non_null = st.recursive(
    st.booleans() | st.integers() | st.text(max_size=5) | st.lists(json_scalars, max_size=3),
    lambda inner: st.dictionaries(st.text(max_size=3), inner, max_size=3), max_leaves=10)
objects = st.dictionaries(st.text(max_size=3), non_null, max_size=4)


def _diff(source: Json, target: Json) -> Json:
    """The merge patch turning ``source`` into ``target`` (the test's own oracle)."""
    if not isinstance(source, dict) or not isinstance(target, dict):
        return target
    patch: dict[str, Json] = {key: None for key in source if key not in target}
    for key, value in target.items():
        if key not in source or not json_equal(source[key], value):
            patch[key] = _diff(source.get(key), value)
    return patch


@given(objects, objects)
def test_the_merge_patch_of_a_diff_reproduces_the_target(source: Json, target: Json) -> None:
    """Applying the diff of two objects to the first gives the second."""
    assert json_equal(merge_patch(source, _diff(source, target)), target)


@given(objects)
def test_an_empty_merge_patch_is_the_identity(source: Json) -> None:
    """``{}`` changes nothing."""
    assert json_equal(merge_patch(source, {}), source)


# -- JSON patch ----------------------------------------------------------------------------

def test_add_sets_members_and_inserts_or_appends_list_items() -> None:
    """add: a new member, an insert at an index, an append with '-'."""
    result = json_patch(OBJ, [
        {"op": "add", "path": "/data/y", "value": "2"},
        {"op": "add", "path": "/data/list/0", "value": "first"},
        {"op": "add", "path": "/data/list/-", "value": "last"},
        {"op": "add", "path": "/data/list/4", "value": "end"},
    ])
    assert result["data"] == {"x": "1", "y": "2", "list": ["first", "p", "q", "last", "end"]}


def test_add_replaces_an_existing_member() -> None:
    """add on an existing member overwrites it."""
    assert json_patch(OBJ, [{"op": "add", "path": "/data/x", "value": 9}])["data"]["x"] == 9


def test_remove_and_replace() -> None:
    """remove drops a member or item; replace swaps an existing value."""
    result = json_patch(OBJ, [
        {"op": "remove", "path": "/metadata/labels/a"},
        {"op": "remove", "path": "/data/list/0"},
        {"op": "replace", "path": "/data/x", "value": {"nested": True}},
        {"op": "replace", "path": "/data/list/0", "value": "Q"},
    ])
    assert result["metadata"]["labels"] == {"b": "2"}
    assert result["data"] == {"x": {"nested": True}, "list": ["Q"]}
    assert json_patch(OBJ, [{"op": "replace", "path": "", "value": {"a": 1}}]) == {"a": 1}


def test_move_and_copy() -> None:
    """move takes a value away from 'from'; copy leaves it and copies deeply."""
    result = json_patch(OBJ, [
        {"op": "move", "from": "/metadata/labels", "path": "/metadata/annotations"},
        {"op": "copy", "from": "/data/list", "path": "/data/copied"},
        {"op": "add", "path": "/data/copied/-", "value": "r"},
        {"op": "move", "from": "/data/list/1", "path": "/data/list/0"},
        {"op": "move", "from": "/data/x", "path": "/data/x"},
    ])
    assert result["metadata"] == {"name": "c", "annotations": {"a": "1", "b": "2"}}
    assert result["data"] == {"x": "1", "list": ["q", "p"], "copied": ["p", "q", "r"]}


def test_test_compares_with_json_semantics() -> None:
    """test passes on an equal value; 1 equals 1.0 but true is not 1."""
    doc = {"n": 1, "t": True, "o": {"a": [1, {"b": None}]}}
    assert json_patch(doc, [{"op": "test", "path": "/n", "value": 1.0},
                            {"op": "test", "path": "/t", "value": True},
                            {"op": "test", "path": "/o", "value": {"a": [1, {"b": None}]}}]) \
        == doc
    for wrong in ({"path": "/t", "value": 1}, {"path": "/n", "value": True},
                  {"path": "/o/a", "value": [1]}):
        with pytest.raises(ApiError) as caught:
            json_patch(doc, [{"op": "test", **wrong}])
        assert caught.value.code == 422


def test_pointer_escapes_address_slashes_and_tildes() -> None:
    """~1 is '/', ~0 is '~', and '~01' is the literal '~1'."""
    doc = {"a/b": 1, "m~n": 2, "~1": 3}
    result = json_patch(doc, [{"op": "replace", "path": "/a~1b", "value": 10},
                              {"op": "replace", "path": "/m~0n", "value": 20},
                              {"op": "replace", "path": "/~01", "value": 30}])
    assert result == {"a/b": 10, "m~n": 20, "~1": 30}


def test_a_failed_operation_is_422_with_kubes_generic_message_and_a_cause() -> None:
    """kube answers 422 Invalid with a fixed text; the reason rides on __cause__."""
    with pytest.raises(ApiError) as caught:
        json_patch(OBJ, [{"op": "test", "path": "/data/x", "value": "2"}])
    error = caught.value
    assert (error.code, error.reason) == (422, "Invalid")
    assert error.message == "the server rejected our request due to an error in our request"
    assert isinstance(error.__cause__, PatchOperationFailed)
    assert str(error.__cause__) == "testing value /data/x failed: test failed"


@pytest.mark.parametrize(("operation", "why"), [
    ({"op": "jump", "path": "/a"}, "Unexpected kind: jump"),
    ({"path": "/a", "value": 1}, "Unexpected kind: None"),
    ({"op": "add", "value": 1}, "operation missing path field: missing value"),
    ({"op": "add", "path": "data/y", "value": 1}, "invalid JSON pointer: 'data/y'"),
    ({"op": "add", "path": "/data/~2", "value": 1}, "invalid JSON pointer: '/data/~2'"),
    ({"op": "add", "path": "", "value": {}}, 'add operation does not apply: doc is missing '
     'path: ""'),
    ({"op": "add", "path": "/missing/y", "value": 1},
     "add operation does not apply: doc is missing path: /missing/y: missing value"),
    ({"op": "add", "path": "/data/x/y", "value": 1},
     "add operation does not apply: doc is missing path: /data/x/y: missing value"),
    ({"op": "add", "path": "/data/list/a/b", "value": 1},
     "add operation does not apply: doc is missing path: /data/list/a/b: missing value"),
    ({"op": "add", "path": "/data/list/3", "value": 1},
     "Unable to access invalid index: 3: invalid index referenced"),
    ({"op": "add", "path": "/data/list/-4", "value": 1},
     "Unable to access invalid index: -4: invalid index referenced"),
    ({"op": "add", "path": "/data/list/x", "value": 1},
     "Unable to access invalid index: x: invalid index referenced"),
    ({"op": "remove", "path": "/data/nope"}, "Unable to remove nonexistent key: nope: missing "
     "value"),
    ({"op": "remove", "path": "/data/list/2"},
     "Unable to access invalid index: 2: invalid index referenced"),
    ({"op": "remove", "path": "/data/list/-"},
     "Unable to access invalid index: -: invalid index referenced"),
    ({"op": "remove", "path": ""}, 'remove operation does not apply: doc is missing path: ""'),
    ({"op": "replace", "path": "/data/list/2", "value": 1},
     "Unable to access invalid index: 2: invalid index referenced"),
    ({"op": "replace", "path": "", "value": 1}, "replace operation value must be object or "
     "array"),
    ({"op": "move", "from": "/nope", "path": "/x"}, "Unable to remove nonexistent key: nope: "
     "missing value"),
    ({"op": "move", "from": "/data", "path": "/data/inner"},
     "move operation does not apply: doc is missing destination path: /data/inner: "
     "missing value"),
    ({"op": "move", "path": "/x"}, "operation missing from field: missing value"),
    ({"op": "copy", "from": "", "path": "/x"}, 'copy operation does not apply: doc is missing '
     'from path: ""'),
    ({"op": "copy", "from": "/data/list/5", "path": "/x"},
     "Unable to access invalid index: 5: invalid index referenced"),
    ({"op": "test", "path": "/data/list/9", "value": 1},
     "Unable to access invalid index: 9: invalid index referenced"),
])
def test_operations_that_cannot_apply_are_422(operation: dict[str, Json], why: str) -> None:
    """Unknown ops, bad pointers, missing paths and values: all 422, each with its cause."""
    with pytest.raises(ApiError) as caught:
        json_patch(OBJ, [operation])
    assert caught.value.code == 422
    assert str(caught.value.__cause__) == why


@pytest.mark.parametrize("patch", [{"op": "add"}, "add", [["add"]], [{"op": "add"}, 1], None])
def test_a_patch_that_is_not_a_list_of_objects_is_400(patch: Json) -> None:
    """A document kube cannot decode as a JSON patch is a BadRequest."""
    with pytest.raises(ApiError) as caught:
        json_patch(OBJ, patch)
    assert (caught.value.code, caught.value.reason) == (400, "BadRequest")


def test_replace_adds_a_missing_member_as_kubes_library_does() -> None:
    """kube's JSON patch replaces a missing object member instead of failing (RFC: error)."""
    result = json_patch(OBJ, [{"op": "replace", "path": "/metadata/annotations",
                               "value": {"a": "1"}}])
    assert result["metadata"]["annotations"] == {"a": "1"}


def test_a_missing_member_reads_as_null_for_test_and_copy() -> None:
    """test compares a missing member with null; copy of a missing member copies null."""
    assert json_patch(OBJ, [{"op": "test", "path": "/data/nope", "value": None},
                            {"op": "test", "path": "/data/nope"}]) == OBJ
    with pytest.raises(ApiError):
        json_patch(OBJ, [{"op": "test", "path": "/data/nope", "value": ""}])
    assert json_patch(OBJ, [{"op": "copy", "from": "/data/nope", "path": "/data/y"}])[
        "data"]["y"] is None


def test_an_operation_without_value_uses_null() -> None:
    """add and replace without a value member write null, as kube's library does."""
    result = json_patch(OBJ, [{"op": "add", "path": "/data/y"},
                              {"op": "replace", "path": "/data/x"}])
    assert (result["data"]["x"], result["data"]["y"]) == (None, None)


def test_signed_indices_count_from_the_end() -> None:
    """-1 is the last item (for add: the end), and +1 or 01 read like Go's Atoi."""
    result = json_patch({"l": ["a", "b", "c"]}, [
        {"op": "remove", "path": "/l/-1"},
        {"op": "add", "path": "/l/-1", "value": "end"},
        {"op": "replace", "path": "/l/+1", "value": "B"},
        {"op": "test", "path": "/l/01", "value": "B"},
        {"op": "move", "from": "/l/-3", "path": "/l/-"},
    ])
    assert result == {"l": ["B", "end", "a"]}


def test_a_patch_that_leaves_a_list_is_422_on_the_patch_field() -> None:
    """Replacing the whole document with a list cannot decode into the object."""
    with pytest.raises(ApiError) as caught:
        json_patch(OBJ, [{"op": "replace", "path": "", "value": [1]}])
    assert caught.value.code == 422
    assert [cause.field for cause in caught.value.causes] == ["patch"]


def test_too_many_operations_are_413() -> None:
    """kube refuses a JSON patch of more than 10000 operations."""
    patch: list[Json] = [{"op": "test", "path": "", "value": {}}] * (MAX_OPERATIONS + 1)
    with pytest.raises(ApiError) as caught:
        json_patch({}, patch)
    assert caught.value.code == 413
    assert caught.value.message.endswith("is 10000, got 10001")


def test_json_patch_neither_mutates_nor_shares_its_inputs() -> None:
    """A failing patch leaves the document as it was; a value added is a copy."""
    doc = copy.deepcopy(OBJ)
    value: dict[str, Any] = {"deep": ["x"]}
    with pytest.raises(ApiError):
        json_patch(doc, [{"op": "remove", "path": "/data/x"}, {"op": "test", "path": "/a",
                                                               "value": 1}])
    result = json_patch(doc, [{"op": "add", "path": "/data/v", "value": value}])
    assert isinstance(result, dict)
    result["data"]["v"]["deep"].append("y")
    result["metadata"]["labels"].clear()
    assert doc == OBJ
    assert value == {"deep": ["x"]}


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@given(objects, st.text(max_size=6), non_null)
def test_add_then_remove_is_the_identity(doc: dict[str, Json], key: str, value: Json) -> None:
    """Adding a new member (any name, escaped) and removing it again restores the document."""
    doc.pop(key, None)
    pointer = "/" + _escape(key)
    added = json_patch(doc, [{"op": "add", "path": pointer, "value": value}])
    assert isinstance(added, dict)
    assert json_equal(added[key], value)
    assert json_equal(json_patch(added, [{"op": "remove", "path": pointer}]), doc)


@given(st.lists(json_values, max_size=5), json_values, st.data())
def test_list_insert_then_remove_at_an_index_is_the_identity(
        items: list[Json], value: Json, data: st.DataObject) -> None:
    """Inserting at any index 0..len and removing that index restores the list."""
    index = data.draw(st.integers(min_value=0, max_value=len(items)))
    doc: Json = {"items": items}
    inserted = json_patch(doc, [{"op": "add", "path": f"/items/{index}", "value": value}])
    assert isinstance(inserted, dict)
    assert json_equal(inserted["items"][index], value)
    assert json_equal(json_patch(inserted, [{"op": "remove", "path": f"/items/{index}"}]), doc)
