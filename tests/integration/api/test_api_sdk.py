"""primehub-python-sdk 0.4.2 itself, unchanged, drives the API: the contract, end to end."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
import sdkdocs
from apikit import StartApi, deployment, eventually, seed
from primehub import PrimeHub, PrimeHubConfig
from primehub.utils import GraphQLException, ResourceNotFoundException

from gateway.kube.client import PODS, Kube
from gateway.localcluster import LocalCluster

POD = "deploy-iris-sdk01-5f7c9-abcde"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def client(url: str, token: str, group: str, tmp_path: Path) -> PrimeHub:
    """An SDK client for ``url`` acting in ``group`` (chosen through ``me``, as the SDK does)."""
    primehub = PrimeHub(PrimeHubConfig(config=str(tmp_path / "config.json"),
                                       endpoint=f"{url}/api/graphql", token=token))
    primehub.config.set_group(group)
    return primehub


async def test_the_sdk_manages_a_deployment(start_api: StartApi, kubeclient: Kube,
                                            cluster: LocalCluster, tmp_path: Path) -> None:
    """create, get, list, update, stop, start, logs, history and delete through the real SDK."""
    port = free_port()
    api = await start_api(port=port, api_public_url=f"http://127.0.0.1:{port}")
    world = await seed(api)
    sdk = await asyncio.to_thread(client, api.url, world.alice, "team-a", tmp_path)
    deployments: Any = sdk.deployments
    definition = {key: value for key, value in deployment("iris-sdk01").items()
                  if key != "groupId"}

    created = await asyncio.to_thread(deployments.create, definition)
    assert (created["id"], created["status"], created["stop"]) == ("iris-sdk01", "Deploying",
                                                                   False)
    got = await asyncio.to_thread(deployments.get, "iris-sdk01")
    assert (got["groupName"], got["userName"], got["instanceType"]) == (
        "team-a", "alice", {"name": "cpu-1"})
    listed = await asyncio.to_thread(deployments.list)
    assert [item["id"] for item in listed] == ["iris-sdk01"]
    updated = await asyncio.to_thread(deployments.update, "iris-sdk01",
                                      {"replicas": 2, "instanceType": "cpu-1"})
    assert updated["replicas"] == 2
    stopped = await asyncio.to_thread(deployments.stop, "iris-sdk01")
    assert stopped["stop"] is True
    started = await asyncio.to_thread(deployments.start, "iris-sdk01")
    assert started["stop"] is False
    history = await asyncio.to_thread(deployments.get_history, "iris-sdk01")
    assert history == []

    await kubeclient.create(PODS, namespace="default", body={
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": POD, "labels": {"app": "primehub-deployment",
                                             "primehub.io/phdeployment": "iris-sdk01"}},
        "spec": {"containers": [{"name": "model", "image": "m:1"}]}})
    for index in range(3):
        cluster.append_log("default", POD, f"line {index}", container="model")

    async def logs() -> bytes:
        got = await asyncio.to_thread(deployments.get, "iris-sdk01")
        assert got["pods"] == [{"name": POD}]
        chunks = await asyncio.to_thread(
            lambda: list(deployments.logs("iris-sdk01", tail=2)))
        return b"".join(chunks)

    assert await eventually(logs) == b"line 1\nline 2\n"

    deleted = await asyncio.to_thread(deployments.delete, "iris-sdk01")
    assert deleted == {"id": "iris-sdk01"}
    with pytest.raises(ResourceNotFoundException):
        await asyncio.to_thread(deployments.get, "iris-sdk01")


async def test_the_sdk_sees_errors_it_can_parse(start_api: StartApi, tmp_path: Path) -> None:
    """Not-found is the SDK's ResourceNotFoundException; NOT_AUTH its GraphQLException."""
    api = await start_api()
    world = await seed(api)
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-sdk02")}, token=world.alice)
    sdk = await asyncio.to_thread(client, api.url, world.bob, "team-b", tmp_path)
    deployments: Any = sdk.deployments
    with pytest.raises(ResourceNotFoundException):
        await asyncio.to_thread(deployments.stop, "nothing-here")
    with pytest.raises(GraphQLException, match="NOT_AUTH"):
        await asyncio.to_thread(deployments.stop, "iris-sdk02")
    assert await asyncio.to_thread(deployments.list) == []
