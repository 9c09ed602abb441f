"""Rotating a client token in the whole product: no failed request through the overlap."""

from __future__ import annotations

import asyncio
import base64
import time

import aiohttp
import pytest
from devkit import DevMode, graphql
from test_dev_redis import ADD_CLIENT, BODY, answers, deployed

pytestmark = pytest.mark.timeout(180)

ROTATE = """mutation($id: String!, $name: String!, $overlap: Int!) { rotatePhDeploymentClient(
  data: {deploymentId: $id, name: $name, overlapSeconds: $overlap}) { plainTextToken } }"""
OVERLAP = 8


async def test_a_steady_client_sees_no_failure_through_a_rotation(dev: DevMode) -> None:
    """The old token keeps answering 200 through the overlap and is refused after it; the new
    token works as soon as rotatePhDeploymentClient returns it."""
    await deployed(dev, "rotated", "private")
    old = (await graphql(dev, ADD_CLIENT, id="rotated", name="app"))[
        "createPhDeploymentClient"]["plainTextToken"]
    await answers(dev, "rotated", f"app:{old}")
    url = f"{dev.info['proxy']}/deployment/rotated/api/v1.0/predictions"

    def auth(token: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"app:{token}".encode()).decode()}

    async with aiohttp.ClientSession() as http:
        async def status(token: str) -> int:
            async with http.post(url, json=BODY, headers=auth(token)) as response:
                return response.status

        statuses: list[int] = []
        started = time.time()

        async def steady() -> None:  # stops safely before the overlap can end
            while time.time() < started + OVERLAP - 1:
                statuses.append(await status(old))
                await asyncio.sleep(0.02)

        client = asyncio.create_task(steady())
        await asyncio.sleep(0.3)
        new = (await graphql(dev, ROTATE, id="rotated", name="app", overlap=OVERLAP))[
            "rotatePhDeploymentClient"]["plainTextToken"]
        returned = time.time()
        assert await status(new) == 200
        await client
        assert len(statuses) > 10
        assert set(statuses) == {200}
        await asyncio.sleep(max(0.0, returned + OVERLAP + 0.5 - time.time()))
        assert await status(old) == 401
        assert await status(new) == 200
