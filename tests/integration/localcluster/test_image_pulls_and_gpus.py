"""Simulated image pulls and GPU scheduling: with a catalog, unknown images fail as a kubelet
reports it (and come up once added); with a GPU count, pods asking for more stay Pending as
the scheduler reports it; without either, everything runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from kubekit import client_for, container, eventually, is_ready, pod
from kubernetes_asyncio.client import CoreV1Api, V1Pod

from gateway.localcluster import LocalCluster, LocalClusterSettings
from gateway.localcluster.images import ImageCatalog

KNOWN = "registry.example.com/team/model:1"
GPU_LIMITS = {"limits": {"nvidia.com/gpu": "1", "cpu": "1"}}


@asynccontextmanager
async def core_api(**settings: Any) -> AsyncIterator[CoreV1Api]:
    """A fresh local cluster with these settings, and core/v1 on it."""
    # Each pull state lasts a few polls; the states cycle, so a probe missing one meets it again.
    local = LocalClusterSettings(pod_start_delay=0.2, pull_back_off=0.3, **settings)
    async with LocalCluster.running(local) as cluster, client_for(cluster.url) as client:
        yield CoreV1Api(client)


def waiting(p: V1Pod, *, init: bool = False) -> tuple[str, str]:
    statuses = p.status.init_container_statuses if init else p.status.container_statuses
    state = statuses[0].state.waiting
    return state.reason, state.message


def pulled(p: V1Pod) -> bool:
    """The kubelet has tried the pull (the model container waits on more than creation)."""
    return bool(p.status.container_statuses) and waiting(p)[0] != "ContainerCreating"


def failing_with(reason: str, *, init: bool = False) -> Callable[[V1Pod], bool]:
    def check(p: V1Pod) -> bool:
        statuses = p.status.init_container_statuses if init else p.status.container_statuses
        return bool(statuses) and waiting(p, init=init)[0] == reason

    return check


async def settled_pod(core: CoreV1Api, name: str,
                      check: Callable[[V1Pod], object]) -> V1Pod:
    async def probe() -> V1Pod:
        found: V1Pod = await core.read_namespaced_pod(name, "default")
        assert check(found)
        return found

    return await eventually(probe)


async def test_unknown_images_fail_to_pull_as_a_kubelet_reports(tmp_path: Path) -> None:
    """ErrImagePull with containerd's message, then ImagePullBackOff; Pending, not ready."""
    catalog = ImageCatalog(images=frozenset({KNOWN}))
    async with core_api(image_catalog=catalog) as core:
        await core.create_namespaced_pod("default", pod("typo", containers=[
            container("model", "registry.example.com/team/modle:1")]))
        first = await settled_pod(core, "typo", failing_with("ErrImagePull"))
        reason, message = waiting(first)
        assert (reason, first.status.phase) == ("ErrImagePull", "Pending")
        assert message == (
            'rpc error: code = Unknown desc = failed to pull and unpack image '
            '"registry.example.com/team/modle:1": failed to resolve reference '
            '"registry.example.com/team/modle:1": pull access denied, repository does not '
            'exist or may require authorization: server message: insufficient_scope: '
            'authorization failed')
        backing_off = await settled_pod(core, "typo", failing_with("ImagePullBackOff"))
        assert waiting(backing_off)[1] == (
            'Back-off pulling image "registry.example.com/team/modle:1"')
        conditions = {c.type: c for c in backing_off.status.conditions}
        assert (conditions["Ready"].status, conditions["Ready"].reason) == (
            "False", "ContainersNotReady")
        assert conditions["PodScheduled"].status == "True"
        assert not is_ready(backing_off)

        await core.create_namespaced_pod("default", pod("known", containers=[
            container("model", KNOWN)]))
        await settled_pod(core, "known", is_ready)


async def test_a_missing_tag_of_a_known_repository_is_not_found() -> None:
    """A repository the catalog knows, with a tag it does not: NotFound, as a registry says."""
    async with core_api(image_catalog=ImageCatalog(images=frozenset({KNOWN}))) as core:
        await core.create_namespaced_pod("default", pod("tag", containers=[
            container("model", "registry.example.com/team/model:2")]))
        found = await settled_pod(core, "tag", failing_with("ErrImagePull"))
        assert waiting(found)[1].endswith(
            '"registry.example.com/team/model:2": registry.example.com/team/model:2: not found')
        assert "code = NotFound" in waiting(found)[1]


async def test_an_image_added_to_the_catalog_file_comes_up(tmp_path: Path) -> None:
    """The file is read at every retry: adding the image there makes the pod run."""
    listed = tmp_path / "images.txt"
    listed.write_text("# my images\nnginx\n")
    async with core_api(image_catalog=ImageCatalog(file=listed)) as core:
        await core.create_namespaced_pod("default", pod("any-nginx", containers=[
            container("web", "docker.io/library/nginx:1.27")]))
        await settled_pod(core, "any-nginx", is_ready)
        await core.create_namespaced_pod("default", pod("later", containers=[
            container("model", KNOWN)]))
        await settled_pod(core, "later", pulled)
        listed.write_text(f"nginx\n{KNOWN}  # added while the pod backs off\n")
        await settled_pod(core, "later", is_ready)


async def test_invalid_names_and_init_containers() -> None:
    """A malformed name is InvalidImageName; an init container's failed pull leaves the pod
    not initialized, its model container waiting on PodInitializing."""
    async with core_api(image_catalog=ImageCatalog(images=frozenset({KNOWN}))) as core:
        await core.create_namespaced_pod("default", pod("bad", containers=[
            container("model", "Registry/UPPER case")]))
        bad = await settled_pod(core, "bad", pulled)
        assert waiting(bad) == ("InvalidImageName", 'Failed to apply default image tag '
                                '"Registry/UPPER case": couldn\'t parse image name '
                                '"Registry/UPPER case": invalid reference format')
        await core.create_namespaced_pod("default", pod(
            "init", containers=[container("model", KNOWN)],
            init_containers=[container("storage-initializer", "kserve/nope:1")]))
        init = await settled_pod(core, "init", failing_with("ErrImagePull", init=True))
        assert waiting(init) == ("PodInitializing", None)
        conditions = {c.type: c for c in init.status.conditions}
        assert (conditions["Initialized"].status, conditions["Initialized"].reason) == (
            "False", "ContainersNotInitialized")


async def test_without_a_catalog_or_gpu_count_everything_runs() -> None:
    """The standalone default: any image pulls, GPU requests are not checked."""
    async with core_api() as core:
        await core.create_namespaced_pod("default", pod("anything", containers=[
            container("model", "no-such/image:ever", resources=GPU_LIMITS)]))
        await settled_pod(core, "anything", is_ready)


async def test_gpu_pods_wait_for_a_node_with_gpus() -> None:
    """With one GPU: the first GPU pod runs, the second is Unschedulable with the scheduler's
    message until the first goes; with none, every GPU pod waits."""
    async with core_api(gpus=1) as core:
        gpu = [container("model", resources=GPU_LIMITS)]
        await core.create_namespaced_pod("default", pod("first", containers=gpu))
        await settled_pod(core, "first", is_ready)
        await core.create_namespaced_pod("default", pod("second", containers=gpu))
        second = await settled_pod(core, "second", lambda p: p.status.conditions)
        [scheduled] = second.status.conditions
        assert (second.status.phase, second.spec.node_name) == ("Pending", None)
        assert (scheduled.type, scheduled.status, scheduled.reason) == (
            "PodScheduled", "False", "Unschedulable")
        assert scheduled.message == (
            "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes "
            "are available: 1 No preemption victims found for incoming pod.")
        await core.delete_namespaced_pod("first", "default", grace_period_seconds=0)
        await settled_pod(core, "second", is_ready)
    async with core_api(gpus=0) as core:
        await core.create_namespaced_pod("default", pod("none", containers=[
            container("model", resources=GPU_LIMITS)]))
        await settled_pod(core, "none", lambda p: p.status.conditions
                          and p.status.conditions[0].reason == "Unschedulable")
