"""Strategic merge patch: merge keys per kind, directives, and kube-apiserver's error codes."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.localcluster.errors import ApiError
from gateway.localcluster.jsonvalues import Json, JsonObject, json_equal
from gateway.localcluster.patching import merge_patch, strategic_merge_patch, supports_strategic

POD: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "finalizers": ["a", "b"],
                 "ownerReferences": [{"uid": "u1", "name": "one"}, {"uid": "u2", "name": "two"}]},
    "spec": {
        "containers": [
            {"name": "model", "image": "m:1",
             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
             "ports": [{"containerPort": 8080, "name": "http"}],
             "volumeMounts": [{"mountPath": "/data", "name": "data"}]},
            {"name": "sidecar", "image": "s:1"},
        ],
        "initContainers": [{"name": "init", "image": "i:1", "env": [{"name": "X", "value": "x"}]}],
        "volumes": [{"name": "data", "emptyDir": {}}],
        "imagePullSecrets": [{"name": "reg"}],
        "tolerations": [{"key": "gpu", "operator": "Exists"}],
    },
    "status": {"phase": "Running",
               "conditions": [{"type": "Ready", "status": "False"},
                              {"type": "Initialized", "status": "True"}],
               "containerStatuses": [{"name": "model", "ready": False}]},
}


def _patch(patch: Json, obj: JsonObject = POD, kind: str = "Pod") -> dict[str, Any]:
    result = strategic_merge_patch(obj, patch, kind)
    assert isinstance(result, dict)
    return result


def _container(obj: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in obj["spec"]["containers"] if c["name"] == name)
    return found


def test_containers_merge_by_name_and_new_ones_are_appended() -> None:
    """A container in the patch merges into the one with its name; unknown names append."""
    result = _patch({"spec": {"containers": [{"name": "new", "image": "n:1"},
                                             {"name": "model", "image": "m:2"}]}})
    assert [c["name"] for c in result["spec"]["containers"]] == ["model", "sidecar", "new"]
    model = _container(result, "model")
    assert model["image"] == "m:2"
    assert model["env"] == POD["spec"]["containers"][0]["env"]


def test_nested_container_lists_merge_by_their_keys() -> None:
    """env by name, ports by containerPort, volumeMounts by mountPath, in init containers too."""
    result = _patch({"spec": {
        "containers": [{"name": "model",
                        "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
                        "ports": [{"containerPort": 8080, "protocol": "TCP"},
                                  {"containerPort": 9090}],
                        "volumeMounts": [{"mountPath": "/data", "readOnly": True}]}],
        "initContainers": [{"name": "init", "env": [{"name": "Y", "value": "y"}]}],
    }})
    model = _container(result, "model")
    assert model["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "two"},
                            {"name": "C", "value": "3"}]
    assert model["ports"] == [{"containerPort": 8080, "name": "http", "protocol": "TCP"},
                              {"containerPort": 9090}]
    assert model["volumeMounts"] == [{"mountPath": "/data", "name": "data", "readOnly": True}]
    assert result["spec"]["initContainers"][0]["env"] == [{"name": "X", "value": "x"},
                                                          {"name": "Y", "value": "y"}]


def test_pod_lists_keyed_by_name_and_atomic_tolerations() -> None:
    """volumes and imagePullSecrets merge by name; tolerations are replaced whole."""
    result = _patch({"spec": {"volumes": [{"name": "cache", "emptyDir": {}}],
                              "imagePullSecrets": [{"name": "other"}],
                              "tolerations": [{"key": "spot", "operator": "Exists"}]}})
    assert [v["name"] for v in result["spec"]["volumes"]] == ["data", "cache"]
    assert result["spec"]["imagePullSecrets"] == [{"name": "reg"}, {"name": "other"}]
    assert result["spec"]["tolerations"] == [{"key": "spot", "operator": "Exists"}]


def test_status_lists_merge_by_type_and_name() -> None:
    """status.conditions merge by type, containerStatuses by name."""
    result = _patch({"status": {"conditions": [{"type": "Ready", "status": "True"}],
                                "containerStatuses": [{"name": "model", "ready": True}]}})
    assert result["status"]["conditions"] == [{"type": "Ready", "status": "True"},
                                              {"type": "Initialized", "status": "True"}]
    assert result["status"]["containerStatuses"] == [{"name": "model", "ready": True}]


def test_owner_references_merge_by_uid_and_finalizers_as_a_set() -> None:
    """metadata.ownerReferences by uid; finalizers gain only members they lack."""
    result = _patch({"metadata": {"ownerReferences": [{"uid": "u2", "name": "TWO"},
                                                      {"uid": "u3", "name": "three"}],
                                  "finalizers": ["b", "c", "c"]}})
    assert result["metadata"]["ownerReferences"] == [
        {"uid": "u1", "name": "one"}, {"uid": "u2", "name": "TWO"}, {"uid": "u3",
                                                                     "name": "three"}]
    assert result["metadata"]["finalizers"] == ["a", "b", "c"]


DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
    "spec": {"replicas": 1, "template": {"spec": {
        "containers": [{"name": "model", "image": "m:1", "env": [{"name": "A", "value": "1"}]}],
        "tolerations": [{"key": "gpu"}]}}},
    "status": {"conditions": [{"type": "Available", "status": "False"},
                              {"type": "Progressing", "status": "True"}]},
}


def test_a_deployment_template_follows_the_pod_spec_rules() -> None:
    """spec.template.spec merges containers and env by name; status.conditions by type."""
    result = _patch({"spec": {"replicas": 2, "template": {"spec": {
        "containers": [{"name": "model", "env": [{"name": "B", "value": "2"}]}],
        "tolerations": []}}},
        "status": {"conditions": [{"type": "Available", "status": "True"}]}},
        DEPLOYMENT, "Deployment")
    spec = result["spec"]["template"]["spec"]
    assert result["spec"]["replicas"] == 2
    assert spec["containers"] == [{"name": "model", "image": "m:1",
                                   "env": [{"name": "A", "value": "1"}, {"name": "B",
                                                                         "value": "2"}]}]
    assert spec["tolerations"] == []
    assert result["status"]["conditions"][0] == {"type": "Available", "status": "True"}


def test_service_ports_merge_by_port() -> None:
    """spec.ports of a Service merge by port number."""
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
               "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    result = _patch({"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 9000}]}},
                    service, "Service")
    assert result["spec"]["ports"] == [{"port": 80, "targetPort": 8080, "name": "http"},
                                       {"port": 443}, {"port": 9000}]


def test_null_deletes_a_key_at_any_depth() -> None:
    """A null value removes the key, also inside a merged list item."""
    result = _patch({"metadata": {"finalizers": None},
                     "spec": {"containers": [{"name": "model", "env": None}]}})
    assert "finalizers" not in result["metadata"]
    assert "env" not in _container(result, "model")


def test_patch_replace_in_a_map_replaces_the_map() -> None:
    """``$patch: replace`` makes the map exactly the patch (directives stripped)."""
    result = _patch({"status": {"$patch": "replace", "phase": "Failed", "gone": None}})
    assert result["status"] == {"phase": "Failed"}


def test_patch_replace_in_a_keyed_list_replaces_the_list() -> None:
    """A ``{"$patch": "replace"}`` item makes the list exactly the patch's other items."""
    result = _patch({"spec": {"containers": [{"name": "only", "image": "o:1"},
                                             {"$patch": "replace"}]}})
    assert result["spec"]["containers"] == [{"name": "only", "image": "o:1"}]


def test_patch_delete_removes_a_map_or_a_keyed_item() -> None:
    """``$patch: delete`` on a map deletes it; on a list item deletes the item with its key."""
    result = _patch({"status": {"$patch": "delete"},
                     "spec": {"containers": [{"name": "sidecar", "$patch": "delete"},
                                             {"name": "absent", "$patch": "delete"}],
                              "volumes": [{"name": "data", "$patch": "merge", "x": 1}]}})
    assert "status" not in result
    assert [c["name"] for c in result["spec"]["containers"]] == ["model"]
    assert result["spec"]["volumes"] == [{"name": "data", "emptyDir": {}, "x": 1}]


def test_delete_from_primitive_list_runs_before_additions() -> None:
    """``$deleteFromPrimitiveList/finalizers`` removes members; the patch's own ones add."""
    result = _patch({"metadata": {"finalizers": ["a", "z"],
                                  "$deleteFromPrimitiveList/finalizers": ["a", "b"]}})
    assert result["metadata"]["finalizers"] == ["a", "z"]
    result = _patch({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"],
                                  "$deleteFromPrimitiveList/absent": ["x"]}})
    assert result["metadata"]["finalizers"] == ["a"]
    assert "absent" not in result["metadata"]


def test_set_element_order_is_dropped() -> None:
    """``$setElementOrder/<list>`` is accepted and never reaches the object."""
    result = _patch({"spec": {"$setElementOrder/containers": [{"name": "sidecar"},
                                                              {"name": "model"}],
                              "containers": [{"name": "sidecar", "image": "s:2"}]}})
    assert [c["name"] for c in result["spec"]["containers"]] == ["model", "sidecar"]
    assert not any(key.startswith("$") for key in result["spec"])


def test_retain_keys_drops_unlisted_keys_of_the_merged_map() -> None:
    """``$retainKeys`` keeps only the listed keys of the result (the deployment strategy way)."""
    deployment = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "strategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    result = _patch({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate",
                                           "rollingUpdate": None}}}, deployment, "Deployment")
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_setting_a_key_outside_retain_keys_is_the_generic_422() -> None:
    """A patch whose content does not match its retainKeys list is refused like kube does."""
    with pytest.raises(ApiError) as caught:
        _patch({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}},
               DEPLOYMENT, "Deployment")
    assert (caught.value.code, caught.value.reason) == (422, "Invalid")
    assert str(caught.value.__cause__) == "patch content doesn't match retainKeys list"


@pytest.mark.parametrize(("patch", "message"), [
    ([{"a": 1}], "json: cannot unmarshal the patch into Go value of type map[string]"
                 "interface {}"),
    ({"status": {"$patch": "explode"}}, "unknown patch type: explode in map: "),
    ({"spec": {"containers": [{"name": "model", "$patch": "explode"}]}},
     "unknown patch type: explode in map: "),
    ({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}},
     "invalid patch format of primitive list"),
    ({"spec": {"$setElementOrder/containers": "model"}},
     "invalid patch format of setElementOrder list"),
    ({"spec": {"$retainKeys": "containers"}}, "invalid patch format of retainKeys"),
    ({"spec": {"containers": [{"image": "x"}]}},
     "map: {'image': 'x'} does not contain declared merge key: name"),
    ({"spec": {"containers": [{"$patch": "delete"}]}},
     "map: {'$patch': 'delete'} does not contain declared merge key: name"),
    ({"spec": {"containers": ["model"]}}, "expected a map in the list merged by name"),
    ({"$patch": "delete"}, "a strategic merge patch cannot delete the whole object"),
])
def test_malformed_patches_are_400(patch: Json, message: str) -> None:
    """Bad directives, missing merge keys and non-object patches are BadRequests."""
    with pytest.raises(ApiError) as caught:
        _patch(patch)
    assert caught.value.code == 400
    assert caught.value.message.startswith(message)


def test_kinds_outside_the_table_are_415() -> None:
    """Custom resources have no strategy table: kube answers 415 and so do we."""
    assert supports_strategic("Pod")
    assert supports_strategic("Secret")
    assert not supports_strategic("PhDeployment")
    with pytest.raises(ApiError) as caught:
        strategic_merge_patch({}, {}, "PhDeployment")
    assert caught.value.code == 415


def test_inputs_are_neither_mutated_nor_shared() -> None:
    """The result is a fresh object; the stored object and the patch stay as they were."""
    obj, patch = copy.deepcopy(POD), {"spec": {"containers": [{"name": "x", "env": [
        {"name": "E", "value": "e"}]}]}}
    before_patch = copy.deepcopy(patch)
    result = _patch(patch, obj)
    _container(result, "x")["env"].append({"name": "F"})
    _container(result, "model")["image"] = "changed"
    result["metadata"]["finalizers"].append("zz")
    assert obj == POD
    assert patch == before_patch


plain_values = st.recursive(
    st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: st.dictionaries(st.text(alphabet="abcxyz", max_size=3), inner, max_size=3),
    max_leaves=8)
plain_patches = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: st.dictionaries(st.text(alphabet="abcxyz", max_size=3), inner, max_size=3),
    max_leaves=8)


@given(st.dictionaries(st.text(alphabet="abcxyz", max_size=3), plain_values, max_size=4),
       st.dictionaries(st.text(alphabet="abcxyz", max_size=3), plain_patches, max_size=4))
def test_without_lists_or_directives_it_is_a_merge_patch(data: JsonObject,
                                                         patch: JsonObject) -> None:
    """On maps and scalars alone, strategic merge and JSON merge patch agree."""
    obj: JsonObject = {"apiVersion": "v1", "kind": "ConfigMap", "data": data}
    wrapped: JsonObject = {"data": patch}
    assert json_equal(strategic_merge_patch(obj, wrapped, "ConfigMap"),
                      merge_patch(obj, wrapped))
