"""Client token lifecycle in the whole product (API, controller, Redis, proxy): an expired
token is refused within a second of its expiry, and a rotation fails no request through its
overlap."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import UTC, datetime

import aiohttp
import pytest
from devkit import DevMode, graphql
from test_dev_redis import ADD_CLIENT, BODY, answers, deployed

pytestmark = pytest.mark.timeout(180)

ROTATE = """mutation($id: String!, $name: String!, $overlap: Int!) { rotatePhDeploymentClient(
  data: {deploymentId: $id, name: $name, overlapSeconds: $overlap}) { plainTextToken } }"""
OVERLAP = 8
EXPIRING = """mutation($id: String!, $name: String!, $expires: String!) {
  createPhDeploymentClient(data: {deploymentId: $id, name: $name, expiresAt: $expires}) {
  plainTextToken } }"""
AHEAD = 8.0  # seconds from creation to expiry: room for the mutation on a loaded machine


def basic(client: str, token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client}:{token}".encode()).decode()}


async def test_an_expired_client_token_is_refused_within_a_second(dev: DevMode) -> None:
    """Every call that ends before expiresAt is answered 200; the first call sent after it is
    refused (401, "the client token has expired"), less than a second after the expiry."""
    await deployed(dev, "expiring", "private")
    expires = time.time() + AHEAD
    token = (await graphql(dev, EXPIRING, id="expiring", name="app",
                           expires=datetime.fromtimestamp(expires, UTC).isoformat()))[
        "createPhDeploymentClient"]["plainTextToken"]
    url = f"{dev.info['proxy']}/deployment/expiring/api/v1.0/predictions"
    before: list[int] = []
    async with aiohttp.ClientSession() as http:
        while True:
            sent = time.time()
            async with http.post(url, json=BODY, headers=basic("app", token)) as response:
                status, body = response.status, await response.json()
            if time.time() < expires:
                before.append(status)
            elif sent >= expires:
                break
            await asyncio.sleep(0.05)
    assert before
    assert set(before) == {200}
    assert status == 401
    assert body["message"] == "the client token has expired"
    assert sent - expires < 1.0


async def test_a_steady_client_sees_no_failure_through_a_rotation(dev: DevMode) -> None:
    """The old token keeps answering 200 through the overlap and is refused after it; the new
    token works as soon as rotatePhDeploymentClient returns it."""
    await deployed(dev, "rotated", "private")
    old = (await graphql(dev, ADD_CLIENT, id="rotated", name="app"))[
        "createPhDeploymentClient"]["plainTextToken"]
    await answers(dev, "rotated", f"app:{old}")
    url = f"{dev.info['proxy']}/deployment/rotated/api/v1.0/predictions"

    async with aiohttp.ClientSession() as http:
        async def status(token: str) -> int:
            async with http.post(url, json=BODY, headers=basic("app", token)) as response:
                return response.status

        within: list[int] = []  # answers to calls that ended before the overlap can end
        ends: list[float] = []  # the overlap ends OVERLAP s after the API's clock read it

        async def steady() -> None:
            while not ends or time.time() < ends[0]:
                answer = await status(old)
                if not ends or time.time() < ends[0]:
                    within.append(answer)
                await asyncio.sleep(0.02)

        client = asyncio.create_task(steady())
        await asyncio.sleep(0.3)
        ends.append(time.time() + OVERLAP)  # before the request: the API's "now" is later
        new = (await graphql(dev, ROTATE, id="rotated", name="app", overlap=OVERLAP))[
            "rotatePhDeploymentClient"]["plainTextToken"]
        returned = time.time()
        assert await status(new) == 200
        await client
        assert len(within) > 10
        assert set(within) == {200}
        await asyncio.sleep(max(0.0, returned + OVERLAP + 0.5 - time.time()))
        assert await status(old) == 401
        assert await status(new) == 200
