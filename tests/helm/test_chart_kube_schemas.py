"""Every rendered manifest is valid for Kubernetes: built-in kinds against the Kubernetes
OpenAPI schemas (kubernetes-validate, strict: unknown fields fail), the chart's own custom
resources against its CRD schemas, and the CRDs themselves as apiextensions objects.

Kubernetes versions: the oldest the chart supports (Chart.yaml ``kubeVersion``) and the newest
kubernetes-validate knows. Only prometheus-operator's ServiceMonitor has no schema here; its
shape is asserted in the monitoring tests.
"""

from __future__ import annotations

import copy
from typing import Final

import jsonschema
import kubernetes_validate
import pytest
import yaml
from chartkit import CHART, Manifest, Rendered, crd_documents, crd_for, crd_json_schema

WITHOUT_SCHEMA: Final = frozenset({("monitoring.coreos.com/v1", "ServiceMonitor")})


def _oldest_supported() -> str:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    return str(chart["kubeVersion"]).removeprefix(">=").removesuffix("-0")


VERSIONS: Final = (_oldest_supported(), kubernetes_validate.latest_version())


def _validate_builtin(manifest: Manifest, version: str) -> None:
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(part) for part in error.path)
        pytest.fail(f"{manifest['kind']} {manifest['metadata']['name']} is invalid for "
                    f"Kubernetes {version} at {path}: {error.message}")


@pytest.mark.parametrize("version", VERSIONS)
def test_manifests_match_kubernetes_schemas(rendered: Rendered, version: str) -> None:
    """Every object of a built-in kind passes strict validation on each supported version.

    A kind with no schema (neither built-in nor ours nor listed) raises SchemaNotFoundError.
    """
    for manifest in rendered.manifests:
        key = (manifest["apiVersion"], manifest["kind"])
        if key in WITHOUT_SCHEMA or crd_for(*key) is not None:
            continue
        _validate_builtin(manifest, version)


def test_strict_validation_catches_an_unknown_field(default: Rendered) -> None:
    """The check above can fail: a misspelt field in a rendered Deployment is refused."""
    deployment = copy.deepcopy(default.component("proxy"))
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)


def test_custom_resources_match_the_crd_schemas(rendered: Rendered) -> None:
    """Seeded InstanceTypes and Groups are valid against the CRDs in crds/."""
    for manifest in rendered.manifests:
        found = crd_for(manifest["apiVersion"], manifest["kind"])
        if found is None:
            continue
        crd, version = found
        assert crd["spec"]["scope"] == "Namespaced"
        schema = crd_json_schema(version["schema"]["openAPIV3Schema"])
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest),
                        key=lambda error: list(error.path))
        assert not errors, (f"{manifest['kind']} {manifest['metadata']['name']}: "
                            f"{[error.message for error in errors]}")


def test_seeded_custom_resources_are_rendered(rendered_scenarios: dict[str, Rendered]) -> None:
    """The CRD check above has something to check: a ci scenario seeds both kinds."""
    seeded = rendered_scenarios["ingress-tls"]
    assert seeded.of_kind("InstanceType")
    assert seeded.of_kind("Group")


def test_crd_validation_catches_a_wrong_field() -> None:
    """The CRD-derived schema rejects an unknown spec field and a wrongly typed one."""
    _, version = crd_for("primehub.io/v1alpha1", "InstanceType") or pytest.fail("no CRD")
    schema = crd_json_schema(version["schema"]["openAPIV3Schema"])
    good = {"apiVersion": "primehub.io/v1alpha1", "kind": "InstanceType",
            "metadata": {"name": "cpu-1"}, "spec": {"limits.cpu": 1, "limits.memory": "1Gi"}}
    jsonschema.validate(good, schema)
    for spec in ({"limits.cpu": 1, "limits.memory": "1Gi", "limit.gpu": 1},
                 {"limits.cpu": "one", "limits.memory": "1Gi"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**good, "spec": spec}, schema)


@pytest.mark.parametrize("version", VERSIONS)
def test_crds_are_valid_apiextensions_objects(version: str) -> None:
    """The CRDs in crds/ (installed by helm before the templates) validate strictly."""
    crds = crd_documents()
    assert crds, "crds/ holds no CustomResourceDefinition"
    for crd in crds:
        _validate_builtin(crd, version)
