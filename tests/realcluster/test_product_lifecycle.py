"""The product on real Kubernetes with the chart's RBAC: one deployment's whole life through
GraphQL, with pods made Ready by the simulated kubelets and a client calling it through the
proxy."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import pytest
from kubernetes_asyncio.client import ApiClient, AppsV1Api, CoreV1Api
from kubernetes_asyncio.client.exceptions import ApiException

from realcluster.graphqlkit import eventually, gql, serving_model, wait_status
from realcluster.product import Product
from realcluster.seeding import create_deployment, seed

pytestmark = [pytest.mark.realcluster, pytest.mark.timeout(240)]


def basic(user: str, password: str) -> dict[str, str]:
    """HTTP basic credentials, as an application sends them to the proxy."""
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


async def test_a_deployment_lives_its_whole_life(product: Product, admin: ApiClient) -> None:
    """create → Deployed → client → proxied call → update → history → stop → start → delete."""
    await seed(product)
    created = await create_deployment(product, "iris", image="registry.example.com/iris:1")
    assert created == "iris"
    deployed = await wait_status(product, "iris", "Deployed")
    assert deployed["availableReplicas"] == 1
    core, apps = CoreV1Api(admin), AppsV1Api(admin)
    pods = (await core.list_namespaced_pod(
        product.namespace, label_selector="primehub.io/phdeployment=iris")).items
    assert [pod.status.phase for pod in pods] == ["Running"]

    client = await gql(product, """mutation { createPhDeploymentClient(data: {
        deploymentId: "iris", name: "my-app"}) { plainTextToken } }""")
    token = client["createPhDeploymentClient"]["plainTextToken"]
    url = f"{product.proxy_url}/deployment/iris/api/v1.0/predictions"
    async with serving_model(admin, product, "iris"), aiohttp.ClientSession() as session:
        async def answered() -> dict[str, Any]:
            async with session.post(url, headers=basic("my-app", token),
                                    json={"data": {"ndarray": [[5.1, 3.5]]}}) as answer:
                assert answer.status == 200, await answer.text()
                body: dict[str, Any] = await answer.json()
                return body

        body = await eventually(answered)
        assert body["meta"]["tags"] == {"shape": [1, 2], "x-forwarded-user": "my-app"}
        async with session.post(url, headers=basic("my-app", "wrong"),
                                json={"data": {"ndarray": [[1]]}}) as refused:
            assert refused.status == 401

    await gql(product, """mutation { updatePhDeployment(where: {id: "iris"}, data: {
        modelImage: "registry.example.com/iris:2", updateMessage: "new model"}) { id } }""")

    async def rolled_out() -> None:
        found = await gql(product, """{ phDeployment(where: {id: "iris"}) { status
            history { deployment { modelImage updateMessage } } } }""")
        deployment = found["phDeployment"]
        assert deployment["status"] == "Deployed", deployment
        history = [item["deployment"] for item in deployment["history"]]
        assert history[0] == {"modelImage": "registry.example.com/iris:2",
                              "updateMessage": "new model"}, history
        assert history[-1]["modelImage"] == "registry.example.com/iris:1", history

    await eventually(rolled_out, deadline=60)

    await gql(product, 'mutation { stopPhDeployment(where: {id: "iris"}) { id } }')
    await wait_status(product, "iris", "Stopped")

    async def no_pods() -> None:
        left = (await core.list_namespaced_pod(
            product.namespace, label_selector="primehub.io/phdeployment=iris")).items
        assert left == [], [pod.metadata.name for pod in left]

    await eventually(no_pods)
    await gql(product, 'mutation { deployPhDeployment(where: {id: "iris"}) { id } }')
    await wait_status(product, "iris", "Deployed")

    await gql(product, 'mutation { deletePhDeployment(where: {id: "iris"}) { id } }')

    async def children_collected() -> None:
        for read, name in ((apps.read_namespaced_deployment, "deploy-iris"),
                           (core.read_namespaced_service, "deploy-iris"),
                           (core.read_namespaced_secret, "deploy-iris-clients")):
            try:
                await read(name, product.namespace)
            except ApiException as error:
                status = error.status
            else:
                raise AssertionError(f"{name} is still there")
            assert status == 404, status

    await eventually(children_collected, deadline=60)
    listed = await gql(product, "{ phDeployments { id } }")
    assert "iris" not in [item["id"] for item in listed["phDeployments"]]
