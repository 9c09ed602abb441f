"""Deletion: finalizers, preconditions, owner-reference garbage collection, deletecollection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from kubekit import (
    MERGE_PATCH,
    absent,
    causes,
    config_map,
    deployment,
    eventually,
    failure,
    namespace,
    owner_reference,
)
from kubernetes_asyncio.client import (
    AppsV1Api,
    CoreV1Api,
    V1ConfigMap,
    V1DeleteOptions,
    V1Preconditions,
)
from kubernetes_asyncio.watch import Watch

HOLD = "example.com/hold"


async def parent_and_child(
    core: CoreV1Api, *, ns: str, child_finalizers: tuple[str, ...] = ()
) -> tuple[V1ConfigMap, V1ConfigMap]:
    parent = await core.create_namespaced_config_map(ns, config_map("parent"))
    child = await core.create_namespaced_config_map(
        ns,
        config_map("child", owners=[owner_reference(parent)], finalizers=child_finalizers),
    )
    return parent, child


def read(core: CoreV1Api, name: str, *, ns: str) -> Callable[[], Awaitable[object]]:
    return lambda: core.read_namespaced_config_map(name, ns)


async def release(core: CoreV1Api, name: str, *, ns: str) -> None:
    await core.patch_namespaced_config_map(
        name, ns, {"metadata": {"finalizers": None}}, **MERGE_PATCH
    )


async def test_finalizer_holds_a_deleted_object_until_removed(core: CoreV1Api, ns: str) -> None:
    """Delete marks a finalized object with deletionTimestamp; dropping the finalizer removes it."""
    await core.create_namespaced_config_map(ns, config_map("held", finalizers=[HOLD]))
    await core.delete_namespaced_config_map("held", ns)

    marked = await core.read_namespaced_config_map("held", ns)
    assert marked.metadata.deletion_timestamp is not None
    assert marked.metadata.deletion_grace_period_seconds == 0
    assert marked.metadata.finalizers == [HOLD]

    await release(core, "held", ns=ns)
    await eventually(lambda: absent(read(core, "held", ns=ns)))


async def test_watch_sees_the_finalized_deletion_as_modified_then_deleted(
    core: CoreV1Api, ns: str,
) -> None:
    """A finalized delete is MODIFIED (deletionTimestamp set), then DELETED once released."""
    since = (await core.list_namespaced_config_map(ns)).metadata.resource_version
    await core.create_namespaced_config_map(ns, config_map("held", finalizers=[HOLD]))
    await core.delete_namespaced_config_map("held", ns)
    await release(core, "held", ns=ns)

    async with Watch() as watch, asyncio.timeout(5):
        events = []
        async for event in watch.stream(
            core.list_namespaced_config_map, ns,
            resource_version=since, field_selector="metadata.name=held", timeout_seconds=10,
        ):
            events.append(event)
            if event["type"] == "DELETED":
                break
    # Removing the last finalizer deletes the object in that same write: no MODIFIED for it.
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[1]["raw_object"]["metadata"]["deletionTimestamp"]


async def test_no_new_finalizers_while_deleting(core: CoreV1Api, ns: str) -> None:
    """Adding a finalizer to an object being deleted answers 422 Forbidden on finalizers."""
    await core.create_namespaced_config_map(ns, config_map("held", finalizers=[HOLD]))
    await core.delete_namespaced_config_map("held", ns)
    status = await failure(
        core.patch_namespaced_config_map(
            "held", ns,
            {"metadata": {"finalizers": [HOLD, "example.com/late"]}},
            **MERGE_PATCH,
        )
    )
    assert status["code"] == 422
    assert causes(status) == {("metadata.finalizers", "FieldValueForbidden")}


async def test_delete_precondition_on_a_stale_version_conflicts(core: CoreV1Api, ns: str) -> None:
    """A delete whose resourceVersion precondition is stale answers 409 and keeps the object."""
    created = await core.create_namespaced_config_map(ns, config_map("pre"))
    await core.patch_namespaced_config_map("pre", ns, {"data": {"a": "1"}}, **MERGE_PATCH)
    status = await failure(
        core.delete_namespaced_config_map(
            "pre", ns,
            body=V1DeleteOptions(
                preconditions=V1Preconditions(resource_version=created.metadata.resource_version)
            ),
        )
    )
    assert status["code"] == 409
    assert status["reason"] == "Conflict"
    assert (await core.read_namespaced_config_map("pre", ns)).metadata.name == "pre"


@pytest.mark.parametrize("policy", ["Background", None])
async def test_background_deletion_collects_dependents(
        core: CoreV1Api, policy: str | None, ns: str) -> None:
    """Deleting an owner (Background, also the default) removes it now and dependents after."""
    await parent_and_child(core, ns=ns)
    options: dict[str, Any] = {"propagation_policy": policy} if policy else {}
    await core.delete_namespaced_config_map("parent", ns, **options)
    await absent(read(core, "parent", ns=ns))
    await eventually(lambda: absent(read(core, "child", ns=ns)))


async def test_foreground_deletion_waits_for_blocking_dependents(core: CoreV1Api, ns: str) -> None:
    """Foreground deletion keeps the owner (foregroundDeletion) until dependents are gone."""
    await parent_and_child(core, child_finalizers=(HOLD,), ns=ns)
    await core.delete_namespaced_config_map("parent", ns, propagation_policy="Foreground")

    async def child_is_being_deleted() -> None:
        child = await core.read_namespaced_config_map("child", ns)
        assert child.metadata.deletion_timestamp is not None

    await eventually(child_is_being_deleted)
    parent = await core.read_namespaced_config_map("parent", ns)
    assert parent.metadata.deletion_timestamp is not None
    assert "foregroundDeletion" in parent.metadata.finalizers

    await release(core, "child", ns=ns)
    await eventually(lambda: absent(read(core, "child", ns=ns)))
    await eventually(lambda: absent(read(core, "parent", ns=ns)))


async def test_orphan_deletion_keeps_dependents_without_the_owner(core: CoreV1Api, ns: str) -> None:
    """Orphan deletion removes the owner and strips its ownerReference from dependents."""
    await parent_and_child(core, ns=ns)
    await core.delete_namespaced_config_map("parent", ns, propagation_policy="Orphan")
    await eventually(lambda: absent(read(core, "parent", ns=ns)))

    async def orphaned() -> None:
        child = await core.read_namespaced_config_map("child", ns)
        assert not child.metadata.owner_references

    await eventually(orphaned)


async def test_deleting_a_deployment_collects_its_pods(
        apps: AppsV1Api, core: CoreV1Api, ns: str) -> None:
    """A deleted Deployment's pods are garbage collected."""
    await apps.create_namespaced_deployment(ns, deployment("gone", replicas=2))

    async def pods_exist() -> None:
        pods = await core.list_namespaced_pod(ns, label_selector="app=gone")
        assert len(pods.items) == 2

    await eventually(pods_exist)
    await apps.delete_namespaced_deployment("gone", ns)

    async def pods_collected() -> None:
        pods = await core.list_namespaced_pod(ns, label_selector="app=gone")
        assert pods.items == []

    await eventually(pods_collected)


async def test_delete_collection_removes_only_matching_objects(core: CoreV1Api, ns: str) -> None:
    """deletecollection with a label selector deletes the matches and nothing else."""
    for name, batch in [("o1", "old"), ("o2", "old"), ("o3", "old"), ("n1", "new"), ("n2", "new")]:
        await core.create_namespaced_config_map(ns, config_map(name, labels={"b": batch}))
    await core.delete_collection_namespaced_config_map(ns, label_selector="b=old")

    async def only_new_left() -> None:
        left = await core.list_namespaced_config_map(ns, label_selector="b")
        assert sorted(item.metadata.name for item in left.items) == ["n1", "n2"]

    await eventually(only_new_left)


async def test_deleting_a_namespace_removes_its_contents(core: CoreV1Api) -> None:
    """A deleted namespace disappears together with the objects inside it."""
    await core.create_namespace(namespace("doomed"))
    await core.create_namespaced_config_map("doomed", config_map("inside"))
    await core.delete_namespace("doomed")
    await eventually(lambda: absent(lambda: core.read_namespace("doomed")))
    await absent(lambda: core.read_namespaced_config_map("inside", "doomed"))
