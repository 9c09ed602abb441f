"""Autoscaling on real Kubernetes with the chart's RBAC: a CPU target is a HorizontalPodAutoscaler
the real API server accepts (autoscaling/v2), aimed at the deployment's Deployment, and it goes
when the target changes to concurrency."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient, AutoscalingV2Api
from kubernetes_asyncio.client.exceptions import ApiException

from realcluster.graphqlkit import eventually, gql, wait_status
from realcluster.product import Product
from realcluster.seeding import create_deployment, seed

pytestmark = [pytest.mark.realcluster, pytest.mark.timeout(240)]

UPDATE = """mutation($data: PhDeploymentUpdateInput!) {
    updatePhDeployment(where: {id: "iris-hpa"}, data: $data) { id } }"""


async def test_a_cpu_target_is_a_real_horizontal_pod_autoscaler(product: Product,
                                                                 admin: ApiClient) -> None:
    """targetCPUPercent: the controller applies an autoscaling/v2 HPA deploy-<id> (min, max,
    CPU utilization), allowed by the chart's Role; a concurrency target deletes it."""
    await seed(product)
    await create_deployment(product, "iris-hpa", image="registry.example.com/iris:1")
    await gql(product, UPDATE, data={"autoscaling": {
        "minReplicas": 1, "maxReplicas": 2, "targetCPUPercent": 70}})
    await wait_status(product, "iris-hpa", "Deployed")
    autoscaling = AutoscalingV2Api(admin)

    async def applied() -> Any:
        found = await autoscaling.read_namespaced_horizontal_pod_autoscaler(
            "deploy-iris-hpa", product.namespace)
        return found.spec

    spec = await eventually(_found(applied))
    assert (spec.scale_target_ref.kind, spec.scale_target_ref.name) == (
        "Deployment", "deploy-iris-hpa")
    assert (spec.min_replicas, spec.max_replicas) == (1, 2)
    assert spec.metrics[0].resource.name == "cpu"
    assert spec.metrics[0].resource.target.average_utilization == 70
    await gql(product, UPDATE, data={"autoscaling": {
        "minReplicas": 1, "maxReplicas": 2, "targetConcurrency": 4}})

    async def gone() -> None:
        try:
            await autoscaling.read_namespaced_horizontal_pod_autoscaler(
                "deploy-iris-hpa", product.namespace)
        except ApiException as error:
            if error.status == 404:
                return
            raise
        raise AssertionError("the HPA is still there")

    await eventually(gone)
    await gql(product, 'mutation { deletePhDeployment(where: {id: "iris-hpa"}) { id } }')


def _found(read: Any) -> Any:
    """``read`` as a probe: a 404 is "not yet" (an AssertionError ``eventually`` retries)."""
    async def probe() -> Any:
        try:
            return await read()
        except ApiException as error:
            if error.status == 404:
                raise AssertionError("not yet") from error
            raise
    return probe
