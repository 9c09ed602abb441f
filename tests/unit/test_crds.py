"""The product's CRDs in helm/model-gateway/crds: valid, and strict where the product needs it.

Each file is the single source of its CRD (the chart installs it, the local cluster serves it),
so these tests load the files themselves and run objects through the local cluster's schema
engine, exactly as a write to the API server would: prune, default, validate.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.localcluster.crdvalidating import validate_crd
from gateway.localcluster.structural import StructuralSchema, compile_schema

CRDS = Path(__file__).resolve().parents[2] / "helm" / "model-gateway" / "crds"
FILES = sorted(CRDS.glob("*.yaml"))


def _load(name: str) -> dict[str, Any]:
    crd: dict[str, Any] = yaml.safe_load((CRDS / f"{name}.yaml").read_text())
    return crd


def _schema(name: str) -> StructuralSchema:
    (version,) = _load(name)["spec"]["versions"]
    return compile_schema(version["schema"]["openAPIV3Schema"])


def _admit(name: str, obj: dict[str, Any]) -> tuple[list[str], list[str]]:
    """What a create does to ``obj``: pruned paths, then ``field: message`` causes."""
    schema = _schema(name)
    pruned = schema.prune(obj)
    schema.default(obj)
    return pruned, [f"{c.field}: {c.message}" for c in schema.validate(obj)]


def _deployment_spec() -> dict[str, Any]:
    return {
        "displayName": "Iris classifier",
        "userId": "8f0d6f2a-2b1c-4d7e-9a35-5f1b2c3d4e5f",
        "userName": "alice",
        "groupId": "b1c2d3e4-0000-4000-8000-000000000001",
        "groupName": "phusers",
        "stop": False,
        "description": "sklearn iris",
        "updateMessage": "first version",
        "updateTime": "2024-05-01T10:20:30Z",
        "env": [{"name": "MODEL_NAME", "value": "iris"}, {"name": "log.level", "value": "debug"}],
        "predictors": [{
            "name": "predictor1", "replicas": 2,
            "modelImage": "infuseai/sklearn-prepackaged:v0.1.0",
            "instanceType": "cpu-1", "modelURI": "gs://models/iris",
            "imagePullSecret": "", "metadata": {"team": "ml"}}],
        "endpoint": {"accessType": "private", "clients": [{"name": "app_1"}, {"name": "batch"}]},
    }


def _deployment() -> dict[str, Any]:
    spec = _deployment_spec()
    return {
        "apiVersion": "primehub.io/v1alpha1", "kind": "PhDeployment",
        "metadata": {"name": "iris-classifier-x7k2p", "namespace": "hub"},
        "spec": spec,
        "status": {
            "phase": "Deployed", "message": "Deployment is deployed and available now",
            "replicas": 2, "availableReplicas": 2,
            "endpoint": "https://hub.example.com/deployment/iris-classifier-x7k2p/api/v1.0/"
                        "predictions",
            "observedGeneration": 3,
            "conditions": [{"type": "Available", "status": "True", "observedGeneration": 3,
                            "lastTransitionTime": "2024-05-01T10:21:00Z",
                            "reason": "MinimumReplicasAvailable",
                            "message": "2 of 2 replicas are available"}],
            "history": [{"time": "2024-05-01T10:20:30Z", "spec": copy.deepcopy(spec)}],
        },
    }


def _instance_type() -> dict[str, Any]:
    return {
        "apiVersion": "primehub.io/v1alpha1", "kind": "InstanceType",
        "metadata": {"name": "gpu-1"},
        "spec": {
            "displayName": "1 GPU", "description": "one T4",
            "limits.cpu": 0.5, "limits.memory": "1.5G", "limits.nvidia.com/gpu": 1,
            "requests.cpu": 0.25, "requests.memory": 536870912,
            "nodeSelector": {"gpu": "t4"},
            "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                             "effect": "NoSchedule"},
                            {"key": "pool", "operator": "Equal", "value": "ml", "effect": "",
                             "tolerationSeconds": 30}],
        },
    }


def _group() -> dict[str, Any]:
    return {
        "apiVersion": "modelgateway.io/v1alpha1", "kind": "Group",
        "metadata": {"name": "b1c2d3e4-0000-4000-8000-000000000001"},
        "spec": {
            "displayName": "PrimeHub users", "members": ["alice", "bob"],
            "enabledDeployment": True, "maxDeploy": 5,
            "quota": {"cpu": 8, "memory": "64Gi", "gpu": None},
            "instanceTypes": ["cpu-1", "gpu-1"],
        },
    }


def test_there_is_one_file_per_crd_named_after_it() -> None:
    """Each file holds one CRD, named ``<plural>.<group>.yaml``, for the three kinds."""
    names = []
    for path in FILES:
        documents = list(yaml.safe_load_all(path.read_text()))
        assert len(documents) == 1
        crd = documents[0]
        assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
        assert crd["kind"] == "CustomResourceDefinition"
        assert path.name == f"{crd['metadata']['name']}.yaml"
        names.append(crd["metadata"]["name"])
    assert names == ["groups.modelgateway.io", "instancetypes.primehub.io",
                     "phdeployments.primehub.io"]


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_every_crd_passes_the_api_servers_checks(path: Path) -> None:
    """Every CRD is one kube-apiserver (and so the local cluster) accepts."""
    assert validate_crd(yaml.safe_load(path.read_text())) == []


@pytest.mark.parametrize(("name", "make"), [
    ("phdeployments.primehub.io", _deployment),
    ("instancetypes.primehub.io", _instance_type),
    ("groups.modelgateway.io", _group),
], ids=["phdeployment", "instancetype", "group"])
def test_a_realistic_object_is_admitted_whole(name: str, make: Any) -> None:
    """A complete object loses nothing to pruning and has no validation errors."""
    obj = make()
    before = copy.deepcopy(obj)
    assert _admit(name, obj) == ([], [])
    assert obj == before


def test_phdeployment_names_and_kinds_match_primehub() -> None:
    """Group, version, kind, plural, scope and status subresource are PrimeHub's."""
    crd = _load("phdeployments.primehub.io")
    (version,) = crd["spec"]["versions"]
    assert (crd["spec"]["group"], version["name"], crd["spec"]["names"]["kind"],
            crd["spec"]["names"]["plural"], crd["spec"]["scope"]) == (
        "primehub.io", "v1alpha1", "PhDeployment", "phdeployments", "Namespaced")
    assert version["subresources"] == {"status": {}}
    assert [c["jsonPath"] for c in version["additionalPrinterColumns"]] == [
        ".status.phase", ".status.replicas", ".status.availableReplicas",
        ".spec.endpoint.accessType", ".metadata.creationTimestamp"]


def test_phdeployment_history_entries_use_the_spec_schema() -> None:
    """A history entry's spec is checked exactly like the spec itself."""
    properties = _load("phdeployments.primehub.io")["spec"]["versions"][0]["schema"][
        "openAPIV3Schema"]["properties"]
    history_spec = properties["status"]["properties"]["history"]["items"]["properties"]["spec"]
    assert history_spec == properties["spec"]


@pytest.mark.parametrize(("change", "expected"), [
    (lambda o: o["metadata"].update(name="Iris_Classifier"),
     "metadata.name: Invalid value: \"Iris_Classifier\": metadata.name in body should match "
     "'^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'"),
    (lambda o: o["metadata"].update(name="ab"),
     "metadata.name: Invalid value: \"ab\": metadata.name in body should match "
     "'^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'"),
    (lambda o: o["spec"]["env"].append({"name": "1st", "value": "x"}),
     "spec.env[2].name: Invalid value: \"1st\": spec.env[2].name in body should match "
     "'^[-._a-zA-Z][-._a-zA-Z0-9]*$'"),
    (lambda o: o["spec"]["env"].append({"name": "MODEL_NAME", "value": "again"}),
     'spec.env[2]: Duplicate value: {"name":"MODEL_NAME"}'),
    (lambda o: o["spec"]["endpoint"]["clients"].append({"name": "App"}),
     "spec.endpoint.clients[2].name: Invalid value: \"App\": spec.endpoint.clients[2].name in "
     "body should match '^[a-z_][a-z0-9_-]*$'"),
    (lambda o: o["spec"]["endpoint"]["clients"].append({"name": "batch"}),
     'spec.endpoint.clients[2]: Duplicate value: {"name":"batch"}'),
    (lambda o: o["spec"]["endpoint"].update(accessType="internal"),
     'spec.endpoint.accessType: Unsupported value: "internal": supported values: "public", '
     '"private"'),
    (lambda o: o["spec"]["predictors"][0].update(replicas=-1),
     "spec.predictors[0].replicas: Invalid value: -1: spec.predictors[0].replicas in body "
     "should be greater than or equal to 0"),
    (lambda o: o["spec"]["predictors"][0].update(replicas="2"),
     'spec.predictors[0].replicas: Invalid value: "string": spec.predictors[0].replicas in '
     'body must be of type integer: "string"'),
    (lambda o: o["spec"]["predictors"][0].pop("modelImage"),
     "spec.predictors[0].modelImage: Required value"),
    (lambda o: o["spec"].update(predictors=[]),
     "spec.predictors: Invalid value: 0: spec.predictors in body should have at least 1 items"),
    (lambda o: o["spec"]["predictors"].append({**o["spec"]["predictors"][0]}),
     'spec.predictors[1]: Duplicate value: {"name":"predictor1"}'),
    (lambda o: o["spec"]["predictors"][0].update(trafficPercent=101),
     "spec.predictors[0].trafficPercent: Invalid value: 101: spec.predictors[0].trafficPercent "
     "in body should be less than or equal to 100"),
    (lambda o: o["spec"]["predictors"][0].update(name="a-much-too-long-name"),
     'spec.predictors[0].name: Too long: may not be longer than 16'),
    (lambda o: o["spec"].update(predictors=[
        {**o["spec"]["predictors"][0], "name": f"v{index}"} for index in range(9)]),
     "spec.predictors: Too many: 9: must have at most 8 items"),
    (lambda o: o["spec"].pop("groupId"), "spec.groupId: Required value"),
    (lambda o: o["spec"].update(updateTime="last tuesday"),
     'spec.updateTime: Invalid value: "last tuesday": spec.updateTime in body must be of type '
     'date-time: "last tuesday"'),
    (lambda o: o["status"].update(phase="Running"),
     'status.phase: Unsupported value: "Running": supported values: "Deploying", "Deployed", '
     '"Stopping", "Stopped", "Failed"'),
    (lambda o: o["status"].update(history=o["status"]["history"] * 33),
     "status.history: Too many: 33: must have at most 32 items"),
    (lambda o: o["status"]["history"][0]["spec"]["predictors"][0].update(replicas=-2),
     "status.history[0].spec.predictors[0].replicas: Invalid value: -2: "
     "status.history[0].spec.predictors[0].replicas in body should be greater than or equal "
     "to 0"),
    (lambda o: o["status"]["conditions"][0].update(status="Yes"),
     'status.conditions[0].status: Unsupported value: "Yes": supported values: "True", '
     '"False", "Unknown"'),
], ids=["id-case", "id-short", "env-name", "env-duplicate", "client-name", "client-duplicate",
        "access-type", "negative-replicas", "string-replicas", "no-image", "no-predictor",
        "predictor-duplicate", "traffic-over-100", "predictor-name-long", "too-many-predictors",
        "no-group", "update-time", "phase", "history-too-long", "history-spec",
        "condition-status"])
def test_bad_phdeployments_are_refused_at_the_right_field(change: Any, expected: str) -> None:
    """Each broken field of a PhDeployment yields exactly its own cause."""
    obj = _deployment()
    change(obj)
    assert _admit("phdeployments.primehub.io", obj)[1] == [expected]


def test_phdeployment_defaults_and_prunes_like_the_api_server() -> None:
    """An endpoint without accessType is public; fields PrimeHub never had are dropped, and
    PrimeHub's client token hashes survive (until the migration moves them)."""
    obj = _deployment()
    del obj["spec"]["endpoint"]["accessType"]
    obj["spec"]["endpoint"]["clients"][0]["token"] = "$apr1$kept-until-migrated"
    obj["spec"]["endpoint"]["clients"][0]["secret"] = "never-part-of-the-shape"
    obj["spec"]["predictors"][0]["metadata"] = None
    pruned, causes = _admit("phdeployments.primehub.io", obj)
    assert (pruned, causes) == (["spec.endpoint.clients[0].secret"], [])
    assert obj["spec"]["endpoint"]["clients"][0]["token"] == "$apr1$kept-until-migrated"
    assert obj["spec"]["endpoint"]["accessType"] == "public"
    assert "metadata" not in obj["spec"]["predictors"][0]


def test_phdeployment_lists_merge_by_name() -> None:
    """Server-side apply merges predictors (and their env), env, clients, conditions and
    predictor statuses by their keys."""
    keys = _schema("phdeployments.primehub.io").list_map_keys()
    assert {path: key for path, key in keys.items()
            if path.startswith(("spec", "status.c", "status.p"))} == {
        "spec.env": ("name",), "spec.predictors": ("name",), "spec.predictors.env": ("name",),
        "spec.endpoint.clients": ("name",), "status.conditions": ("type",),
        "status.predictors": ("name",), "status.predictors.conditions": ("type",)}


@pytest.mark.parametrize(("change", "expected"), [
    (lambda s: s.pop("limits.memory"), "spec.limits.memory: Required value"),
    (lambda s: s.update({"limits.cpu": "2"}),
     'spec.limits.cpu: Invalid value: "string": spec.limits.cpu in body must be of type '
     'number: "string"'),
    (lambda s: s.update({"limits.cpu": -1}),
     "spec.limits.cpu: Invalid value: -1: spec.limits.cpu in body should be greater than or "
     "equal to 0"),
    (lambda s: s.update({"limits.memory": "lots"}),
     "spec.limits.memory: Invalid value: \"lots\": spec.limits.memory in body should match "
     "'^(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+"
     "(\\.[0-9]*)?)|(\\.[0-9]+))))?$'"),
    (lambda s: s.update({"limits.nvidia.com/gpu": 0.5}),
     'spec.limits.nvidia.com/gpu: Invalid value: "number": spec.limits.nvidia.com/gpu in body '
     'must be of type integer: "number"'),
    (lambda s: s["tolerations"][0].update(effect="Never"),
     'spec.tolerations[0].effect: Unsupported value: "Never": supported values: "", '
     '"NoSchedule", "PreferNoSchedule", "NoExecute"'),
    (lambda s: s["nodeSelector"].update(zone=1),
     'spec.nodeSelector.zone: Invalid value: "integer": spec.nodeSelector.zone in body must be '
     'of type string: "integer"'),
], ids=["no-memory", "cpu-string", "cpu-negative", "memory-word", "gpu-fraction",
        "toleration-effect", "node-selector"])
def test_bad_instance_types_are_refused_at_the_right_field(change: Any, expected: str) -> None:
    """InstanceType keeps PrimeHub's flat keys; each broken one names its own field."""
    obj = _instance_type()
    change(obj["spec"])
    assert _admit("instancetypes.primehub.io", obj)[1] == [expected]


@pytest.mark.parametrize("memory", ["1G", "512Mi", "1.5Gi", "100", 1073741824])
def test_instance_type_memory_is_a_quantity(memory: str | int) -> None:
    """Memory takes PrimeHub's "1G" strings, Kubernetes quantities and plain byte counts."""
    obj = _instance_type()
    obj["spec"]["limits.memory"] = memory
    assert _admit("instancetypes.primehub.io", obj) == ([], [])


def test_group_defaults_deployment_to_disabled_and_allows_unlimited() -> None:
    """A new group cannot deploy until enabled; null limits mean unlimited and are kept."""
    obj = _group()
    obj["spec"] = {"displayName": "new", "maxDeploy": None,
                   "quota": {"cpu": None, "memory": None, "gpu": None}}
    assert _admit("groups.modelgateway.io", obj) == ([], [])
    assert obj["spec"]["enabledDeployment"] is False
    assert obj["spec"]["maxDeploy"] is None


@pytest.mark.parametrize(("change", "expected"), [
    (lambda s: s.update(maxDeploy=-1),
     "spec.maxDeploy: Invalid value: -1: spec.maxDeploy in body should be greater than or "
     "equal to 0"),
    (lambda s: s["members"].append("alice"), 'spec.members[2]: Duplicate value: "alice"'),
    (lambda s: s["instanceTypes"].append(""),
     'spec.instanceTypes[2]: Invalid value: "": spec.instanceTypes[2] in body should be at '
     "least 1 chars long"),
    (lambda s: s["quota"].update(gpu=-1),
     "spec.quota.gpu: Invalid value: -1: spec.quota.gpu in body should be greater than or "
     "equal to 0"),
    (lambda s: s.update(enabledDeployment="yes"),
     'spec.enabledDeployment: Invalid value: "string": spec.enabledDeployment in body must be '
     'of type boolean: "string"'),
], ids=["max-deploy", "member-duplicate", "empty-instance-type", "gpu-quota", "enabled"])
def test_bad_groups_are_refused_at_the_right_field(change: Any, expected: str) -> None:
    """Each broken field of a Group yields exactly its own cause."""
    obj = _group()
    change(obj["spec"])
    assert _admit("groups.modelgateway.io", obj)[1] == [expected]


def test_a_deployment_with_versions_is_kept_whole() -> None:
    """Several predictors with traffic shares and their own env, sticky routing and the
    per-predictor status are admitted as written: nothing pruned, nothing refused."""
    obj = _deployment()
    first = obj["spec"]["predictors"][0]
    obj["spec"]["sticky"] = True
    obj["spec"]["predictors"] = [
        {**first, "trafficPercent": 90},
        {**first, "name": "canary", "trafficPercent": 10, "replicas": 1,
         "env": [{"name": "MODEL_VERSION", "value": "2"}]}]
    obj["status"]["predictors"] = [
        {"name": "predictor1", "replicas": 2, "availableReplicas": 2, "phase": "Deployed"},
        {"name": "canary", "replicas": 1, "availableReplicas": 0, "phase": "Failed",
         "message": "ErrImagePull"}]
    written = copy.deepcopy(obj)
    assert _admit("phdeployments.primehub.io", obj) == ([], [])
    assert obj == written
