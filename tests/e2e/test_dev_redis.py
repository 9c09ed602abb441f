"""Dev mode's Redis comes back when it dies, the log says so, and the data plane recovers."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
from pathlib import Path

import aiohttp
import pytest
from devkit import DevMode, graphql, redis_server_pid

pytestmark = pytest.mark.timeout(180)

CREATE = """mutation($id: ID!, $access: String!) { createPhDeployment(data: {id: $id, name: "demo",
  groupId: "demo", instanceType: "cpu-1", modelImage: "infuseai/sklearn-prepackaged:v0.1.0",
  replicas: 1, endpointAccessType: $access}) { id } }"""
STATUS = """query($id: ID!) { phDeployment(where: {id: $id}) { status message } }"""
ADD_CLIENT = """mutation($id: String!, $name: String!) { createPhDeploymentClient(data: {
  deploymentId: $id, name: $name}) { plainTextToken } }"""
BODY = {"data": {"ndarray": [[1.0, 2.0]]}}


async def deployed(dev: DevMode, name: str, access: str) -> None:
    await graphql(dev, CREATE, id=name, access=access)
    async with asyncio.timeout(30):
        while True:
            if (await graphql(dev, STATUS, id=name))["phDeployment"]["status"] == "Deployed":
                return
            await asyncio.sleep(0.2)


async def answers(dev: DevMode, name: str, credentials: str | None = None) -> None:
    """Wait until the proxy serves ``name`` (200) to this caller (``client:token``)."""
    headers = {} if credentials is None else {
        "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
    url = f"{dev.info['proxy']}/deployment/{name}/api/v1.0/predictions"
    async with aiohttp.ClientSession() as http, asyncio.timeout(30):
        while True:
            async with http.post(url, json=BODY, headers=headers) as response:
                if response.status == 200:
                    return
            await asyncio.sleep(0.2)


async def test_a_killed_redis_is_restarted_and_the_data_plane_recovers(
        dev: DevMode, tmp_path: Path) -> None:
    """SIGKILL the redis-server after losing its append-only file: it is back on its port,
    logged, and the controller republishes, so routes, old and new clients work again."""
    await deployed(dev, "open-one", "public")
    await deployed(dev, "closed-one", "private")
    before = (await graphql(dev, ADD_CLIENT, id="closed-one", name="before"))[
        "createPhDeploymentClient"]["plainTextToken"]
    await answers(dev, "open-one")
    await answers(dev, "closed-one", f"before:{before}")
    first = redis_server_pid(dev)
    mark = len(dev.lines)
    (tmp_path / ".model-gateway" / "redis" / "appendonly.aof").unlink()  # back empty
    os.kill(first, signal.SIGKILL)
    async with asyncio.timeout(30):
        exited = await dev.wait_for(re.compile(r"redis-server exited; restarting it .*"),
                                    start=mark)
        await dev.wait_for(re.compile(r"redis-server restarted"), start=mark)
    assert f"pid={first}" in exited[0]
    assert "killed by SIGKILL" in exited[0]
    assert redis_server_pid(dev) != first
    await answers(dev, "open-one")
    await answers(dev, "closed-one", f"before:{before}")
    created = await graphql(dev, ADD_CLIENT, id="closed-one", name="after")
    token = created["createPhDeploymentClient"]["plainTextToken"]
    await answers(dev, "closed-one", f"after:{token}")
