"""Typed views of the API's kinds: PrimeHub objects parse, builders round-trip, errors say where."""

from __future__ import annotations

import base64
import copy
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.kube import apitokens, clientsecrets, groups, instancetypes, phdeployments, pods
from gateway.kube.quantities import gigabytes, memory_quantity, parse_quantity
from gateway.kube.views import MalformedObject

PRIMEHUB_SPEC: dict[str, Any] = {
    "displayName": "Iris", "userId": "u-1", "userName": "alice", "groupId": "g-1",
    "groupName": "team", "stop": False, "description": "d", "updateMessage": "m",
    "updateTime": "2021-01-01T00:00:00.000Z", "env": [{"name": "A", "value": "1"}],
    "predictors": [{"name": "predictor1", "replicas": 2, "modelImage": "img:1",
                    "instanceType": "cpu-1", "modelURI": "gs://b/m",
                    "imagePullSecret": "regcred", "metadata": {"k": "v", "n": 3}}],
    "endpoint": {"accessType": "private",
                 "clients": [{"name": "app", "token": "$apr1$legacy$hash"}]},
}


def primehub_object() -> dict[str, Any]:
    return copy.deepcopy({"apiVersion": "primehub.io/v1alpha1", "kind": "PhDeployment",
            "metadata": {"name": "iris-x", "namespace": "hub", "uid": "uid-1",
                         "resourceVersion": "7", "creationTimestamp": "2021-01-01T00:00:00Z"},
            "spec": PRIMEHUB_SPEC,
            "status": {"phase": "Deployed", "message": "ok", "replicas": 2,
                       "availableReplicas": 2, "endpoint": "https://h/deployment/iris-x",
                       "history": [{"time": "2021-01-01T00:00:00Z", "spec": PRIMEHUB_SPEC}]}})


def test_primehub_deployments_parse_without_client_hashes() -> None:
    """A PrimeHub PhDeployment parses fully; client token hashes are dropped, names kept."""
    view = phdeployments.parse(primehub_object())
    assert (view.name, view.namespace, view.uid, view.resource_version) == (
        "iris-x", "hub", "uid-1", "7")
    assert view.spec.predictor == phdeployments.Predictor(
        replicas=2, model_image="img:1", instance_type="cpu-1", model_uri="gs://b/m",
        image_pull_secret="regcred", metadata={"k": "v", "n": "3"})
    assert view.spec.endpoint == phdeployments.Endpoint("private", ("app",))
    assert view.status.history[0].spec == view.spec
    assert "apr1" not in repr(view)
    assert "token" not in str(phdeployments.spec_body(view.spec))


def test_spec_bodies_round_trip() -> None:
    """Parsing what the builder wrote gives the same spec back."""
    spec = phdeployments.parse(primehub_object()).spec
    assert phdeployments.parse_spec(phdeployments.spec_body(spec)) == spec


def test_spec_writes_keep_keys_they_do_not_know() -> None:
    """Replacing the spec keeps additive keys written by someone else."""
    obj = primehub_object()
    obj["spec"] = {**obj["spec"], "futureField": {"x": 1}}
    spec = phdeployments.parse(obj).spec
    written = phdeployments.with_spec(obj, spec)
    assert written["spec"]["futureField"] == {"x": 1}
    assert written["spec"]["endpoint"]["clients"] == [{"name": "app"}]


@pytest.mark.parametrize(("stop", "phase", "status"), [
    (False, None, "Deploying"), (False, "Stopped", "Deploying"), (False, "Deployed", "Deployed"),
    (False, "Failed", "Failed"), (True, None, "Stopping"), (True, "Deployed", "Stopping"),
    (True, "Stopped", "Stopped"),
])
def test_the_derived_status_follows_the_contract(stop: bool, phase: str | None,
                                                 status: str) -> None:
    """``status`` is Deploying/Stopping while the controller catches up, else the phase."""
    assert phdeployments.effective_status(stop=stop, phase=phase) == status


@pytest.mark.parametrize(("path", "value", "where"), [
    (("spec",), None, "spec"), (("spec", "predictors"), [], "spec.predictors"),
    (("spec", "stop"), "yes", "spec.stop"),
    (("spec", "endpoint"), {"accessType": "intranet"}, "spec.endpoint.accessType"),
    (("spec", "predictors"), [{"replicas": "two"}], "spec.predictors[0].replicas"),
])
def test_malformed_deployments_name_the_field(path: tuple[str, ...], value: object,
                                              where: str) -> None:
    """A broken object raises MalformedObject naming where it is broken."""
    obj = primehub_object()
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(MalformedObject, match="^" + re.escape(where)):
        phdeployments.parse(obj)


def test_instance_types_parse_primehub_dotted_keys() -> None:
    """Limits come from PrimeHub's dotted keys: CPU in cores, memory in bytes, GPUs."""
    view = instancetypes.parse({
        "metadata": {"name": "gpu-1"},
        "spec": {"displayName": "GPU", "limits.cpu": 2, "limits.memory": "4G",
                 "limits.nvidia.com/gpu": 1, "requests.cpu": "500m",
                 "requests.memory": "512Mi", "nodeSelector": {"gpu": "yes"},
                 "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]}})
    spec = view.spec
    assert (spec.cpu_limit, spec.memory_limit, spec.gpu_limit) == (2.0, 4e9, 1)
    assert (spec.cpu_request, spec.memory_request) == (0.5, 512 * 2**20)
    assert spec.tolerations == (instancetypes.Toleration("gpu", "Exists", None, "NoSchedule"),)
    assert instancetypes.parse_spec(instancetypes.spec_body(spec)) == spec
    assert instancetypes.spec_body(spec)["limits.memory"] == "4G"


def test_instance_types_with_bad_quantities_name_the_key() -> None:
    """A memory limit that is not a quantity names its dotted key."""
    with pytest.raises(MalformedObject, match=re.escape("spec.limits.memory")):
        instancetypes.parse({"metadata": {"name": "x"}, "spec": {"limits.memory": "lots"}})


def test_groups_parse_with_unlimited_defaults() -> None:
    """A bare group is disabled, unlimited and empty; quotas parse as quantities."""
    assert groups.parse({"metadata": {"name": "g"}}).spec == groups.GroupSpec()
    view = groups.parse({"metadata": {"name": "g"}, "spec": {
        "displayName": "G", "members": ["a"], "enabledDeployment": True, "maxDeploy": 3,
        "quota": {"cpu": 4, "memory": "8Gi", "gpu": 1}, "instanceTypes": ["cpu-1"]}})
    assert view.spec.quota == groups.Quota(cpu=4.0, memory=8 * 2**30, gpu=1)
    assert groups.parse_spec(groups.spec_body(view.spec)).quota.memory == pytest.approx(
        8 * 2**30, rel=1e-9)


def test_api_token_secrets_round_trip_and_hide_the_hash() -> None:
    """A token Secret keeps grant and hash; the hash is not in the view's repr."""
    token = apitokens.ApiToken(id="0123456789ab", username="alice", admin=True,
                               created=datetime(2030, 1, 1, tzinfo=UTC),
                               expires=datetime(2030, 2, 1, tzinfo=UTC), description="ci",
                               hash="$pbkdf2-sha256$secret")
    secret = apitokens.manifest(namespace="ns", token=token)
    assert secret["metadata"]["labels"] == {"model-gateway.io/secret": "api-token"}
    assert apitokens.parse(secret) == token
    assert "pbkdf2" not in repr(token)
    assert token.expired(datetime(2030, 2, 1, tzinfo=UTC))
    assert not token.expired(datetime(2030, 1, 31, tzinfo=UTC))


def test_api_token_scopes_rotation_and_issuer_round_trip() -> None:
    """Scopes, issuer and a rotation's replaced hash with its overlap end survive the Secret;
    the replaced hash counts only until then and stays out of the view's repr."""
    token = apitokens.ApiToken(id="0123456789ab", username="alice", admin=False,
                               created=datetime(2030, 1, 1, tzinfo=UTC), hash="$new",
                               scopes=frozenset({"read"}), created_by="root",
                               rotated=datetime(2030, 1, 2, tzinfo=UTC),
                               previous_hash="$old-hash",
                               previous_expires=datetime(2030, 1, 3, tzinfo=UTC))
    secret = apitokens.manifest(namespace="ns", token=token)
    assert apitokens.parse(secret) == token
    assert "old-hash" not in repr(token)
    assert token.previous_valid(datetime(2030, 1, 2, 23, tzinfo=UTC))
    assert not token.previous_valid(datetime(2030, 1, 3, tzinfo=UTC))
    assert token.granted == frozenset({"read"})


@pytest.mark.parametrize(("admin", "granted"), [(True, {"admin"}),
                                                (False, {"deployments:write"})])
def test_a_token_stored_without_scopes_has_its_users_full_rights(
        admin: bool, granted: set[str]) -> None:
    """Tokens issued before scopes existed keep working as before: admin or write."""
    token = apitokens.ApiToken(id="0123456789ab", username="alice", admin=admin,
                               created=datetime(2030, 1, 1, tzinfo=UTC), hash="$h")
    parsed = apitokens.parse(apitokens.manifest(namespace="ns", token=token))
    assert parsed.scopes is None
    assert parsed.granted == granted


def test_a_token_secret_with_an_unknown_scope_is_malformed() -> None:
    """A hand-edited Secret naming a scope that does not exist is refused, naming it."""
    secret = apitokens.manifest(namespace="ns", token=apitokens.ApiToken(
        id="0123456789ab", username="alice", admin=False,
        created=datetime(2030, 1, 1, tzinfo=UTC), hash="$h"))
    secret["data"]["scopes"] = base64.b64encode(b"read,root").decode()
    with pytest.raises(MalformedObject, match=re.escape("data.scopes: unknown scope 'root'")):
        apitokens.parse(secret)


def test_client_secrets_are_owned_by_their_deployment() -> None:
    """The clients Secret is named deploy-<id>-clients and owned by the PhDeployment."""
    deployment = phdeployments.parse(primehub_object())
    secret = clientsecrets.manifest(deployment=deployment, hashes={"app": "$h$1"})
    assert secret["metadata"]["name"] == "deploy-iris-x-clients"
    assert secret["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert clientsecrets.parse(secret) == clientsecrets.ClientHashes("iris-x", {"app": "$h$1"})


def test_model_pods_know_their_deployment() -> None:
    """A model pod's view has its phase and the deployment it serves; unlabelled is malformed."""
    pod = {"metadata": {"name": "deploy-iris-x-abc", "labels": {
        "app": "primehub-deployment", "primehub.io/phdeployment": "iris-x"}},
        "status": {"phase": "Running"}}
    assert pods.parse(pod) == pods.ModelPod("deploy-iris-x-abc", "iris-x", "Running")
    with pytest.raises(MalformedObject):
        pods.parse({"metadata": {"name": "other"}})


def test_model_pods_sum_their_containers_limits() -> None:
    """A pod's CPU, memory and GPU limits are summed over its containers, any GPU vendor."""
    pod = {"metadata": {"name": "p", "labels": {"primehub.io/phdeployment": "iris-x"}},
           "spec": {"containers": [
               {"resources": {"limits": {"cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": 1}}},
               {"resources": {"limits": {"cpu": 1, "memory": "bad", "gpu.intel.com/i915": "2"}}},
               {"name": "no-limits"}]}}
    found = pods.parse(pod)
    assert (found.cpu_limit, found.memory_limit, found.gpu_limit) == (1.5, 2.0**30, 3.0)


@pytest.mark.parametrize(("text", "value"), [
    ("500m", 0.5), ("2", 2.0), (1.5, 1.5), ("1Gi", 2**30), ("1G", 1e9), ("1e3", 1000.0),
])
def test_quantities_parse_kubernetes_suffixes(text: str | float, value: float) -> None:
    """Decimal and binary suffixes, milli and exponents parse to plain numbers."""
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "1X", "-1", "one", True])
def test_non_quantities_are_refused(text: object) -> None:
    """Unknown suffixes, negatives, words and booleans are not quantities."""
    with pytest.raises(ValueError, match="quantity"):
        parse_quantity(text)  # type: ignore[arg-type]


def test_memory_is_shown_in_gigabytes() -> None:
    """Memory converts to PrimeHub's gigabytes and back to a ``<n>G`` quantity."""
    assert gigabytes("2G") == 2.0
    assert memory_quantity(1.5) == "1.5G"
    assert memory_quantity(0.0000001) == "0.0000001G"


@pytest.mark.parametrize(("observed", "stop", "status"), [
    (1, False, "Deploying"), (2, False, "Deployed"), (None, False, "Deploying"),
    (1, True, "Stopping"),
])
def test_a_phase_for_an_older_spec_does_not_count(observed: int | None, stop: bool,
                                                   status: str) -> None:
    """Until the controller has seen generation 2, a Deployed phase is stale: Deploying."""
    obj = primehub_object()
    obj["metadata"]["generation"] = 2
    obj["spec"]["stop"] = stop
    obj["status"] = {"phase": "Deployed", **({"observedGeneration": observed}
                                             if observed is not None else {})}
    assert phdeployments.parse(obj).effective_status == status


def test_client_details_sit_beside_the_hashes_in_one_annotation() -> None:
    """Details parse from the clients Secret's annotation; expiry reads as unix seconds."""
    deployment = phdeployments.parse(primehub_object())
    secret = clientsecrets.manifest(deployment=deployment, hashes={"app": "$h$1"})
    secret["metadata"]["annotations"] = {clientsecrets.DETAILS_ANNOTATION: json.dumps({"app": {
        "createdAt": "2030-01-01T00:00:00.000Z", "createdBy": "alice",
        "expiresAt": "2030-01-02T00:00:00+00:00"}})}
    details = clientsecrets.parse(secret).details["app"]
    assert details == clientsecrets.ClientDetails("2030-01-01T00:00:00.000Z", "alice",
                                                  "2030-01-02T00:00:00+00:00")
    assert details.expires() == datetime(2030, 1, 2, tzinfo=UTC).timestamp()
    for bad in ("[]", '{"app": 1}', '{"app": {"expiresAt": "soon"}}', "{"):
        secret["metadata"]["annotations"][clientsecrets.DETAILS_ANNOTATION] = bad
        with pytest.raises(MalformedObject):
            clientsecrets.parse(secret)
