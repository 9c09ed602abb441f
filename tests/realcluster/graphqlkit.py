"""Driving the running product the way a user does: GraphQL as the admin, calls through the
proxy as a client, and a stand-in model behind a Service's cluster IP.

The simulated kubelets run no containers, so the tier plays the model pod itself: once a
deployment's Service has its cluster IP (127.1.x.y, bindable on loopback), :func:`serving_model`
serves the demo model there, which is what kube-proxy and the pod together do in a cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from kubernetes_asyncio.client import ApiClient, CoreV1Api

from gateway.dev.model import model_app
from realcluster.product import Product

T = TypeVar("T")


class GraphQLError(AssertionError):
    """The API answered with errors."""


async def gql(product: Product, query: str, **variables: Any) -> dict[str, Any]:
    """One GraphQL request as the bootstrap admin; the ``data`` (errors raise)."""
    async with aiohttp.ClientSession() as session, session.post(
            product.graphql_url, json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {product.admin_token}"}) as answer:
        body = await answer.json()
    if body.get("errors"):
        raise GraphQLError(body["errors"])
    data: dict[str, Any] = body["data"]
    return data


async def eventually(probe: Callable[[], Awaitable[T]], *, deadline: float = 30.0) -> T:
    """Re-run ``probe`` until it stops raising AssertionError, or the deadline passes."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    while True:
        try:
            return await probe()
        except AssertionError as error:
            if loop.time() >= give_up:
                raise AssertionError(f"still failing after {deadline} s: {error}") from error
        await asyncio.sleep(0.1)


async def status_of(product: Product, deployment: str) -> dict[str, Any]:
    data = await gql(product, """query($id: ID!) { phDeployment(where: {id: $id}) {
        status message availableReplicas endpoint } }""", id=deployment)
    found: dict[str, Any] = data["phDeployment"]
    return found


async def wait_status(product: Product, deployment: str, status: str, *,
                      deadline: float = 60.0) -> dict[str, Any]:
    async def probe() -> dict[str, Any]:
        found = await status_of(product, deployment)
        assert found["status"] == status, found
        return found

    return await eventually(probe, deadline=deadline)


@contextlib.asynccontextmanager
async def serving_model(admin: ApiClient, product: Product,
                        deployment: str) -> AsyncIterator[None]:
    """Serve the demo model on the deployment's Service cluster IP and port."""
    service = await CoreV1Api(admin).read_namespaced_service(f"deploy-{deployment}",
                                                             product.namespace)
    runner = web.AppRunner(model_app(pod=f"deploy-{deployment}", write_log=lambda _: None),
                           access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, service.spec.cluster_ip, service.spec.ports[0].port).start()
        yield
    finally:
        await runner.cleanup()
