"""A Failed deployment explains itself through the API: the class of failure the controller
recorded, a summary naming what broke, and what to do."""

from __future__ import annotations

import sdkdocs
from apikit import Api, World, deployment, eventually
from wskit import connected

from gateway.kube.client import Kube
from gateway.kube.phdeployments import PHDEPLOYMENTS

FAILURE = """query ($where: PhDeploymentWhereUniqueInput!) {
  phDeployment(where: $where) { status failure { reason summary hint detail } } }"""
MESSAGE = ("Failed because of wrong image settings. Pod deploy-iris-00001-abc-x1: container "
           "model: ErrImagePull: not found.")


async def test_a_failed_deployment_says_why_and_what_to_do(api: Api, world: World,
                                                           kubeclient: Kube) -> None:
    """Queries and subscriptions show the failure the controller classified; a deployment
    that has not failed has none."""
    fields = deployment("iris-00001", modelImage="acme/iris:does-not-exist")
    await api.data(sdkdocs.CREATE, {"data": fields}, token=world.alice)
    where = {"where": {"id": "iris-00001"}}
    assert (await api.data(FAILURE, where, token=world.alice))["phDeployment"] == {
        "status": "Deploying", "failure": None}
    async with connected(api, token=world.alice) as socket:
        await socket.subscribe("1", f"subscription ($where: PhDeploymentWhereUniqueInput!) {{"
                               f" {FAILURE.split('{', 1)[1]}", where)
        assert (await socket.next("1"))["phDeployment"]["failure"] is None
        await kubeclient.patch(PHDEPLOYMENTS, namespace="default", name="iris-00001",
                               subresource="status", body={"status": {
                                   "phase": "Failed", "observedGeneration": 1,
                                   "message": MESSAGE, "conditions": [{
                                       "type": "Available", "status": "False",
                                       "reason": "ImageFailure", "message": MESSAGE,
                                       "lastTransitionTime": "2026-12-03T08:00:00Z"}]}})
        pushed = (await socket.next("1"))["phDeployment"]
    expected = {"reason": "ImagePull",
                "summary": "the image `acme/iris:does-not-exist` cannot be pulled",
                "hint": "check the name and tag, or the pull secret (a private registry "
                        "needs one: set Image Pull Secret)",
                "detail": MESSAGE}
    assert pushed == {"status": "Failed", "failure": expected}

    async def queried() -> None:
        got = (await api.data(FAILURE, where, token=world.alice))["phDeployment"]
        assert got == {"status": "Failed", "failure": expected}

    await eventually(queried)
