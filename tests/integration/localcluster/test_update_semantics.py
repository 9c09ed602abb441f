"""Update: optimistic concurrency, generation, and the main resource / status subresource split."""

from __future__ import annotations

from kubekit import MERGE_PATCH, config_map, deployment, failure, pod
from kubernetes_asyncio.client import ApiClient, AppsV1Api, CoreV1Api


async def test_update_with_a_stale_resource_version_conflicts(core: CoreV1Api, ns: str) -> None:
    """A PUT carrying an outdated resourceVersion answers 409 Conflict and changes nothing."""
    created = await core.create_namespaced_config_map(ns, config_map("cc", data={"v": "1"}))
    fresh = config_map("cc", data={"v": "2"})
    fresh["metadata"]["resourceVersion"] = created.metadata.resource_version
    updated = await core.replace_namespaced_config_map("cc", ns, fresh)
    assert updated.metadata.resource_version != created.metadata.resource_version

    stale = config_map("cc", data={"v": "3"})
    stale["metadata"]["resourceVersion"] = created.metadata.resource_version
    status = await failure(core.replace_namespaced_config_map("cc", ns, stale))
    assert status["code"] == 409
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on configmaps "cc": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert status["details"] == {"name": "cc", "kind": "configmaps"}
    assert (await core.read_namespaced_config_map("cc", ns)).data == {"v": "2"}


async def test_update_without_a_resource_version_is_unconditional(core: CoreV1Api, ns: str) -> None:
    """A PUT with no resourceVersion overwrites the object and keeps uid and creation time."""
    created = await core.create_namespaced_config_map(ns, config_map("uu", data={"v": "1"}))
    updated = await core.replace_namespaced_config_map(
        "uu", ns, config_map("uu", data={"v": "2"})
    )
    assert updated.data == {"v": "2"}
    assert updated.metadata.uid == created.metadata.uid
    assert updated.metadata.creation_timestamp == created.metadata.creation_timestamp
    assert updated.metadata.resource_version != created.metadata.resource_version


async def test_update_of_a_missing_object_is_not_found(core: CoreV1Api, ns: str) -> None:
    """PUT to a name that does not exist answers 404 (ConfigMaps are not created on update)."""
    status = await failure(
        core.replace_namespaced_config_map("ghost", ns, config_map("ghost"))
    )
    assert status["reason"] == "NotFound"


async def test_generation_counts_spec_changes_only(apps: AppsV1Api, ns: str) -> None:
    """Deployment generation bumps on spec and annotation changes, not on label changes.

    Annotations count because the deployment controller copies them to the ReplicaSets
    (kube-apiserver's deployment strategy); the [real] run found the local cluster missing it.
    """
    created = await apps.create_namespaced_deployment(ns, deployment("gen", replicas=0))
    assert created.metadata.generation == 1

    relabelled = await apps.patch_namespaced_deployment(
        "gen", ns, {"metadata": {"labels": {"team": "a"}}}, **MERGE_PATCH)
    assert relabelled.metadata.generation == 1

    annotated = await apps.patch_namespaced_deployment(
        "gen", ns, {"metadata": {"annotations": {"note": "x"}}}, **MERGE_PATCH)
    assert annotated.metadata.generation == 2

    rescaled = await apps.patch_namespaced_deployment(
        "gen", ns, {"spec": {"replicas": 0, "minReadySeconds": 5}}, **MERGE_PATCH
    )
    assert rescaled.metadata.generation == 3

    unchanged = await apps.patch_namespaced_deployment(
        "gen", ns, {"spec": {"minReadySeconds": 5}}, **MERGE_PATCH
    )
    assert unchanged.metadata.generation == 3


async def test_writes_to_the_main_resource_ignore_status(
        kube: ApiClient, apps: AppsV1Api, ns: str) -> None:
    """A Deployment PUT that carries a status leaves the stored status alone."""
    await apps.create_namespaced_deployment(ns, deployment("main", replicas=0))
    current = await apps.read_namespaced_deployment("main", ns)
    body = kube.sanitize_for_serialization(current)
    del body["metadata"]["resourceVersion"]  # unconditional: the controller may write status
    body["status"] = {"replicas": 42, "observedGeneration": 99}
    body["spec"]["minReadySeconds"] = 3

    updated = await apps.replace_namespaced_deployment("main", ns, body)
    assert updated.spec.min_ready_seconds == 3
    assert updated.status.replicas != 42
    assert updated.status.observed_generation != 99
    stored = await apps.read_namespaced_deployment("main", ns)
    assert stored.status.replicas != 42


async def test_writes_to_status_ignore_everything_else(
        kube: ApiClient, apps: AppsV1Api, ns: str) -> None:
    """A PUT to deployments/status leaves spec, labels and generation unchanged."""
    await apps.create_namespaced_deployment(ns, deployment("split", replicas=0))
    current = await apps.read_namespaced_deployment("split", ns)
    body = kube.sanitize_for_serialization(current)
    del body["metadata"]["resourceVersion"]  # unconditional: the controller may write status
    body["spec"]["replicas"] = 5
    body["metadata"]["labels"]["sneaky"] = "yes"

    updated = await apps.replace_namespaced_deployment_status("split", ns, body)
    assert updated.spec.replicas == 0
    assert "sneaky" not in updated.metadata.labels
    assert updated.metadata.generation == 1
    stored = await apps.read_namespaced_deployment("split", ns)
    assert stored.spec.replicas == 0


async def test_pod_writes_to_the_main_resource_ignore_status(core: CoreV1Api, ns: str) -> None:
    """A Pod label patch that also carries a status changes the labels only."""
    await core.create_namespaced_pod(ns, pod("p"))
    patched = await core.patch_namespaced_pod(
        "p", ns,
        {"metadata": {"labels": {"seen": "yes"}}, "status": {"phase": "Failed"}},
        **MERGE_PATCH,
    )
    assert patched.metadata.labels == {"seen": "yes"}
    assert patched.status.phase != "Failed"
