"""Every failure class ends in ``Failed`` with the sentence the local cluster's tests pin
(tests/integration/controller/test_controller_failures.py), here caused for real: the simulated
kubelets report an image pull failure or an OOM crash loop, the real scheduler finds no GPU,
a real ResourceQuota makes the ReplicaSet controller's pod creation fail."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient, AppsV1Api, CoreV1Api, V1Pod
from kubernetes_asyncio.client.exceptions import ApiException

from realcluster.controlplane import IMAGE_PULL_FAILS, OOM_KILLED
from realcluster.graphqlkit import eventually, gql, wait_status
from realcluster.product import AVAILABLE_DEADLINE, Product
from realcluster.seeding import GPU_INSTANCE_TYPE, create_deployment, seed

pytestmark = [pytest.mark.realcluster, pytest.mark.timeout(240)]


async def the_pod(core: CoreV1Api, product: Product, deployment: str) -> V1Pod:
    async def one() -> V1Pod:
        pods = (await core.list_namespaced_pod(
            product.namespace, label_selector=f"primehub.io/phdeployment={deployment}")).items
        assert len(pods) == 1, [pod.metadata.name for pod in pods]
        pod: V1Pod = pods[0]
        return pod

    return await eventually(one)


async def failed_with(product: Product, deployment: str, message: str) -> None:
    found = await wait_status(product, deployment, "Failed", deadline=AVAILABLE_DEADLINE + 30)
    assert found["message"] == message


async def delete(product: Product, deployment: str) -> None:
    await gql(product, 'mutation($id: ID!) { deletePhDeployment(where: {id: $id}) { id } }',
              id=deployment)


async def test_image_pull_failure(product: Product, admin: ApiClient) -> None:
    """An image the kubelet cannot pull: Failed naming the pod, container and the back-off."""
    await seed(product)
    await create_deployment(product, "pull", image=IMAGE_PULL_FAILS)
    pod = await the_pod(CoreV1Api(admin), product, "pull")
    await failed_with(product, "pull", "Failed because of wrong image settings. Pod "
                      f"{pod.metadata.name}: container model: ImagePullBackOff: "
                      f'Back-off pulling image "{IMAGE_PULL_FAILS}".')
    await delete(product, "pull")


async def test_oom_crash_loop(product: Product, admin: ApiClient) -> None:
    """A model killed for memory, again and again: exit code 137, OOMKilled, the restarts."""
    await seed(product)
    await create_deployment(product, "oom", image=OOM_KILLED)
    pod = await the_pod(CoreV1Api(admin), product, "oom")
    await failed_with(product, "oom", "Failed because the model container keeps crashing. Pod "
                      f"{pod.metadata.name}: container model: exit code 137, OOMKilled, "
                      "restarted 4 times.")
    await delete(product, "oom")


async def test_unschedulable_fails_at_the_deadline(product: Product, admin: ApiClient) -> None:
    """No node has a GPU: the scheduler's own reason, then Failed at the deadline."""
    await seed(product)
    await create_deployment(product, "gpu", image="registry.example.com/iris:1",
                            instance_type=GPU_INSTANCE_TYPE)
    core = CoreV1Api(admin)

    async def scheduler_said() -> str:
        pod = await the_pod(core, product, "gpu")
        reasons = [c.message for c in pod.status.conditions or []
                   if c.type == "PodScheduled" and c.reason == "Unschedulable"]
        assert reasons, pod.status.conditions
        reason: str = reasons[0]
        return reason

    reason = await eventually(scheduler_said)
    assert "Insufficient nvidia.com/gpu" in reason
    pod = await the_pod(core, product, "gpu")
    await failed_with(product, "gpu", "Failed because the deployment is not available for "
                      f"over {AVAILABLE_DEADLINE:g} s. Certain pods unschedulable. Pod "
                      f"{pod.metadata.name}: {reason}")
    await delete(product, "gpu")


async def test_quota_rejection(product: Product, admin: ApiClient) -> None:
    """A ResourceQuota refuses the pods: Failed quoting the ReplicaSet controller's error."""
    await seed(product)
    core, apps = CoreV1Api(admin), AppsV1Api(admin)
    await core.create_namespaced_resource_quota(product.namespace, {
        "metadata": {"name": "no-more-pods"}, "spec": {"hard": {"pods": "0"}}})
    try:
        async def enforced() -> None:
            quota = await core.read_namespaced_resource_quota("no-more-pods", product.namespace)
            assert quota.status, "quota not yet counted"
            assert quota.status.hard, "quota not yet counted"

        await eventually(enforced)
        await create_deployment(product, "quota", image="registry.example.com/iris:1")

        async def refused() -> str:
            try:
                child = await apps.read_namespaced_deployment("deploy-quota", product.namespace)
            except ApiException as error:
                raise AssertionError(f"no Deployment yet: {error.status}") from error
            failures: list[Any] = [c.message for c in child.status.conditions or []
                                   if c.type == "ReplicaFailure" and c.status == "True"]
            assert failures, child.status.conditions
            message: str = failures[0]
            return message

        refusal = await eventually(refused)
        assert "exceeded quota: no-more-pods" in refusal
        await failed_with(product, "quota",
                          f"Failed because the pods were refused by a quota: {refusal}")
    finally:
        await core.delete_namespaced_resource_quota("no-more-pods", product.namespace)
    await delete(product, "quota")
