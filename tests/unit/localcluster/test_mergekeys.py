"""The merge-key table: which kinds take strategic merge patch, and the rules apply uses."""

from __future__ import annotations

from gateway.localcluster.mergekeys import (
    ListRule,
    apply_schema,
    strategic_schema,
    supports_strategic,
)


def test_built_in_kinds_have_strategic_rules_and_custom_kinds_none() -> None:
    """Every built-in kind the cluster serves takes strategic merge patch; others do not."""
    for kind in ("Pod", "Deployment", "Service", "Namespace", "Secret", "ConfigMap", "Event",
                 "Lease", "CustomResourceDefinition"):
        assert supports_strategic(kind)
        assert strategic_schema(kind) is not None
    assert not supports_strategic("PhDeployment")
    assert strategic_schema("PhDeployment") is None


def test_the_pod_rules_cover_containers_and_their_lists() -> None:
    """Containers and init containers by name, their env/ports/volumeMounts by their keys."""
    schema = strategic_schema("Pod")
    assert schema is not None
    assert schema.rule(("spec", "containers")) == ListRule(("name",))
    assert schema.rule(("spec", "initContainers", "ports")) == ListRule(("containerPort",))
    assert schema.rule(("spec", "containers", "volumeMounts")) == ListRule(("mountPath",))
    assert schema.rule(("spec", "tolerations")) is None
    assert schema.rule(("metadata", "finalizers")) == ListRule()
    assert ListRule().is_set
    assert not ListRule(("name",)).is_set


def test_apply_uses_the_built_in_table_only_for_the_built_in_group() -> None:
    """A Deployment in apps/v1 gets the pod rules; a same-named custom kind does not."""
    assert apply_schema("apps/v1", "Deployment").rule(
        ("spec", "template", "spec", "containers")) == ListRule(("name",))
    custom = apply_schema("example.com/v1", "Deployment")
    assert custom.rule(("spec", "template", "spec", "containers")) is None
    assert custom.rule(("metadata", "ownerReferences")) == ListRule(("uid",))


def test_custom_resources_get_their_list_map_keys_as_dotted_paths() -> None:
    """``x-kubernetes-list-map-keys`` passed as dotted paths become keyed lists."""
    schema = apply_schema("primehub.io/v1alpha1", "PhDeployment",
                          {"spec.endpoint.clients": ("name",), "spec.ports": ["port", "proto"]})
    assert schema.rule(("spec", "endpoint", "clients")) == ListRule(("name",))
    assert schema.rule(("spec", "ports")) == ListRule(("port", "proto"))
    assert schema.rule(("metadata", "finalizers")) == ListRule()
