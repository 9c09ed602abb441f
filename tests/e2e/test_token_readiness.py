"""A token works the moment it is returned, through the whole product.

``model-gateway dev`` runs the real API, controller, Redis, proxy and demo model pods. Each
case calls the proxy with a token immediately after the mutation that made it usable, on a
new connection, many times in a row, and no call may be refused as unauthenticated (401).
Before the API waited for the controller's publish, the first call usually got 401.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from devkit import DevMode

pytestmark = pytest.mark.timeout(420)

ROUNDS = 200  # the count, for the client case it is about
FEW_ROUNDS = 50  # two or three mutations per round (a re-create waits for the controller)
CLIENT_NAMES = 10  # new clients first, then each round replaces one's token
CREATE = """mutation($id: ID!, $access: String!) { createPhDeployment(data: {id: $id,
  name: "demo", groupId: "demo", instanceType: "cpu-1", replicas: 1,
  modelImage: "infuseai/sklearn-prepackaged:v0.1.0", endpointAccessType: $access}) { id } }"""
DELETE = """mutation($id: ID!) { deletePhDeployment(where: {id: $id}) { id } }"""
UPDATE = """mutation($id: ID!, $access: String!) { updatePhDeployment(where: {id: $id},
  data: {endpointAccessType: $access}) { id } }"""
CLIENT = """mutation($id: String!, $name: String!) { createPhDeploymentClient(data: {
  deploymentId: $id, name: $name}) { plainTextToken } }"""
STATUS = """query($id: ID!) { phDeployment(where: {id: $id}) { status } }"""


class Product:
    """Dev mode's API (one session, as the admin) and its proxy (a new connection per call)."""

    def __init__(self, dev: DevMode, http: aiohttp.ClientSession) -> None:
        self._info = dev.info
        self._http = http

    async def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        async with self._http.post(
                self._info["api"], json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {self._info['adminToken']}"}) as response:
            document: dict[str, Any] = await response.json()
        assert "errors" not in document, document
        data: dict[str, Any] = document["data"]
        return data

    async def client(self, deployment_id: str, name: str) -> str:
        made = await self.graphql(CLIENT, id=deployment_id, name=name)
        token: str = made["createPhDeploymentClient"]["plainTextToken"]
        return token

    async def predict(self, deployment_id: str, client: str, token: str) -> int:
        """The proxy's status for one prediction, on a connection of its own."""
        url = f"{self._info['proxy']}/deployment/{deployment_id}/api/v1.0/predictions"
        async with aiohttp.ClientSession() as fresh, fresh.post(
                url, json={"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}},
                headers={"Authorization": "Basic " + base64.b64encode(
                    f"{client}:{token}".encode()).decode()}) as response:
            await response.read()
            return response.status

    async def deployed(self, deployment_id: str) -> None:
        async with asyncio.timeout(60):
            while True:
                found = await self.graphql(STATUS, id=deployment_id)
                if found["phDeployment"]["status"] == "Deployed":
                    return
                await asyncio.sleep(0.1)

    async def serving(self, deployment_id: str) -> None:
        """Until a client's calls reach the model (the proxy has the ready route)."""
        token = await self.client(deployment_id, "warm-up")
        async with asyncio.timeout(60):
            while True:
                if await self.predict(deployment_id, "warm-up", token) == 200:
                    return
                await asyncio.sleep(0.1)


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    """Dev mode, started in a scratch directory and stopped at the end."""
    dev = DevMode(tmp_path)
    await dev.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield Product(dev, http)
    finally:
        await dev.stop()


async def test_a_new_client_token_works_at_once(product: Product) -> None:
    """200 times: createPhDeploymentClient (ten new clients, then replacing their tokens, so
    the spec stays small), then at once a prediction with the token: every one answered
    200."""
    await product.graphql(CREATE, id="ready", access="private")
    await product.deployed("ready")
    await product.serving("ready")
    statuses: Counter[int] = Counter()
    for round_ in range(ROUNDS):
        name = f"app-{round_ % CLIENT_NAMES}"
        token = await product.client("ready", name)
        statuses[await product.predict("ready", name, token)] += 1
    assert statuses == {200: ROUNDS}


async def test_a_token_works_at_once_on_a_recreated_deployment(product: Product) -> None:
    """50 times: delete the deployment, create it again, create a client, call at once: never
    401 (the pods may still be starting: 503, which the proxy answers only after the token
    passed), and once it is Deployed, 200."""
    statuses: Counter[int] = Counter()
    for round_ in range(FEW_ROUNDS):
        if round_:
            await product.graphql(DELETE, id="again")
        await product.graphql(CREATE, id="again", access="private")
        token = await product.client("again", "app")
        statuses[await product.predict("again", "app", token)] += 1
    assert statuses[401] == 0, statuses
    await product.deployed("again")
    assert await product.predict("again", "app", token) == 200


async def test_switching_to_private_makes_tokens_work_at_once(product: Product) -> None:
    """50 times: a public deployment gets a client, is switched to private, and the client
    calls at once: every one answered 200."""
    await product.graphql(CREATE, id="switch", access="public")
    await product.deployed("switch")
    await product.serving("switch")
    statuses: Counter[int] = Counter()
    for round_ in range(FEW_ROUNDS):
        await product.graphql(UPDATE, id="switch", access="public")  # drops the clients
        token = await product.client("switch", f"app-{round_}")
        await product.graphql(UPDATE, id="switch", access="private")
        statuses[await product.predict("switch", f"app-{round_}", token)] += 1
    assert statuses == {200: FEW_ROUNDS}
