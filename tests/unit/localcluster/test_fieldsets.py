"""Field paths of objects, their FieldsV1 encoding, lookup, comparison and removal."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.localcluster import fieldsets
from gateway.localcluster.fieldsets import MISSING, FieldPath
from gateway.localcluster.mergekeys import ListRule, apply_schema

POD_SCHEMA = apply_schema("v1", "Pod")
POD: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "ns", "uid": "u", "resourceVersion": "3",
                 "labels": {"app": "model"}, "annotations": {}, "finalizers": ["a", "b"],
                 "managedFields": [{"manager": "m"}]},
    "spec": {"containers": [{"name": "model", "image": "m:1", "args": ["--x"],
                             "ports": [{"containerPort": 80}]}],
             "nodeName": None},
}
CONTAINER = 'k:{"name":"model"}'


def test_field_paths_of_a_pod() -> None:
    """Leaves, empty maps, atomic lists, keyed items and set members; no server-set fields."""
    assert fieldsets.field_paths(POD, POD_SCHEMA) == {
        ("f:metadata", "f:labels", "f:app"),
        ("f:metadata", "f:annotations"),
        ("f:metadata", "f:finalizers", 'v:"a"'),
        ("f:metadata", "f:finalizers", 'v:"b"'),
        ("f:spec", "f:containers", CONTAINER),
        ("f:spec", "f:containers", CONTAINER, "f:name"),
        ("f:spec", "f:containers", CONTAINER, "f:image"),
        ("f:spec", "f:containers", CONTAINER, "f:args"),
        ("f:spec", "f:containers", CONTAINER, "f:ports", 'k:{"containerPort":80}'),
        ("f:spec", "f:containers", CONTAINER, "f:ports", 'k:{"containerPort":80}',
         "f:containerPort"),
        ("f:spec", "f:nodeName"),
    }


def test_keys_of_an_item_are_sorted_compact_json() -> None:
    """A multi-key item element lists its keys sorted, like kube's FieldsV1."""
    schema = apply_schema("example.com/v1", "Thing", {"spec.ports": ("port", "protocol")})
    paths = fieldsets.field_paths({"spec": {"ports": [{"protocol": "TCP", "port": 80}]}}, schema)
    assert ("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}') in paths


@pytest.mark.parametrize(("items", "problem"), [
    ([{"image": "x"}], 'element 0: associative list with keys has an element that omits key '
                       'field "name"'),
    ([{"name": "a"}, {"name": "a"}], 'duplicate entries for key [name="a"]'),
    (["a"], "element 0: expected a map in a list keyed by ('name',)"),
])
def test_lists_that_cannot_be_keyed_say_why_and_count_as_atomic(items: list[Any],
                                                               problem: str) -> None:
    """A keyed list with a missing or repeated key, or a non-map item, is one atomic field."""
    assert fieldsets.list_problem(items, ListRule(("name",))) == problem
    assert fieldsets.field_paths({"spec": {"containers": items}}, POD_SCHEMA) == {
        ("f:spec", "f:containers")}


def test_set_problems() -> None:
    """A set holds unique scalars only."""
    assert fieldsets.list_problem(["a", "a"], ListRule()) == 'duplicate entries for key [="a"]'
    assert fieldsets.list_problem([{"a": 1}], ListRule()) == (
        "element 0: a set may only hold scalars")
    assert fieldsets.list_problem(["a", 1], ListRule()) is None


def test_fields_v1_marks_members_with_children_by_a_dot() -> None:
    """A keyed item that is owned and has owned fields gets ``".": {}``; leaves are ``{}``."""
    paths = {path for path in fieldsets.field_paths(POD, POD_SCHEMA)
             if path[0] == "f:spec"}
    assert fieldsets.to_fields_v1(paths) == {"f:spec": {
        "f:containers": {CONTAINER: {
            ".": {}, "f:args": {}, "f:image": {}, "f:name": {},
            "f:ports": {'k:{"containerPort":80}': {".": {}, "f:containerPort": {}}}}},
        "f:nodeName": {}}}


def test_reading_fields_v1_back() -> None:
    """A FieldsV1 tree gives back its paths; junk gives none."""
    tree = {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, ".": {}}
    assert fieldsets.from_fields_v1(tree) == {("f:metadata", "f:labels"),
                                              ("f:metadata", "f:labels", "f:app")}
    assert fieldsets.from_fields_v1("junk") == set()
    assert fieldsets.from_fields_v1(None) == set()


element_names = st.sampled_from(["f:a", "f:b", "f:spec", 'k:{"name":"x"}', 'v:"y"'])


@given(st.sets(st.lists(element_names, min_size=1, max_size=4).map(tuple), max_size=8))
def test_fields_v1_round_trips(paths: set[FieldPath]) -> None:
    """Encoding paths to FieldsV1 and reading them back loses nothing."""
    assert fieldsets.from_fields_v1(fieldsets.to_fields_v1(paths)) == paths


def test_describe_prints_paths_like_the_apiserver() -> None:
    """Fields are dotted, keyed items ``[k=v]`` with JSON values, set members ``[=v]``."""
    assert fieldsets.describe(("f:spec", "f:replicas")) == ".spec.replicas"
    assert fieldsets.describe(("f:spec", "f:containers", CONTAINER, "f:image")) == (
        '.spec.containers[name="model"].image')
    assert fieldsets.describe(("f:ports", 'k:{"port":80,"protocol":"TCP"}')) == (
        '.ports[port=80,protocol="TCP"]')
    assert fieldsets.describe(("f:metadata", "f:finalizers", 'v:"a"')) == (
        '.metadata.finalizers[="a"]')


def test_value_at_follows_fields_keys_and_set_members() -> None:
    """Lookup by field, by item key and by member value; anything absent is MISSING."""
    container = ("f:spec", "f:containers", CONTAINER)
    assert fieldsets.value_at(POD, (*container, "f:image")) == "m:1"
    assert fieldsets.value_at(POD, container) == POD["spec"]["containers"][0]
    assert fieldsets.value_at(POD, ("f:metadata", "f:finalizers", 'v:"b"')) == "b"
    assert fieldsets.value_at(POD, ("f:spec", "f:nodeName")) is None
    for absent in [("f:spec", "f:missing"), ("f:metadata", "f:finalizers", 'v:"c"'),
                   ("f:spec", "f:containers", 'k:{"name":"other"}'),
                   ("f:spec", "f:containers", "k:not json"),
                   ("f:metadata", "f:name", "f:deeper")]:
        assert fieldsets.value_at(POD, absent) is MISSING


def test_changed_compares_values_but_not_maps() -> None:
    """A value differs when it changes, appears or goes; two maps are the same node."""
    after = copy.deepcopy(POD)
    after["spec"]["containers"][0]["image"] = "m:2"
    after["metadata"]["labels"]["new"] = "x"
    container = ("f:spec", "f:containers", CONTAINER)
    assert fieldsets.changed(POD, after, (*container, "f:image"))
    assert not fieldsets.changed(POD, after, container)
    assert not fieldsets.changed(POD, after, ("f:metadata", "f:labels"))
    assert fieldsets.changed(POD, after, ("f:metadata", "f:labels", "f:new"))
    assert not fieldsets.changed(POD, after, ("f:spec", "f:absent"))


def test_remove_deletes_a_path_and_prunes_what_it_emptied() -> None:
    """Removing the last label drops ``labels``; an emptied list item and list go too."""
    obj = copy.deepcopy(POD)
    fieldsets.remove(obj, ("f:metadata", "f:labels", "f:app"))
    assert "labels" not in obj["metadata"]
    assert obj["metadata"]["annotations"] == {}
    fieldsets.remove(obj, ("f:metadata", "f:finalizers", 'v:"a"'))
    assert obj["metadata"]["finalizers"] == ["b"]
    port = ("f:spec", "f:containers", CONTAINER, "f:ports", 'k:{"containerPort":80}')
    fieldsets.remove(obj, (*port, "f:containerPort"))
    assert "ports" not in obj["spec"]["containers"][0]
    fieldsets.remove(obj, ("f:spec", "f:containers", CONTAINER))
    assert obj["spec"] == {"nodeName": None}


def test_removing_what_is_not_there_changes_nothing() -> None:
    """Absent fields, items and paths through scalars are ignored."""
    obj = copy.deepcopy(POD)
    for absent in [("f:spec", "f:missing"), ("f:spec", "f:containers", 'k:{"name":"x"}'),
                   ("f:metadata", "f:name", "f:deeper"), ("f:spec", "f:containers", "f:x"),
                   ("f:metadata", "f:finalizers", 'v:"b"', "f:deeper"),
                   ("f:metadata", "k:{}")]:
        fieldsets.remove(obj, absent)
    assert obj == POD
