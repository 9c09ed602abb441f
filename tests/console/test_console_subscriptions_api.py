"""The console's two subscriptions run over graphql-transport-ws against a live API and
deliver what the pages apply."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from browserkit import DevStack
from consoleops import texts

pytestmark = pytest.mark.timeout(120)
PROTOCOL = "graphql-transport-ws"


@asynccontextmanager
async def subscription(stack: DevStack, operation: str,
                       variables: dict[str, Any]) -> AsyncIterator[asyncio.Queue[Any]]:
    """One of the console's subscriptions, as the admin; yields a queue of its payloads."""
    url = stack.info["api"].replace("http://", "ws://", 1)
    headers = {"Authorization": f"Bearer {stack.info['adminToken']}"}
    payloads: asyncio.Queue[Any] = asyncio.Queue()
    async with aiohttp.ClientSession() as session, session.ws_connect(
            url, protocols=[PROTOCOL], headers=headers) as socket:
        await socket.send_json({"type": "connection_init", "payload": {}})
        assert (await socket.receive_json(timeout=30))["type"] == "connection_ack"
        await socket.send_json({"id": "1", "type": "subscribe", "payload": {
            "query": texts()[operation], "variables": variables, "operationName": operation}})

        async def read() -> None:
            async for message in socket:
                data = json.loads(message.data)
                if data["type"] == "next":
                    assert not data["payload"].get("errors"), data["payload"]["errors"]
                    await payloads.put(data["payload"]["data"])
                elif data["type"] in ("complete", "error"):
                    await payloads.put(data)

        reader = asyncio.create_task(read())
        try:
            yield payloads
        finally:
            reader.cancel()


async def next_payload(payloads: asyncio.Queue[Any]) -> Any:
    return await asyncio.wait_for(payloads.get(), timeout=30)


async def event_of(events: asyncio.Queue[Any], deployment_id: str) -> Any:
    """The next event about one deployment (other tests' deployments share the group)."""
    while (event := (await next_payload(events))["phDeployments"])["id"] != deployment_id:
        pass
    return event


async def test_deployment_events_follow_the_list(dev_stack: DevStack) -> None:
    """DeploymentEvents reports a created deployment (ADDED) and its deletion (DELETED)."""
    async with subscription(dev_stack, "DeploymentEvents",
                            {"where": {"groupId_in": ["demo"]}}) as events:
        await asyncio.sleep(0.5)  # the subscription is registered before the change
        await asyncio.to_thread(dev_stack.create, "sub-list-one", wait=False)
        first = await event_of(events, "sub-list-one")
        assert first["type"] == "ADDED"
        assert first["deployment"]["name"] == "sub-list-one"
        await asyncio.to_thread(dev_stack.gql, """mutation {
            deletePhDeployment(where: {id: "sub-list-one"}) { id } }""")
        while (event := await event_of(events, "sub-list-one"))["type"] != "DELETED":
            pass
        assert event["deployment"] is None


async def test_deployment_changed_sends_now_then_changes(dev_stack: DevStack) -> None:
    """DeploymentChanged sends the deployment at once, then its status as it changes."""
    await asyncio.to_thread(dev_stack.create, "sub-one-one")
    async with subscription(dev_stack, "DeploymentChanged", {"id": "sub-one-one"}) as changes:
        now = (await next_payload(changes))["phDeployment"]
        assert now["status"] == "Deployed"
        assert now["failure"] is None
        await asyncio.to_thread(dev_stack.gql, """mutation {
            stopPhDeployment(where: {id: "sub-one-one"}) { id } }""")
        while (await next_payload(changes))["phDeployment"]["status"] != "Stopped":
            pass
