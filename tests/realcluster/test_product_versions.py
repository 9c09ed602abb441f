"""Predictors on real Kubernetes with the chart's RBAC: each runs its own pods under the real
Deployment and ReplicaSet controllers, no selector takes in another predictor's pods, and a
removed predictor's objects are deleted by the controller."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient, AppsV1Api, CoreV1Api
from kubernetes_asyncio.client.exceptions import ApiException

from gateway.kube.phdeployments import predictor_child_name
from realcluster.graphqlkit import eventually, gql, wait_status
from realcluster.product import Product
from realcluster.seeding import create_deployment, seed

pytestmark = [pytest.mark.realcluster, pytest.mark.timeout(240)]

STATE = """{ phDeployment(where: {id: "iris-versions"}) { status message
  predictors { name status replicas availableReplicas trafficPercent } } }"""


async def test_predictors_run_side_by_side_and_leave_cleanly(product: Product,
                                                             admin: ApiClient) -> None:
    """A canary with two replicas beside a one-replica primary: three pods, each Deployment
    owning exactly its own; removing the canary deletes its Deployment and Service."""
    await seed(product)
    await create_deployment(product, "iris-versions", image="registry.example.com/iris:1")
    await wait_status(product, "iris-versions", "Deployed")
    await gql(product, """mutation { addPhDeploymentPredictor(where: {id: "iris-versions"},
        data: {name: "canary", modelImage: "registry.example.com/iris:2", replicas: 2}) {
        id } }""")
    await gql(product, """mutation { setPhDeploymentTraffic(where: {id: "iris-versions"},
        data: {split: [{name: "predictor1", trafficPercent: 90},
                       {name: "canary", trafficPercent: 10}]}) { id } }""")

    async def both_available() -> None:
        found: dict[str, Any] = (await gql(product, STATE))["phDeployment"]
        assert found["status"] == "Deployed", found
        assert [(item["name"], item["status"], item["availableReplicas"])
                for item in found["predictors"]] == [("predictor1", "Deployed", 1),
                                                     ("canary", "Deployed", 2)], found

    await eventually(both_available, deadline=90)
    core, apps = CoreV1Api(admin), AppsV1Api(admin)
    canary = predictor_child_name("iris-versions", "canary")
    for name, replicas in (("deploy-iris-versions", 1), (canary, 2)):
        deployment = await apps.read_namespaced_deployment(name, product.namespace)
        assert deployment.status.replicas == replicas, name
        selector = ",".join(f"{key}={value}" for key, value in
                            deployment.spec.selector.match_labels.items())
        selected = (await core.list_namespaced_pod(product.namespace,
                                                   label_selector=selector)).items
        assert len(selected) == replicas, (name, [pod.metadata.name for pod in selected])
    await core.read_namespaced_service(canary, product.namespace)

    await gql(product, """mutation { setPhDeploymentTraffic(where: {id: "iris-versions"},
        data: {split: [{name: "predictor1", trafficPercent: 100},
                       {name: "canary", trafficPercent: 0}]}) { id } }""")
    await gql(product, """mutation { removePhDeploymentPredictor(where: {id: "iris-versions"},
        data: {name: "canary"}) { id } }""")

    async def canary_gone() -> None:
        for read in (apps.read_namespaced_deployment, core.read_namespaced_service):
            try:
                await read(canary, product.namespace)
            except ApiException as error:
                status = error.status
            else:
                raise AssertionError(f"{canary} is still there")
            assert status == 404, status
        left = (await core.list_namespaced_pod(
            product.namespace, label_selector="model-gateway.io/predictor=canary")).items
        assert left == [], [pod.metadata.name for pod in left]

    await eventually(canary_gone, deadline=60)
    await wait_status(product, "iris-versions", "Deployed")
