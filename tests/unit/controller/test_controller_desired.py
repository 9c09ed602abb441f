"""The desired children of a PhDeployment: a pure function of spec, group, instance type."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from gateway.controller.desired import (
    HASH_ANNOTATION,
    Children,
    Unbuildable,
    children,
    content_hash,
)
from gateway.controller.rollouts import Rollout
from gateway.controller.settings import ControllerSettings
from gateway.kube import groups, instancetypes, phdeployments
from gateway.kube.references import Protected
from gateway.sources import Sources

SETTINGS = ControllerSettings(identity="test")
ROLLOUT = Rollout(max_surge=1, max_unavailable=0)


def deployment(**predictor: Any) -> phdeployments.PhDeployment:
    spec: dict[str, Any] = {
        "displayName": "Iris", "userId": "u1", "userName": "alice", "groupId": "data-team",
        "groupName": "Data Team", "stop": False,
        "env": [{"name": "ZETA", "value": "z"}, {"name": "ALPHA", "value": "a"}],
        "predictors": [{"name": "predictor1", "replicas": 2, "modelImage": "repo/iris:1",
                        "instanceType": "cpu-1", **predictor}],
        "endpoint": {"accessType": "public", "clients": []},
    }
    return phdeployments.parse({"metadata": {"name": "iris-abcde", "namespace": "hub",
                                             "uid": "uid-1"}, "spec": spec})


def group(**spec: Any) -> groups.Group:
    return groups.parse({"metadata": {"name": "data-team"},
                         "spec": {"enabledDeployment": True, **spec}})


def instance_type(**spec: Any) -> instancetypes.InstanceType:
    return instancetypes.parse({"metadata": {"name": "cpu-1"},
                                "spec": {"limits.cpu": 1, "limits.memory": "2G", **spec}})


ASSIGNED = {"claims": ["models"], "imagePullSecrets": ["regcred"],
            "storageSecrets": ["bucket-keys"]}


def build(*, running: bool = True, settings: ControllerSettings = SETTINGS,
          rollout: Rollout = ROLLOUT, assigned: dict[str, Any] | None = None,
          **predictor: Any) -> Children:
    return children(deployment(**predictor),
                    group=group(**(ASSIGNED if assigned is None else assigned)),
                    instance_type=instance_type(), settings=settings, rollout=rollout,
                    running=running)


def model_container(made: Children) -> dict[str, Any]:
    containers: list[dict[str, Any]] = made.deployment["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["model"]
    return containers[0]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container["env"]}


def test_children_are_named_labelled_and_owned_like_primehub() -> None:
    """Both children are deploy-<id>, carry PrimeHub's labels and a controller owner ref."""
    made = build()
    labels = {"app": "primehub-deployment", "primehub.io/phdeployment": "iris-abcde",
              "primehub.io/group": "escaped--44ata-20-54eam"}
    for child in (made.deployment, made.service):
        assert child["metadata"]["name"] == "deploy-iris-abcde"
        assert child["metadata"]["namespace"] == "hub"
        assert child["metadata"]["labels"] == labels
        assert child["metadata"]["ownerReferences"] == [{
            "apiVersion": "primehub.io/v1alpha1", "kind": "PhDeployment", "name": "iris-abcde",
            "uid": "uid-1", "controller": True, "blockOwnerDeletion": True}]
    spec = made.deployment["spec"]
    assert spec["selector"] == {"matchLabels": labels}
    assert spec["template"]["metadata"]["labels"] == labels
    assert made.service["spec"]["selector"] == labels


def test_model_container_runs_the_image_on_the_configured_port_behind_service_port_8000() -> None:
    """The model container listens on model_port; the Service's port 8000 targets it."""
    settings = dataclasses.replace(SETTINGS, model_port=9100)
    made = build(settings=settings)
    model = model_container(made)
    assert model["image"] == "repo/iris:1"
    assert model["ports"] == [{"name": "http", "containerPort": 9100, "protocol": "TCP"}]
    assert env_of(model)["PREDICTIVE_UNIT_SERVICE_PORT"] == "9100"
    assert made.service["spec"]["ports"] == [
        {"name": "http", "port": 8000, "targetPort": 9100, "protocol": "TCP"}]
    assert made.service["spec"]["type"] == "ClusterIP"


def test_replicas_come_from_the_spec_and_are_zero_when_not_running() -> None:
    """Running: the predictor's replicas; stopped (or failed): zero, everything else equal."""
    running, stopped = build(), build(running=False)
    assert running.deployment["spec"]["replicas"] == 2
    assert stopped.deployment["spec"]["replicas"] == 0
    assert running.deployment["spec"]["template"] == stopped.deployment["spec"]["template"]


def test_resources_node_selector_and_tolerations_come_from_the_instance_type() -> None:
    """Limits, requests, GPUs, node selector and tolerations are the instance type's."""
    itype = instance_type(**{"limits.cpu": 0.5, "limits.memory": "1.5G",
                             "limits.nvidia.com/gpu": 1, "requests.cpu": 0.25,
                             "requests.memory": "1G", "nodeSelector": {"gpu": "t4"},
                             "tolerations": [{"key": "gpu", "operator": "Exists",
                                              "effect": "NoSchedule"}]})
    made = children(deployment(), group=group(), instance_type=itype, settings=SETTINGS,
                    rollout=ROLLOUT, running=True)
    pod = made.deployment["spec"]["template"]["spec"]
    assert model_container(made)["resources"] == {
        "limits": {"cpu": "500m", "memory": "1500000000", "nvidia.com/gpu": "1"},
        "requests": {"cpu": "250m", "memory": "1000000000"}}
    assert pod["nodeSelector"] == {"gpu": "t4"}
    assert pod["tolerations"] == [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_whole_cpus_are_written_without_millis_and_absent_limits_are_left_out() -> None:
    """One CPU is "1"; an instance type without memory or GPU sets neither."""
    itype = instancetypes.parse({"metadata": {"name": "cpu-1"}, "spec": {"limits.cpu": 2}})
    made = children(deployment(), group=group(), instance_type=itype, settings=SETTINGS,
                    rollout=ROLLOUT, running=True)
    assert model_container(made)["resources"] == {"limits": {"cpu": "2"}}
    assert "nodeSelector" not in made.deployment["spec"]["template"]["spec"]


def test_user_env_is_sorted_and_controller_variables_win() -> None:
    """Env vars come sorted by name; a user's PREDICTIVE_UNIT_SERVICE_PORT is overridden."""
    spec = deployment()
    spec = dataclasses.replace(spec, spec=dataclasses.replace(spec.spec, env=(
        *spec.spec.env, phdeployments.EnvVar("PREDICTIVE_UNIT_SERVICE_PORT", "1"))))
    made = children(spec, group=group(), instance_type=instance_type(), settings=SETTINGS,
                    rollout=ROLLOUT, running=True)
    env = model_container(made)["env"]
    assert [item["name"] for item in env] == ["ALPHA", "PREDICTIVE_UNIT_SERVICE_PORT", "ZETA"]
    assert env_of(model_container(made))["PREDICTIVE_UNIT_SERVICE_PORT"] == "9000"


def test_image_pull_secret_and_metadata_annotations() -> None:
    """imagePullSecrets names the secret; valid metadata keys become prefixed annotations."""
    made = build(imagePullSecret="regcred",
                 metadata={"framework": "sklearn", "bad key": "x", "version": "3"})
    template = made.deployment["spec"]["template"]
    assert template["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    assert template["metadata"]["annotations"] == {
        "metadata.model-gateway.io/framework": "sklearn",
        "metadata.model-gateway.io/version": "3"}
    plain = build().deployment["spec"]["template"]
    assert "imagePullSecrets" not in plain["spec"]
    assert "annotations" not in plain["metadata"]


def test_model_uri_becomes_a_storage_initializer_writing_to_mnt_models() -> None:
    """A gs:// URI adds the scheme's initializer, an emptyDir and Seldon's parameters."""
    made = build(modelURI="gs://bucket/iris")
    pod = made.deployment["spec"]["template"]["spec"]
    model = model_container(made)
    [init] = pod["initContainers"]
    assert init["name"] == "storage-initializer"
    assert init["image"] == SETTINGS.storage_initializers["gs"]
    assert init["args"] == ["gs://bucket/iris", "/mnt/models"]
    assert init["resources"] == model["resources"]
    mount = [{"name": "model-store", "mountPath": "/mnt/models"}]
    assert init["volumeMounts"] == mount
    assert model["volumeMounts"] == mount
    assert pod["volumes"] == [{"name": "model-store", "emptyDir": {}}]
    assert json.loads(env_of(model)["PREDICTIVE_UNIT_PARAMETERS"]) == [
        {"name": "model_uri", "value": "/mnt/models", "type": "STRING"}]


def test_initializer_image_is_chosen_by_scheme_from_settings() -> None:
    """Each scheme uses its configured image."""
    settings = dataclasses.replace(SETTINGS, sources=Sources(initializers={"s3": "mine/s3-init:2"}))
    made = build(settings=settings, modelURI="s3://bucket/model")
    [init] = made.deployment["spec"]["template"]["spec"]["initContainers"]
    assert init["image"] == "mine/s3-init:2"


def test_pvc_uri_mounts_the_claim_read_only_without_an_initializer() -> None:
    """pvc://claim/path mounts that claim's subpath at /mnt/models; nothing is downloaded."""
    made = build(modelURI="pvc://models/iris/v1")
    pod = made.deployment["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    assert pod["volumes"] == [{"name": "model-store", "persistentVolumeClaim": {
        "claimName": "models", "readOnly": True}}]
    assert model_container(made)["volumeMounts"] == [
        {"name": "model-store", "mountPath": "/mnt/models", "readOnly": True,
         "subPath": "iris/v1"}]
    assert "PREDICTIVE_UNIT_PARAMETERS" in env_of(model_container(made))


def test_phfs_uri_mounts_the_groups_directory_of_the_configured_claim() -> None:
    """phfs://path is groups/<group as PrimeHub names it>/path of the PrimeHub file-system
    claim, read-only; both phfs:///path and phfs://path spellings."""
    settings = dataclasses.replace(SETTINGS, sources=Sources(phfs_claim="primehub-store"))
    for uri in ("phfs:///models/iris", "phfs://models/iris"):
        made = children(deployment(modelURI=uri), group=group(), instance_type=instance_type(),
                        settings=settings, rollout=ROLLOUT, running=True)
        pod = made.deployment["spec"]["template"]["spec"]
        assert "initContainers" not in pod
        assert pod["volumes"] == [{"name": "model-store", "persistentVolumeClaim": {
            "claimName": "primehub-store", "readOnly": True}}]
        assert model_container(made)["volumeMounts"] == [
            {"name": "model-store", "mountPath": "/mnt/models", "readOnly": True,
             "subPath": "groups/data-team/models/iris"}]
    with pytest.raises(Unbuildable, match="'phfs' is not supported"):
        build(modelURI="phfs:///models/iris")


def test_a_storage_secret_reaches_only_the_initializer() -> None:
    """modelURISecret becomes the initializer's envFrom; the model container never sees it."""
    made = build(modelURI="s3://bucket/iris", modelURISecret="bucket-keys")
    [init] = made.deployment["spec"]["template"]["spec"]["initContainers"]
    assert init["envFrom"] == [{"secretRef": {"name": "bucket-keys"}}]
    assert "envFrom" not in model_container(made)
    with pytest.raises(Unbuildable, match="only a downloaded model URI"):
        build(modelURI="pvc://models/iris", modelURISecret="bucket-keys")


@pytest.mark.parametrize(("predictor", "field"), [
    ({"modelURI": "pvc://models/iris"}, "modelURI"),
    ({"imagePullSecret": "regcred"}, "imagePullSecret"),
    ({"modelURI": "gs://b/m", "modelURISecret": "bucket-keys"}, "modelURISecret"),
])
def test_claims_and_secrets_the_group_was_not_assigned_are_unbuildable(
        predictor: dict[str, Any], field: str) -> None:
    """Each reference needs the group's assignment: taken back, the deployment cannot run."""
    with pytest.raises(Unbuildable, match=f"^{field}: .* is not assigned to group"):
        build(assigned={}, **predictor)


def test_the_products_own_claims_and_secrets_are_never_buildable() -> None:
    """Redis's claim and our clients Secrets stay out even when a group lists them."""
    settings = dataclasses.replace(SETTINGS, sources=Sources(
        protected=Protected(claims=frozenset({"data-mg-redis-0"}))))
    with pytest.raises(Unbuildable, match="belongs to model-gateway"):
        build(settings=settings, assigned={"claims": ["data-mg-redis-0"]},
              modelURI="pvc://data-mg-redis-0/dump")
    with pytest.raises(Unbuildable, match="belongs to model-gateway"):
        build(assigned={"imagePullSecrets": ["deploy-x-clients"]},
              imagePullSecret="deploy-x-clients")


def test_no_model_uri_means_no_init_container_volume_or_parameters() -> None:
    """Without a model URI the pod has no init container, volume or parameters variable."""
    made = build()
    pod = made.deployment["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    assert "volumes" not in pod
    assert "PREDICTIVE_UNIT_PARAMETERS" not in env_of(model_container(made))


def test_unsupported_model_uri_scheme_is_unbuildable_with_primehubs_sentence() -> None:
    """A scheme without an initializer is refused with a message naming it."""
    with pytest.raises(Unbuildable) as raised:
        build(modelURI="ftp://host/model")
    assert str(raised.value).startswith(
        "Failed because cannot successfully copy the model from the model URI.")
    assert "'ftp'" in str(raised.value)


def test_probes_tolerate_slow_model_loads() -> None:
    """A startup probe allows model_load_timeout; readiness and liveness use the port."""
    settings = dataclasses.replace(SETTINGS, probe_period=10, model_load_timeout=905,
                                   liveness_failures=4)
    model = model_container(build(settings=settings))
    assert model["startupProbe"] == {"tcpSocket": {"port": "http"}, "periodSeconds": 10,
                                     "failureThreshold": 91}
    assert model["readinessProbe"]["tcpSocket"] == {"port": "http"}
    assert model["livenessProbe"] == {"tcpSocket": {"port": "http"}, "periodSeconds": 10,
                                      "failureThreshold": 4}


def test_probe_path_makes_http_probes() -> None:
    """With a probe path, every probe is an HTTP GET of it on the model port."""
    model = model_container(build(settings=dataclasses.replace(SETTINGS,
                                                               probe_path="/health/ping")))
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert model[probe]["httpGet"] == {"path": "/health/ping", "port": "http"}


def test_rollout_bounds_are_the_given_ones() -> None:
    """The rolling update uses exactly the bounds computed from the group's quota."""
    made = build(rollout=Rollout(max_surge=0, max_unavailable=1))
    assert made.deployment["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}


def test_service_links_are_off() -> None:
    """Pods do not get one env var set per Service in the namespace."""
    assert build().deployment["spec"]["template"]["spec"]["enableServiceLinks"] is False


def test_same_inputs_give_identical_children() -> None:
    """Pure: building twice gives equal objects, hash annotation included."""
    assert build(modelURI="gs://b/m") == build(modelURI="gs://b/m")


def test_hash_annotation_tracks_content_but_not_the_rollout_strategy() -> None:
    """Any content change changes the hash; a different surge alone does not."""
    base = build()
    hashes = {child["metadata"]["annotations"][HASH_ANNOTATION]
              for child in (base.deployment, build(running=False).deployment,
                            build(modelImage="repo/iris:2").deployment)}
    assert len(hashes) == 3
    other_rollout = build(rollout=Rollout(max_surge=0, max_unavailable=1))
    assert (other_rollout.deployment["metadata"]["annotations"][HASH_ANNOTATION]
            == base.deployment["metadata"]["annotations"][HASH_ANNOTATION])
    assert base.deployment["metadata"]["annotations"][HASH_ANNOTATION] == content_hash(
        base.deployment)
    assert base.service["metadata"]["annotations"][HASH_ANNOTATION] == content_hash(
        base.service)
