"""Server-side apply and Update ownership in managedFields, as kube-apiserver records them."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.localcluster.applying import apply, decode_apply_body, record_update
from gateway.localcluster.errors import ApiError
from gateway.localcluster.jsonvalues import JsonObject

APPS = "apps/v1"
MODEL = 'k:{"name":"model"}'


def deployment(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": APPS, "kind": "Deployment", "metadata": {"name": "d"}, "spec": spec}


CONFIG = deployment(replicas=2, template={"spec": {"containers": [
    {"name": "model", "image": "m:1", "args": ["--port", "80"]}]}})


def applied(live: JsonObject | None, config: JsonObject, manager: str = "alice", *,
            force: bool = False, time: str = "2024-01-01T00:00:00Z") -> dict[str, Any]:
    return apply(live, config, manager=manager, force=force, api_version=APPS, time=time)


def entries(obj: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["manager"], e["operation"]): e for e in obj["metadata"]["managedFields"]}


def test_applying_to_a_missing_object_returns_the_config_with_its_ownership() -> None:
    """The body is the configuration plus one Apply entry in kube's FieldsV1 format."""
    result = applied(None, CONFIG)
    managed = result["metadata"].pop("managedFields")
    assert result == CONFIG
    assert managed == [{
        "manager": "alice", "operation": "Apply", "apiVersion": APPS,
        "time": "2024-01-01T00:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
            MODEL: {".": {}, "f:args": {}, "f:image": {}, "f:name": {}}}}}}}}]


def test_applying_the_same_configuration_twice_changes_nothing() -> None:
    """The second apply returns an equal object; the entry keeps its first time."""
    first = applied(None, CONFIG)
    assert applied(first, CONFIG, time="2030-01-01T00:00:00Z") == first


def test_a_changed_configuration_updates_the_value_and_the_time() -> None:
    """A new value is merged and the manager's entry gets the new time."""
    first = applied(None, CONFIG)
    second = applied(first, deployment(replicas=5, template=CONFIG["spec"]["template"]),
                     time="2024-02-02T00:00:00Z")
    assert second["spec"]["replicas"] == 5
    assert entries(second)[("alice", "Apply")]["time"] == "2024-02-02T00:00:00Z"


def test_changing_a_field_another_applier_owns_is_a_409_like_kubes() -> None:
    """Apply failed with 1 conflict, a FieldManagerConflict cause naming path and manager."""
    live = applied(None, CONFIG)
    with pytest.raises(ApiError) as caught:
        applied(live, deployment(replicas=3), "bob")
    assert caught.value.to_status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas',
        "reason": "Conflict", "code": 409,
        "details": {"causes": [{"reason": "FieldManagerConflict",
                                "message": 'conflict with "alice"',
                                "field": ".spec.replicas"}]}}


def test_several_conflicts_are_listed_per_manager() -> None:
    """With more than one conflict the message lists each manager's paths on their own lines."""
    live = applied(None, CONFIG)
    live = record_updated(live, deployment(replicas=2, paused=True,
                                           template=CONFIG["spec"]["template"]), "carol")
    config = deployment(replicas=3, paused=False, template={"spec": {"containers": [
        {"name": "model", "image": "m:2"}]}})
    with pytest.raises(ApiError) as caught:
        applied(live, config, "bob")
    assert caught.value.message == (
        'Apply failed with 3 conflicts: conflicts with "alice":\n'
        "- .spec.replicas\n"
        '- .spec.template.spec.containers[name="model"].image\n'
        'conflicts with "carol" using apps/v1 at 2024-03-03T00:00:00Z:\n'
        "- .spec.paused")
    assert [cause.field for cause in caught.value.causes] == [
        ".spec.replicas", '.spec.template.spec.containers[name="model"].image', ".spec.paused"]


def test_force_takes_ownership_away_from_the_other_manager() -> None:
    """force=True applies the value; the other manager loses the field (and its empty entry)."""
    live = applied(None, deployment(replicas=2))
    result = applied(live, deployment(replicas=3), "bob", force=True)
    assert result["spec"]["replicas"] == 3
    assert set(entries(result)) == {("bob", "Apply")}
    assert applied(result, deployment(replicas=3), "bob") == result


def test_applying_an_equal_value_shares_the_field() -> None:
    """No conflict when the value is the same; the field stays while either still applies it."""
    live = applied(None, deployment(replicas=2, paused=False))
    shared = applied(live, deployment(replicas=2), "bob")
    assert entries(shared)[("bob", "Apply")]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    dropped = applied(shared, deployment(paused=False))
    assert dropped["spec"] == {"replicas": 2, "paused": False}


def test_fields_the_applier_stops_applying_are_removed() -> None:
    """A field only this manager owned disappears, and a map it leaves empty with it."""
    live = applied(None, {**deployment(replicas=2, paused=True),
                          "metadata": {"name": "d", "labels": {"team": "a"}}})
    result = applied(live, deployment(replicas=2))
    assert result["spec"] == {"replicas": 2}
    assert "labels" not in result["metadata"]


def test_an_unmanaged_object_belongs_to_before_first_apply() -> None:
    """Fields of an object without managedFields get an owner, so changing them conflicts."""
    live = copy.deepcopy(CONFIG)
    live["spec"]["minReadySeconds"] = 5
    with pytest.raises(ApiError) as caught:
        applied(live, deployment(replicas=4))
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1 at '
        "2024-01-01T00:00:00Z: .spec.replicas")
    result = applied(live, deployment(replicas=2))
    assert set(entries(result)) == {("alice", "Apply"), ("before-first-apply", "Update")}
    assert result["spec"]["minReadySeconds"] == 5
    assert result["spec"]["template"] == CONFIG["spec"]["template"]
    assert applied(result, deployment(replicas=2), time="later") == result


def test_fields_only_an_updater_owns_survive_an_apply_that_omits_them() -> None:
    """Giving up a field another manager also owns keeps its value."""
    live = record_updated(None, deployment(replicas=2, paused=True), "editor")
    first = applied(live, deployment(replicas=2, paused=True))
    result = applied(first, deployment(replicas=2))
    assert result["spec"] == {"replicas": 2, "paused": True}


def test_keyed_list_items_merge_and_leave_others_items_alone() -> None:
    """Containers merge by name: another manager's container stays, ours merge and append."""
    live = applied(None, CONFIG)
    sidecar = deployment(template={"spec": {"containers": [{"name": "sidecar", "image": "s"}]}})
    both = applied(live, sidecar, "bob")
    assert [c["name"] for c in both["spec"]["template"]["spec"]["containers"]] == [
        "model", "sidecar"]
    dropped = applied(both, deployment(replicas=2))
    assert dropped["spec"]["template"]["spec"]["containers"] == [{"name": "sidecar",
                                                                  "image": "s"}]


def test_an_item_stays_with_its_key_while_another_manager_owns_part_of_it() -> None:
    """Dropping our container keeps it when someone else owns a field in it, key included."""
    live = applied(None, CONFIG)
    env = deployment(template={"spec": {"containers": [
        {"name": "model", "env": [{"name": "A", "value": "1"}]}]}})
    shared = applied(live, env, "bob")
    result = applied(shared, deployment(replicas=2))
    assert result["spec"]["template"]["spec"]["containers"] == [
        {"name": "model", "env": [{"name": "A", "value": "1"}]}]


def test_atomic_lists_are_replaced_whole() -> None:
    """A list without merge key (args) is one field: replaced, and owned as a whole."""
    live = applied(None, CONFIG)
    config = copy.deepcopy(CONFIG)
    config["spec"]["template"]["spec"]["containers"][0]["args"] = ["--debug"]
    result = applied(live, config)
    assert result["spec"]["template"]["spec"]["containers"][0]["args"] == ["--debug"]


def test_finalizers_merge_as_a_set_owned_member_by_member() -> None:
    """Two managers' finalizers add up; each owns its members as ``v:`` elements."""
    def config(*finalizers: str) -> JsonObject:
        return {"apiVersion": APPS, "kind": "Deployment",
                "metadata": {"name": "d", "finalizers": list(finalizers)}}

    live = applied(None, config("a"))
    result = applied(live, config("b"), "bob")
    assert result["metadata"]["finalizers"] == ["a", "b"]
    assert entries(result)[("bob", "Apply")]["fieldsV1"] == {
        "f:metadata": {"f:finalizers": {'v:"b"': {}}}}
    released = applied(result, {"apiVersion": APPS, "kind": "Deployment",
                                "metadata": {"name": "d"}})
    assert released["metadata"]["finalizers"] == ["b"]


def test_custom_resources_merge_their_list_map_keys() -> None:
    """Lists named by the CRD's list-map keys merge and are owned item by item."""
    keys = {"spec.endpoint.clients": ("name",)}
    config: JsonObject = {"apiVersion": "primehub.io/v1alpha1", "kind": "PhDeployment",
                          "metadata": {"name": "x"},
                          "spec": {"endpoint": {"clients": [{"name": "a", "token": "t"}]}}}
    live = apply(None, config, manager="alice", force=False,
                 api_version="primehub.io/v1alpha1", list_map_keys=keys, time="t")
    other = copy.deepcopy(config)
    other["spec"] = {"endpoint": {"clients": [{"name": "b", "token": "u"}]}}
    result = apply(live, other, manager="bob", force=False, api_version="primehub.io/v1alpha1",
                   list_map_keys=keys, time="t")
    assert [c["name"] for c in result["spec"]["endpoint"]["clients"]] == ["a", "b"]
    assert 'k:{"name":"b"}' in entries(result)[("bob", "Apply")]["fieldsV1"]["f:spec"][
        "f:endpoint"]["f:clients"]


def test_null_in_the_configuration_removes_the_field() -> None:
    """``field: null`` deletes it (and conflicts like any change if someone else owns it)."""
    live = applied(None, deployment(replicas=2, paused=True))
    assert applied(live, deployment(replicas=2, paused=None))["spec"] == {"replicas": 2}
    with pytest.raises(ApiError):
        applied(live, deployment(paused=None), "bob")


def test_server_owned_metadata_is_never_owned() -> None:
    """name, namespace, uid, resourceVersion, apiVersion and kind stay out of FieldsV1."""
    config = {**deployment(replicas=1), "metadata": {"name": "d", "namespace": "n", "uid": "u",
                                                       "resourceVersion": "1"}}
    assert applied(None, config)["metadata"]["managedFields"][0]["fieldsV1"] == {
        "f:spec": {"f:replicas": {}}}


@pytest.mark.parametrize(("config", "message"), [
    ({**deployment(), "metadata": {"name": "d", "managedFields": [{"manager": "x"}]}},
     "metadata.managedFields must be nil"),
    (deployment(template={"spec": {"containers": [{"image": "x"}]}}),
     "failed to create typed patch object: .spec.template.spec.containers: element 0: "
     'associative list with keys has an element that omits key field "name"'),
    (deployment(template={"spec": {"containers": [{"name": "a"}, {"name": "a"}]}}),
     "failed to create typed patch object: .spec.template.spec.containers: duplicate entries "
     'for key [name="a"]'),
])
def test_invalid_configurations_are_400(config: JsonObject, message: str) -> None:
    """Managed fields in the configuration, or keyed lists that cannot be keyed, are refused."""
    with pytest.raises(ApiError) as caught:
        applied(None, config)
    assert (caught.value.code, caught.value.message) == (400, message)


@pytest.mark.parametrize(("config", "message"), [
    ({**deployment(), "apiVersion": "apps/v1beta1"},
     "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, "
     "expected: apps/v1"),
    ({"kind": "Deployment", "metadata": {"name": "d"}},
     "Incorrect version specified in apply patch. Specified patch version: , expected: apps/v1"),
    ({"apiVersion": APPS, "metadata": {"name": "d"}},
     "failed to create typed patch object: no corresponding type for apps/v1, Kind="),
])
def test_a_configuration_must_name_the_endpoints_version_and_a_kind(config: JsonObject,
                                                                    message: str) -> None:
    """kube refuses an apply whose apiVersion is not the endpoint's, or that has no kind."""
    with pytest.raises(ApiError) as caught:
        applied(applied(None, CONFIG), config)
    assert (caught.value.code, caught.value.message) == (400, message)


def test_null_on_a_live_map_or_keyed_list_is_no_opinion() -> None:
    """A null cannot wipe what others own there: kube keeps the content and owns nothing."""
    live = record_updated(None, deployment(replicas=2, selector={"matchLabels": {"a": "b"}},
                                           template=CONFIG["spec"]["template"]), "editor")
    config = deployment(selector=None, template={"spec": {"containers": [
        {"name": "model", "args": None, "env": None}]}})
    config["spec"]["template"]["spec"]["volumes"] = None
    result = applied(live, config, "bob", force=True)  # args: null is a change to an atomic list
    assert result["spec"]["selector"] == {"matchLabels": {"a": "b"}}
    assert result["spec"]["template"]["spec"]["containers"] == [{"name": "model",
                                                                  "image": "m:1"}]
    assert "volumes" not in result["spec"]["template"]["spec"]
    assert entries(result)[("bob", "Apply")]["fieldsV1"] == {"f:spec": {"f:template": {
        "f:spec": {"f:containers": {MODEL: {".": {}, "f:args": {}, "f:env": {}, "f:name": {}}},
                   "f:volumes": {}}}}}


def test_a_manager_that_owns_nothing_has_no_entry() -> None:
    """An apply whose configuration sets no field leaves no entry behind."""
    live = applied(None, CONFIG)
    result = applied(live, {"apiVersion": APPS, "kind": "Deployment", "metadata": {"name": "d"}},
                     "bob")
    assert set(entries(result)) == {("alice", "Apply")}


def test_owners_lose_the_fields_an_apply_removed() -> None:
    """Replacing a map by a value drops the fields below it from their owners' entries."""
    live = record_updated(None, deployment(strategy={"type": "Recreate"}), "editor")
    result = applied(live, deployment(strategy="none"), "bob")
    assert result["spec"]["strategy"] == "none"
    assert set(entries(result)) == {("bob", "Apply")}


def test_apply_neither_mutates_nor_shares_its_inputs() -> None:
    """The live object and the configuration stay as they were, whatever the result becomes."""
    live = applied(None, CONFIG)
    live_before, config = copy.deepcopy(live), copy.deepcopy(CONFIG)
    config["spec"]["template"]["spec"]["containers"].append({"name": "new", "args": ["a"]})
    config_before = copy.deepcopy(config)
    result = applied(live, config, time="later")
    result["spec"]["template"]["spec"]["containers"][1]["args"].append("b")
    result["spec"]["template"]["spec"]["containers"][0]["args"].append("c")
    result["metadata"]["managedFields"][0]["fieldsV1"].clear()
    assert (live, config) == (live_before, config_before)


names = st.sampled_from(["a", "b", "c"])
containers = st.lists(st.fixed_dictionaries({"name": names}, optional={
    "image": st.sampled_from(["x", "y"]), "args": st.lists(st.text(max_size=2), max_size=2),
    "env": st.lists(st.fixed_dictionaries({"name": names, "value": st.text(max_size=2)}),
                    max_size=2, unique_by=lambda e: e["name"]),
}), max_size=3, unique_by=lambda c: c["name"])
configs = st.builds(
    lambda labels, replicas, items: {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": labels},
        "spec": {"replicas": replicas, "containers": items}},
    st.dictionaries(names, st.text(max_size=2), max_size=2), st.integers(0, 3), containers)


@given(configs, configs)
def test_applying_any_configuration_twice_is_idempotent(first: JsonObject,
                                                        second: JsonObject) -> None:
    """Whatever was applied before, applying a configuration again changes nothing."""
    live = apply(apply(None, first, manager="m", force=False, api_version="v1", time="t1"),
                 second, manager="m", force=False, api_version="v1", time="t2")
    assert apply(live, second, manager="m", force=False, api_version="v1", time="t3") == live


# -- ordinary writes -----------------------------------------------------------------------

def record_updated(old: dict[str, Any] | None, new: dict[str, Any], manager: str,
                   time: str = "2024-03-03T00:00:00Z") -> dict[str, Any]:
    written = copy.deepcopy(new)
    if old is not None and "managedFields" in old["metadata"]:
        written["metadata"]["managedFields"] = copy.deepcopy(old["metadata"]["managedFields"])
    record_update(old, written, manager=manager, api_version=APPS, time=time)
    return written


def test_a_create_records_every_field_for_the_manager() -> None:
    """Creating with a fieldManager makes it the Update owner of everything it sent."""
    created = record_updated(None, CONFIG, "kubectl-create")
    assert created["metadata"]["managedFields"] == [{
        "manager": "kubectl-create", "operation": "Update", "apiVersion": APPS,
        "time": "2024-03-03T00:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
            MODEL: {".": {}, "f:args": {}, "f:image": {}, "f:name": {}}}}}}}}]


def test_an_update_takes_changed_fields_from_their_owner_without_conflict() -> None:
    """An updater never conflicts; it becomes the owner, so a later apply conflicts with it."""
    live = applied(None, CONFIG)
    scaled = record_updated(live, deployment(replicas=9, template=CONFIG["spec"]["template"]),
                            "hpa")
    owners = entries(scaled)
    assert owners[("hpa", "Update")]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in owners[("alice", "Apply")]["fieldsV1"]["f:spec"]
    with pytest.raises(ApiError) as caught:
        applied(scaled, CONFIG)
    assert caught.value.message == ('Apply failed with 1 conflict: conflict with "hpa" using '
                                    "apps/v1 at 2024-03-03T00:00:00Z: .spec.replicas")


def test_removed_fields_are_dropped_from_every_owner() -> None:
    """A field an update deletes is owned by nobody afterwards; empty entries disappear."""
    live = applied(None, deployment(replicas=2))
    emptied = record_updated(live, {"apiVersion": APPS, "kind": "Deployment",
                                    "metadata": {"name": "d"}}, "editor")
    assert "managedFields" not in emptied["metadata"]


def test_a_write_that_changes_nothing_keeps_managed_fields_as_they_were() -> None:
    """No new entry and no new time; a body without managedFields gets the stored ones."""
    live = applied(None, CONFIG)
    same = copy.deepcopy(CONFIG)
    record_update(live, same, manager="noop", api_version=APPS, time="later")
    assert same == live
    bare = copy.deepcopy(CONFIG)
    record_update(copy.deepcopy(CONFIG), bare, manager="noop", api_version=APPS)
    assert bare == CONFIG


def test_managed_fields_sent_by_the_writer_win() -> None:
    """A client can rewrite managedFields; ``[{}]`` resets them to just this write's owner."""
    live = applied(None, CONFIG)
    reset = copy.deepcopy(live)
    reset["metadata"]["managedFields"] = [{}]
    reset["spec"]["replicas"] = 3
    record_update(live, reset, manager="editor", api_version=APPS, time="t")
    assert set(entries(reset)) == {("editor", "Update")}
    unchanged = copy.deepcopy(live)
    unchanged["metadata"]["managedFields"] = [{}]
    record_update(live, unchanged, manager="editor", api_version=APPS, time="t")
    assert "managedFields" not in unchanged["metadata"]


# -- the request body ----------------------------------------------------------------------

def test_yaml_and_json_bodies_decode_to_the_same_configuration() -> None:
    """YAML and JSON give the same object; timestamps stay strings."""
    yaml_body = b"apiVersion: v1\nkind: ConfigMap\ndata:\n  when: 2024-01-01T00:00:00Z\n"
    json_body = b'{"apiVersion": "v1", "kind": "ConfigMap", "data": {"when": ' \
                b'"2024-01-01T00:00:00Z"}}'
    assert decode_apply_body(yaml_body) == decode_apply_body(json_body) == {
        "apiVersion": "v1", "kind": "ConfigMap", "data": {"when": "2024-01-01T00:00:00Z"}}


@pytest.mark.parametrize("body", [b"a: [", b"- a\n- b\n", b"", b"1: x\n", b"a: !!binary aGk=\n",
                                  b"a: 1\n---\nb: 2\n"])
def test_bodies_that_are_not_a_json_object_are_400(body: bytes) -> None:
    """Broken YAML, non-objects, non-string keys, binary or several documents are refused."""
    with pytest.raises(ApiError) as caught:
        decode_apply_body(body)
    assert caught.value.code == 400
    assert caught.value.message.startswith("error decoding YAML: ")
