"""The log endpoint: absolute URLs in ``pods``, Bearer auth, membership, tail and follow."""

from __future__ import annotations

import asyncio

import sdkdocs
from apikit import PUBLIC_API, Api, World, deployment, eventually

from gateway.kube.client import PODS, Kube
from gateway.localcluster import LocalCluster

POD = "deploy-iris-00001-7d4b9c-x2x9z"


async def model_pod(api: Api, world: World, kube: Kube) -> str:
    """A deployment of team-a and one pod labelled as its model pod; the pod's log path."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00001")}, token=world.alice)
    await kube.create(PODS, namespace="default", body={
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": POD, "labels": {"app": "primehub-deployment",
                                             "primehub.io/phdeployment": "iris-00001"}},
        "spec": {"containers": [{"name": "model", "image": "m:1"},
                                {"name": "sidecar", "image": "s:1"}]}})

    async def listed() -> str:
        pods = (await api.data(sdkdocs.LOGS, {"where": {"id": "iris-00001"}},
                               token=world.alice))["phDeployment"]["pods"]
        assert [pod["name"] for pod in pods] == [POD]
        assert pods[0]["phase"] == "Running"
        endpoint: str = pods[0]["logEndpoint"]
        return endpoint

    endpoint = await eventually(listed)
    assert endpoint == f"{PUBLIC_API}/logs/namespaces/default/phdeployments/{POD}"
    return endpoint.removeprefix(PUBLIC_API)


async def read_log(api: Api, path: str, token: str | None, **params: str) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with api.session.get(f"{api.url}{path}", params=params,
                               headers=headers) as response:
        return response.status, await response.text()


async def test_tail_of_the_model_containers_log(api: Api, world: World, kubeclient: Kube,
                                                cluster: LocalCluster) -> None:
    """The SDK's logEndpoint GET returns the model container's last lines as plain text."""
    path = await model_pod(api, world, kubeclient)
    for index in range(5):
        cluster.append_log("default", POD, f"model line {index}", container="model")
    cluster.append_log("default", POD, "sidecar line", container="sidecar")
    assert await read_log(api, path, world.alice, follow="false", tailLines="2") == (
        200, "model line 3\nmodel line 4\n")
    assert await read_log(api, path, world.alice, container="sidecar") == (
        200, "sidecar line\n")
    assert (await read_log(api, path, world.alice, container="nope"))[0] == 400
    assert (await read_log(api, path, world.alice, tailLines="many"))[0] == 400


async def test_logs_need_a_token_and_membership(api: Api, world: World, kubeclient: Kube,
                                                cluster: LocalCluster) -> None:
    """No token: 401; another group's member: 404; an admin: the log."""
    path = await model_pod(api, world, kubeclient)
    cluster.append_log("default", POD, "secret model output", container="model")
    assert (await read_log(api, path, None))[0] == 401
    assert (await read_log(api, path, "mga_000000000000_" + "x" * 43))[0] == 401
    assert (await read_log(api, path, world.bob))[0] == 404
    assert await read_log(api, path, world.root) == (200, "secret model output\n")
    other = path.replace(POD, "kube-apiserver-0")
    assert (await read_log(api, other, world.root))[0] == 404
    assert (await read_log(api, path.replace("/default/", "/kube-system/"), world.root))[0] == 404


async def test_follow_streams_new_lines_until_the_client_leaves(
        api: Api, world: World, kubeclient: Kube, cluster: LocalCluster) -> None:
    """With follow=true the response stays open and delivers lines as they are written."""
    path = await model_pod(api, world, kubeclient)
    cluster.append_log("default", POD, "before", container="model")
    headers = {"Authorization": f"Bearer {world.alice}"}
    async with api.session.get(f"{api.url}{path}", headers=headers,
                               params={"follow": "true", "tailLines": "10"}) as response:
        assert response.status == 200
        assert await asyncio.wait_for(response.content.readline(), 5) == b"before\n"
        for index in range(3):
            cluster.append_log("default", POD, f"after {index}", container="model")
            line = await asyncio.wait_for(response.content.readline(), 5)
            assert line == f"after {index}\n".encode()

    async def handler_ended() -> None:  # the server counts a request when its handler ends
        async with api.session.get(f"{api.url}/metrics") as metrics:
            assert 'route="/logs/namespaces/{namespace}/phdeployments/{pod}"' in \
                await metrics.text()

    await eventually(handler_ended)


async def test_follow_answers_at_once_when_the_log_is_empty(
        api: Api, world: World, kubeclient: Kube, cluster: LocalCluster) -> None:
    """A followed log with nothing in it yet still sends its headers, then the first line."""
    path = await model_pod(api, world, kubeclient)
    headers = {"Authorization": f"Bearer {world.alice}"}
    async with api.session.get(f"{api.url}{path}", headers=headers,
                               params={"follow": "true"}) as response:
        assert response.status == 200
        cluster.append_log("default", POD, "first", container="model")
        assert await asyncio.wait_for(response.content.readline(), 5) == b"first\n"
