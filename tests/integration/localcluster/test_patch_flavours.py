"""Patch: JSON merge, JSON patch, strategic merge (Deployment/Pod merge keys), server-side apply."""

from __future__ import annotations

from typing import Any

from kubekit import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    PLAIN_JSON,
    Manifest,
    causes,
    config_map,
    container,
    deployment,
    failure,
    pod,
)
from kubernetes_asyncio.client import AppsV1Api, CoreV1Api, V1Container


def by_name(containers: list[V1Container]) -> dict[str, V1Container]:
    return {c.name: c for c in containers}


def env_of(c: V1Container) -> dict[str, str]:
    return {variable.name: variable.value for variable in c.env or []}


async def two_container_deployment(apps: AppsV1Api, *, ns: str) -> None:
    model = container(
        "model",
        "model:1",
        args=["--workers=1"],
        env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        ports=[{"containerPort": 8080, "name": "http"}],
    )
    body = deployment("smp", replicas=0, containers=[model, container("sidecar", "sidecar:1")])
    await apps.create_namespaced_deployment(ns, body)


def template_patch(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": list(containers)}}}}


async def test_merge_patch_merges_maps_and_null_deletes(core: CoreV1Api, ns: str) -> None:
    """A JSON merge patch merges maps recursively and removes keys set to null."""
    await core.create_namespaced_config_map(
        ns, config_map("mp", data={"a": "1", "b": "2"}, labels={"keep": "me"})
    )
    patched = await core.patch_namespaced_config_map(
        "mp", ns,
        {"data": {"a": None, "c": "3"}, "metadata": {"labels": {"new": "one"}}},
        **MERGE_PATCH,
    )
    assert patched.data == {"b": "2", "c": "3"}
    assert patched.metadata.labels == {"keep": "me", "new": "one"}


async def test_merge_patch_replaces_lists_wholesale(apps: AppsV1Api, ns: str) -> None:
    """A JSON merge patch replaces the containers list instead of merging by name."""
    await two_container_deployment(apps, ns=ns)
    patched = await apps.patch_namespaced_deployment(
        "smp", ns, template_patch({"name": "model", "image": "model:2"}), **MERGE_PATCH
    )
    containers = patched.spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [("model", "model:2")]


async def test_json_patch_applies_operations_in_order(core: CoreV1Api, ns: str) -> None:
    """JSON patch test/replace/add/remove operations apply in sequence."""
    await core.create_namespaced_config_map(ns, config_map("jp", data={"a": "1", "b": "2"}))
    patched = await core.patch_namespaced_config_map(
        "jp", ns,
        [
            {"op": "test", "path": "/data/a", "value": "1"},
            {"op": "replace", "path": "/data/a", "value": "9"},
            {"op": "add", "path": "/data/z", "value": "26"},
            {"op": "remove", "path": "/data/b"},
        ],
        **JSON_PATCH,
    )
    assert patched.data == {"a": "9", "z": "26"}


async def test_json_patch_failed_test_is_invalid_and_changes_nothing(
        core: CoreV1Api, ns: str) -> None:
    """A JSON patch whose test operation fails answers 422 and leaves the object as it was."""
    created = await core.create_namespaced_config_map(ns, config_map("jt", data={"a": "1"}))
    status = await failure(
        core.patch_namespaced_config_map(
            "jt", ns,
            [
                {"op": "test", "path": "/data/a", "value": "2"},
                {"op": "replace", "path": "/data/a", "value": "3"},
            ],
            **JSON_PATCH,
        )
    )
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    stored = await core.read_namespaced_config_map("jt", ns)
    assert stored.data == {"a": "1"}
    assert stored.metadata.resource_version == created.metadata.resource_version


async def test_json_patch_removing_a_missing_path_is_invalid(core: CoreV1Api, ns: str) -> None:
    """A JSON patch that removes a path that does not exist answers 422."""
    await core.create_namespaced_config_map(ns, config_map("jr", data={"a": "1"}))
    status = await failure(
        core.patch_namespaced_config_map(
            "jr", ns, [{"op": "remove", "path": "/data/nope"}], **JSON_PATCH
        )
    )
    assert status["code"] == 422


async def test_patch_of_a_missing_object_is_not_found(core: CoreV1Api, ns: str) -> None:
    """A merge patch to a name that does not exist answers 404 NotFound."""
    status = await failure(
        core.patch_namespaced_config_map("ghost", ns, {"data": {"a": "1"}}, **MERGE_PATCH)
    )
    assert status["reason"] == "NotFound"


async def test_strategic_merge_merges_containers_env_and_ports_by_key(
        apps: AppsV1Api, ns: str) -> None:
    """Strategic merge keys containers and env by name, ports by containerPort; args replace."""
    await two_container_deployment(apps, ns=ns)
    patched = await apps.patch_namespaced_deployment(
        "smp", ns,
        template_patch(
            {
                "name": "model",
                "image": "model:2",
                "args": ["--workers=4"],
                "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
                "ports": [{"containerPort": 9090, "name": "metrics"}],
            }
        ),
    )
    containers = by_name(patched.spec.template.spec.containers)
    assert set(containers) == {"model", "sidecar"}
    model = containers["model"]
    assert model.image == "model:2"
    assert model.args == ["--workers=4"]
    assert env_of(model) == {"A": "1", "B": "20", "C": "3"}
    assert {(p.container_port, p.name) for p in model.ports} == {(8080, "http"), (9090, "metrics")}
    assert containers["sidecar"].image == "sidecar:1"


async def test_strategic_merge_delete_directive_removes_a_keyed_item(
        apps: AppsV1Api, ns: str) -> None:
    """A strategic merge item with $patch: delete removes the container with that name."""
    await two_container_deployment(apps, ns=ns)
    patched = await apps.patch_namespaced_deployment(
        "smp", ns, template_patch({"name": "sidecar", "$patch": "delete"})
    )
    assert [c.name for c in patched.spec.template.spec.containers] == ["model"]


async def test_strategic_merge_on_a_pod_updates_one_container_image(
        core: CoreV1Api, ns: str) -> None:
    """A strategic merge on a Pod changes the named container's image and keeps the other."""
    await core.create_namespaced_pod(
        ns, pod("two", containers=[container("model", "m:1"), container("proxy", "p:1")])
    )
    patched = await core.patch_namespaced_pod(
        "two", ns,
        {"metadata": {"labels": {"v": "2"}},
         "spec": {"containers": [{"name": "model", "image": "m:2"}]}},
    )
    assert {c.name: c.image for c in patched.spec.containers} == {"model": "m:2", "proxy": "p:1"}
    assert patched.metadata.labels == {"v": "2"}


async def test_patch_with_a_non_patch_content_type_is_unsupported(core: CoreV1Api, ns: str) -> None:
    """PATCH with Content-Type application/json answers 415 UnsupportedMediaType."""
    await core.create_namespaced_config_map(ns, config_map("ct"))
    status = await failure(
        core.patch_namespaced_config_map("ct", ns, {"data": {"a": "1"}}, **PLAIN_JSON)
    )
    assert status["code"] == 415
    assert status["reason"] == "UnsupportedMediaType"


def colour(value: str) -> Manifest:
    """The apply configuration every SSA test sends: ConfigMap ssa with data.color."""
    return config_map("ssa", data={"color": value})


async def test_apply_creates_the_object_and_records_its_manager(core: CoreV1Api, ns: str) -> None:
    """Server-side apply to a missing name creates it, owned by the field manager."""
    created, code, _ = await core.patch_namespaced_config_map_with_http_info(
        "ssa", ns, colour("red"), field_manager="alice", **APPLY_PATCH
    )
    assert code == 201
    assert created.data == {"color": "red"}
    entries = {(m.manager, m.operation) for m in created.metadata.managed_fields}
    assert ("alice", "Apply") in entries


async def test_apply_conflict_between_managers_names_the_field(core: CoreV1Api, ns: str) -> None:
    """A second manager applying a different value for an owned field answers 409 with causes."""
    await core.patch_namespaced_config_map(
        "ssa", ns, colour("red"), field_manager="alice", **APPLY_PATCH
    )
    status = await failure(
        core.patch_namespaced_config_map(
            "ssa", ns, colour("blue"), field_manager="bob",
            **APPLY_PATCH,
        )
    )
    assert status["code"] == 409
    assert status["reason"] == "Conflict"
    assert causes(status) == {(".data.color", "FieldManagerConflict")}
    assert 'conflict with "alice"' in status["message"]
    assert (await core.read_namespaced_config_map("ssa", ns)).data == {"color": "red"}


async def test_forced_apply_takes_ownership(core: CoreV1Api, ns: str) -> None:
    """force=true wins the conflict; the previous owner then conflicts on its next apply."""
    await core.patch_namespaced_config_map(
        "ssa", ns, colour("red"), field_manager="alice", **APPLY_PATCH
    )
    forced = await core.patch_namespaced_config_map(
        "ssa", ns, colour("blue"), field_manager="bob", force=True,
        **APPLY_PATCH,
    )
    assert forced.data == {"color": "blue"}

    status = await failure(
        core.patch_namespaced_config_map(
            "ssa", ns, colour("red"), field_manager="alice",
            **APPLY_PATCH,
        )
    )
    assert status["reason"] == "Conflict"
    assert 'conflict with "bob"' in status["message"]


async def test_apply_agreeing_managers_share_a_field(core: CoreV1Api, ns: str) -> None:
    """Two managers applying the same value for a field do not conflict."""
    for manager in ("alice", "bob"):
        await core.patch_namespaced_config_map(
            "ssa", ns, colour("red"), field_manager=manager,
            **APPLY_PATCH,
        )
    stored = await core.read_namespaced_config_map("ssa", ns)
    assert {m.manager for m in stored.metadata.managed_fields} >= {"alice", "bob"}


async def test_apply_removes_fields_the_manager_stopped_applying(core: CoreV1Api, ns: str) -> None:
    """Re-applying without a field the manager owned alone removes that field."""
    await core.patch_namespaced_config_map(
        "ssa", ns, config_map("ssa", data={"a": "1", "b": "2"}), field_manager="alice",
        **APPLY_PATCH,
    )
    reapplied = await core.patch_namespaced_config_map(
        "ssa", ns, config_map("ssa", data={"a": "1"}), field_manager="alice", **APPLY_PATCH
    )
    assert reapplied.data == {"a": "1"}


async def test_apply_without_a_field_manager_is_invalid(core: CoreV1Api, ns: str) -> None:
    """An apply patch with no fieldManager answers 422 Invalid on PatchOptions.fieldManager."""
    status = await failure(
        core.patch_namespaced_config_map("ssa", ns, config_map("ssa", data={"a": "1"}),
                                         **APPLY_PATCH)
    )
    assert status["code"] == 422
    assert status["details"]["kind"] == "PatchOptions"
    assert causes(status) == {("fieldManager", "FieldValueRequired")}


async def test_apply_on_a_deployment_merges_containers_by_name(apps: AppsV1Api, ns: str) -> None:
    """Two managers applying different containers of one Deployment both keep theirs."""
    await apps.patch_namespaced_deployment(
        "applied", ns, deployment("applied", replicas=0), field_manager="alice",
        **APPLY_PATCH,
    )
    sidecar_only = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "applied"},
        "spec": template_patch(container("sidecar", "sidecar:1"))["spec"],
    }
    merged = await apps.patch_namespaced_deployment(
        "applied", ns, sidecar_only, field_manager="bob", **APPLY_PATCH
    )
    assert {c.name for c in merged.spec.template.spec.containers} == {"model", "sidecar"}
