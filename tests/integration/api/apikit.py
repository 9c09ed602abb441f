"""Test kit for the API's integration tests: an HTTP client for the running API, and helpers.

:class:`Api` speaks to a real API server over HTTP, as the console (JSON) or as the SDK
(form-encoded ``query`` + JSON ``variables``, Bearer token). :func:`eventually` is the only way
these tests wait for something asynchronous: it polls with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

T = TypeVar("T")
BOOTSTRAP = "bootstrap-admin-token-for-tests"
PUBLIC_API = "https://models.example.com/api"
PUBLIC = "https://models.example.com"


async def eventually(probe: Callable[[], Awaitable[T]], *, within: float = 5.0) -> T:
    """Run ``probe`` until it returns without AssertionError; fail after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await probe()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        await asyncio.sleep(0.02)


class GraphQLErrors(AssertionError):
    """A request expected to succeed answered with errors."""


@dataclass
class Api:
    """A client of one running API server."""

    session: aiohttp.ClientSession
    url: str

    async def post(self, query: str, variables: dict[str, Any] | None = None, *,
                   token: str | None = BOOTSTRAP, form: bool = False,
                   headers: dict[str, str] | None = None) -> dict[str, Any]:
        """The JSON response body (``form``: post the way the SDK does)."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if form:
            body: dict[str, Any] = {"data": {"query": query,
                                             "variables": json.dumps(variables or {})}}
        else:
            body = {"json": {"query": query, "variables": variables or {}}}
        async with self.session.post(f"{self.url}/graphql", headers=sent, **body) as response:
            assert response.status == 200, await response.text()
            result: dict[str, Any] = await response.json()
            return result

    async def data(self, query: str, variables: dict[str, Any] | None = None, *,
                   token: str | None = BOOTSTRAP, form: bool = False) -> dict[str, Any]:
        """The ``data`` of a request that must succeed."""
        result = await self.post(query, variables, token=token, form=form)
        if result.get("errors"):
            raise GraphQLErrors(json.dumps(result["errors"], indent=1))
        data: dict[str, Any] = result["data"]
        return data

    async def error(self, query: str, variables: dict[str, Any] | None = None, *,
                    token: str | None = BOOTSTRAP, form: bool = False) -> dict[str, Any]:
        """The first error of a request that must fail."""
        result = await self.post(query, variables, token=token, form=form)
        assert result.get("errors"), f"expected an error, got {result}"
        error: dict[str, Any] = result["errors"][0]
        return error


@dataclass(frozen=True)
class World:
    """Tokens of the seeded users: ``alice`` in team-a, ``bob`` in team-b, ``carol`` in the
    disabled team-off, ``root`` an admin by API token."""

    alice: str
    bob: str
    carol: str
    root: str


def deployment(deployment_id: str, group: str = "team-a", **fields: Any) -> dict[str, Any]:
    """A PhDeploymentCreateInput as the SDK's example builds it."""
    return {"id": deployment_id, "name": deployment_id.split("-")[0],
            "modelImage": "infuseai/sklearn-prepackaged:v0.1.0",
            "modelURI": "gs://seldon-models/sklearn/iris", "env": [], "metadata": {},
            "instanceType": "cpu-1", "replicas": 1, "updateMessage": "",
            "endpointAccessType": "public", "groupId": group, **fields}


StartApi = Callable[..., Awaitable[Api]]

CREATE_TOKEN = """mutation ($data: ApiTokenCreateInput!) {
  createApiToken(data: $data) { token apiToken { id } } }"""


async def seed(api: Api) -> World:
    """Instance types, three groups and four users, created through the admin API."""
    await api.data("""mutation {
      a: createInstanceType(data: {name: "cpu-1", displayName: "CPU 1", cpuLimit: 1,
                                   memoryLimit: 1, cpuRequest: 0.5, memoryRequest: 0.5}) { id }
      b: createInstanceType(data: {name: "gpu-1", cpuLimit: 4, memoryLimit: 16, gpuLimit: 1,
          nodeSelector: {accelerator: "t4"},
          tolerations: [{key: "gpu", operator: "Exists", effect: "NoSchedule"}]}) { id }
    }""")
    await api.data("""mutation {
      a: createGroup(data: {name: "team-a", displayName: "Team A", members: ["alice"],
          enabledDeployment: true, maxDeploy: 2, quotaCpu: 2, quotaMemory: 4,
          instanceTypes: ["cpu-1"]}) { id }
      b: createGroup(data: {name: "team-b", members: ["bob"], enabledDeployment: true,
          instanceTypes: ["cpu-1", "gpu-1"]}) { id }
      c: createGroup(data: {name: "team-off", members: ["carol"],
          instanceTypes: ["cpu-1"]}) { id }
    }""")
    tokens = await asyncio.gather(*(
        api.data(CREATE_TOKEN, {"data": {"username": name, "admin": name == "root"}})
        for name in ("alice", "bob", "carol", "root")))
    alice, bob, carol, root = (found["createApiToken"]["token"] for found in tokens)
    return World(alice=alice, bob=bob, carol=carol, root=root)
