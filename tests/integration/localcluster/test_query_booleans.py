"""Boolean query parameters accept Go's spellings (kubernetes-asyncio sends ``True``).

Only spellings on which Go's ``strconv.ParseBool`` and kube-apiserver's query decoding agree
are pinned: kube-apiserver reads every value other than ``0``/``false`` (any case) as true, so
``f`` and ``F`` differ between the two and are left out.
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from kubekit import config_map
from kubernetes_asyncio.client import CoreV1Api

from gateway.localcluster import LocalCluster

SUITE = {"suite": "bool"}
COLLECTION = "/api/v1/namespaces/default/configmaps?labelSelector=suite%3Dbool"


async def first_line(url: str) -> tuple[int, bytes]:
    """Status and first body line, without waiting for a watch to end."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        async with asyncio.timeout(5):
            return response.status, await response.content.readline()


@pytest.mark.parametrize("spelling", ["1", "t", "T", "true", "TRUE", "True"])
async def test_true_spellings_turn_a_list_into_a_watch(
    cluster: LocalCluster, core: CoreV1Api, spelling: str, ns: str
) -> None:
    """watch=<true spelling> streams watch events instead of answering a list."""
    await core.create_namespaced_config_map(ns, config_map("seen", labels=SUITE))
    code, line = await first_line(f"{cluster.url}{COLLECTION}&watch={spelling}&timeoutSeconds=5")
    assert code == 200
    event = json.loads(line)
    assert event["type"] == "ADDED"
    assert event["object"]["metadata"]["name"] == "seen"


@pytest.mark.parametrize("spelling", ["0", "false", "FALSE", "False"])
async def test_false_spellings_keep_a_list(
    cluster: LocalCluster, core: CoreV1Api, spelling: str, ns: str
) -> None:
    """watch=<false spelling> answers an ordinary list."""
    await core.create_namespaced_config_map(ns, config_map("seen", labels=SUITE))
    async with aiohttp.ClientSession() as session, session.get(
        f"{cluster.url}{COLLECTION}&watch={spelling}"
    ) as response:
        assert response.status == 200
        listed = await response.json()
    assert listed["kind"] == "ConfigMapList"
    assert [item["metadata"]["name"] for item in listed["items"]] == ["seen"]
