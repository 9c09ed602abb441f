"""Promoting a predictor under steady load drops no request: dev mode's real proxy, API,
controller and model pods, callers sending slow requests (the demo model's X-Demo-Delay) all
the way through, and the old primary's objects deleted only after its last request ended."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import aiohttp
import pytest
from devkit import DevMode, graphql

pytestmark = pytest.mark.timeout(240)

CREATE = """mutation { createPhDeployment(data: {id: "iris-promote", name: "iris",
  groupId: "demo", instanceType: "cpu-1", modelImage: "infuseai/sklearn-prepackaged:v0.1.0",
  replicas: 1, endpointAccessType: "public"}) { id } }"""
ADD = """mutation { addPhDeploymentPredictor(where: {id: "iris-promote"}, data: {
  name: "canary", modelImage: "infuseai/sklearn-prepackaged:v0.2.0"}) { id } }"""
SPLIT = """mutation { setPhDeploymentTraffic(where: {id: "iris-promote"}, data: {split: [
  {name: "predictor1", trafficPercent: 50}, {name: "canary", trafficPercent: 50}]}) { id } }"""
PROMOTE = """mutation { promotePhDeploymentPredictor(where: {id: "iris-promote"},
  data: {name: "canary"}) { modelImage predictors { name trafficPercent } } }"""
STATE = """{ phDeployment(where: {id: "iris-promote"}) {
  status predictors { name status availableReplicas } } }"""
CALLERS = 8
DELAY = "0.5"  # seconds each answer takes: requests are in flight when promote starts


async def both_available(dev: DevMode) -> None:
    async with asyncio.timeout(60):
        while True:
            found: dict[str, Any] = (await graphql(dev, STATE))["phDeployment"]
            if found["status"] == "Deployed" and [
                    (item["status"], item["availableReplicas"])
                    for item in found["predictors"]] == [("Deployed", 1), ("Deployed", 1)]:
                return
            await asyncio.sleep(0.2)


async def deleted_at(http: aiohttp.ClientSession, kube: str, name: str) -> float:
    """When the Deployment ``name`` was first seen gone (loop time)."""
    loop = asyncio.get_running_loop()
    url = f"{kube}/apis/apps/v1/namespaces/model-gateway/deployments/{name}"
    while True:
        async with http.get(url) as response:
            await response.read()
            if response.status == 404:
                return loop.time()
            assert response.status == 200, response.status
        await asyncio.sleep(0.02)


async def test_promote_under_steady_load_drops_nothing(dev: DevMode) -> None:
    """Callers keep sending predictions through the proxy while the canary (at 50%) is
    promoted: every answer is 200, both predictors answered before, only the canary answers
    once promote has returned, and the old primary's Deployment was deleted only after every
    request it served had been answered."""
    await graphql(dev, CREATE)
    await graphql(dev, ADD)
    await graphql(dev, SPLIT)
    await both_available(dev)
    url = f"{dev.info['proxy']}/deployment/iris-promote/api/v1.0/predictions"
    loop = asyncio.get_running_loop()
    answers: list[tuple[int, str, bool, float]] = []  # status, predictor, sent after, ended
    promoted = asyncio.Event()
    stop = asyncio.Event()

    async def caller(http: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            after = promoted.is_set()
            async with http.post(url, json={"data": {"ndarray": [[1, 2]]}},
                                 headers={"X-Demo-Delay": DELAY}) as response:
                await response.read()
                answers.append((response.status, response.headers.get(
                    "X-Model-Predictor", ""), after, loop.time()))

    async def answered(count: int) -> None:
        async with asyncio.timeout(60):
            while len(answers) < count:  # noqa: ASYNC110 (many callers append; poll the count)
                await asyncio.sleep(0.05)

    async with aiohttp.ClientSession() as http:
        gone = asyncio.create_task(deleted_at(http, dev.info["kube"], "deploy-iris-promote"))
        callers = [asyncio.create_task(caller(http)) for _ in range(CALLERS)]
        await answered(2 * CALLERS)
        done = (await graphql(dev, PROMOTE))["promotePhDeploymentPredictor"]
        promoted.set()
        await answered(len(answers) + 2 * CALLERS)
        stop.set()
        await asyncio.gather(*callers)
        async with asyncio.timeout(30):
            removed = await gone
    assert done == {"modelImage": "infuseai/sklearn-prepackaged:v0.2.0",
                    "predictors": [{"name": "canary", "trafficPercent": 100}]}
    assert Counter(status for status, _, _, _ in answers) == {200: len(answers)}
    assert {name for _, name, after, _ in answers if not after} == {"predictor1", "canary"}
    assert {name for _, name, after, _ in answers if after} == {"canary"}
    assert max(ended for _, name, _, ended in answers if name == "predictor1") < removed
