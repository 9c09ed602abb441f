"""Discovery: /version, /api, /api/v1, /apis and each built-in group's resource list."""

from __future__ import annotations

from kubernetes_asyncio.client import (
    ApiClient,
    ApiextensionsV1Api,
    ApisApi,
    AppsV1Api,
    CoordinationV1Api,
    CoreApi,
    CoreV1Api,
    V1APIResource,
    V1APIResourceList,
    VersionApi,
)

CRUD_VERBS = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}


def by_name(resources: V1APIResourceList) -> dict[str, V1APIResource]:
    return {resource.name: resource for resource in resources.resources}


async def test_version_reports_a_kubernetes_release(kube: ApiClient) -> None:
    """/version answers a VersionInfo with major, minor and a v-prefixed gitVersion."""
    info = await VersionApi(kube).get_code()
    assert info.major == "1"
    assert info.minor.rstrip("+").isdigit()
    assert info.git_version.startswith(f"v1.{info.minor.rstrip('+')}")
    assert info.platform


async def test_core_group_serves_v1_only(kube: ApiClient) -> None:
    """/api lists the legacy core group's single version, v1."""
    versions = await CoreApi(kube).get_api_versions()
    assert versions.kind == "APIVersions"
    assert versions.versions == ["v1"]


async def test_core_v1_lists_kinds_verbs_scope_and_subresources(core: CoreV1Api) -> None:
    """/api/v1 describes pods (+status, +log), services, secrets, configmaps, events, namespaces."""
    listing = await core.get_api_resources()
    assert listing.group_version == "v1"
    resources = by_name(listing)

    for name, kind in [
        ("pods", "Pod"),
        ("services", "Service"),
        ("secrets", "Secret"),
        ("configmaps", "ConfigMap"),
        ("events", "Event"),
    ]:
        assert resources[name].kind == kind
        assert resources[name].namespaced is True
        assert set(resources[name].verbs) >= CRUD_VERBS, name

    namespaces = resources["namespaces"]
    assert namespaces.kind == "Namespace"
    assert namespaces.namespaced is False
    assert {"create", "delete", "get", "list", "patch", "update", "watch"} <= set(namespaces.verbs)

    assert set(resources["pods/status"].verbs) == {"get", "patch", "update"}
    assert resources["pods/status"].kind == "Pod"
    assert resources["pods/log"].verbs == ["get"]
    assert resources["pods/log"].kind == "Pod"

    assert "po" in resources["pods"].short_names
    assert "svc" in resources["services"].short_names
    assert "cm" in resources["configmaps"].short_names
    assert "ns" in namespaces.short_names


async def test_apis_lists_the_built_in_groups_with_preferred_versions(kube: ApiClient) -> None:
    """/apis names apps, coordination.k8s.io and apiextensions.k8s.io, each preferring v1."""
    groups = {group.name: group for group in (await ApisApi(kube).get_api_versions()).groups}
    for name in ["apps", "coordination.k8s.io", "apiextensions.k8s.io"]:
        group = groups[name]
        assert group.preferred_version.group_version == f"{name}/v1"
        assert group.preferred_version.version == "v1"
        assert f"{name}/v1" in [version.group_version for version in group.versions]


async def test_apps_v1_lists_deployments_with_status_and_scale(apps: AppsV1Api) -> None:
    """/apis/apps/v1 lists deployments with status and scale (autoscaling/v1 Scale)."""
    listing = await apps.get_api_resources()
    assert listing.group_version == "apps/v1"
    resources = by_name(listing)

    deployments = resources["deployments"]
    assert deployments.kind == "Deployment"
    assert deployments.namespaced is True
    assert set(deployments.verbs) >= CRUD_VERBS
    assert "deploy" in deployments.short_names

    assert set(resources["deployments/status"].verbs) == {"get", "patch", "update"}
    scale = resources["deployments/scale"]
    assert (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")
    assert set(scale.verbs) == {"get", "patch", "update"}


async def test_coordination_v1_lists_leases(coordination: CoordinationV1Api) -> None:
    """/apis/coordination.k8s.io/v1 lists namespaced leases."""
    resources = by_name(await coordination.get_api_resources())
    assert resources["leases"].kind == "Lease"
    assert resources["leases"].namespaced is True
    assert set(resources["leases"].verbs) >= CRUD_VERBS


async def test_apiextensions_v1_lists_cluster_scoped_crds(extensions: ApiextensionsV1Api) -> None:
    """/apis/apiextensions.k8s.io/v1 lists customresourcedefinitions (+status), cluster-scoped."""
    resources = by_name(await extensions.get_api_resources())
    crds = resources["customresourcedefinitions"]
    assert crds.kind == "CustomResourceDefinition"
    assert crds.namespaced is False
    assert set(crds.verbs) >= CRUD_VERBS
    assert "crd" in crds.short_names
    assert set(resources["customresourcedefinitions/status"].verbs) == {"get", "patch", "update"}
