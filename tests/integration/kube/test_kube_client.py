"""gateway.kube against the local cluster: raw-JSON CRUD, patches, watches, errors, informers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from kubernetes_asyncio.client import ApiClient, Configuration

from gateway.kube.client import CONFIGMAPS, Kube
from gateway.kube.errors import AlreadyExists, Conflict, Gone, Invalid, NotFound
from gateway.kube.informing import Informer
from gateway.localcluster import LocalCluster, LocalClusterSettings


def _config_map(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


@pytest.fixture
def kube_client(kube: ApiClient) -> Kube:
    """The project's client over the suite's kubernetes-asyncio ApiClient."""
    return Kube(kube)


async def test_create_get_replace_delete(kube_client: Kube) -> None:
    """The basic verbs round-trip plain dicts; a stale resourceVersion is a Conflict."""
    created = await kube_client.create(CONFIGMAPS, namespace="default",
                                       body=_config_map("a", x="1"))
    fetched = await kube_client.get(CONFIGMAPS, namespace="default", name="a")
    assert fetched["data"] == {"x": "1"}
    updated = await kube_client.replace(CONFIGMAPS, namespace="default", name="a",
                                        body={**fetched, "data": {"x": "2"}})
    assert updated["data"] == {"x": "2"}
    with pytest.raises(Conflict):
        await kube_client.replace(CONFIGMAPS, namespace="default", name="a",
                                  body={**created, "data": {"x": "3"}})
    with pytest.raises(AlreadyExists):
        await kube_client.create(CONFIGMAPS, namespace="default", body=_config_map("a"))
    await kube_client.delete(CONFIGMAPS, namespace="default", name="a")
    with pytest.raises(NotFound):
        await kube_client.get(CONFIGMAPS, namespace="default", name="a")


async def test_server_side_apply_creates_then_updates(kube_client: Kube) -> None:
    """An apply patch is sent as a JSON object: it creates the object, then changes it."""
    first = await kube_client.patch(CONFIGMAPS, namespace="default", name="applied",
                                    body=_config_map("applied", x="1"), patch_type="apply",
                                    field_manager="tests")
    second = await kube_client.patch(CONFIGMAPS, namespace="default", name="applied",
                                     body=_config_map("applied", x="2"), patch_type="apply",
                                     field_manager="tests")
    assert (first["data"], second["data"]) == ({"x": "1"}, {"x": "2"})
    merged = await kube_client.patch(CONFIGMAPS, namespace="default", name="applied",
                                     body={"data": {"y": "3"}})
    assert merged["data"] == {"x": "2", "y": "3"}


async def test_invalid_objects_carry_their_field_causes(kube_client: Kube) -> None:
    """A 422 becomes Invalid with the API server's field paths."""
    with pytest.raises(Invalid) as raised:
        await kube_client.create(CONFIGMAPS, namespace="default", body=_config_map("Bad_Name"))
    assert [cause.field for cause in raised.value.causes] == ["metadata.name"]


async def test_watch_from_a_too_old_version_is_gone() -> None:
    """A watch ERROR event with 410 is raised as Gone, so informers know to re-list."""
    settings = LocalClusterSettings(event_history=10)
    async with LocalCluster.running(settings) as small, ApiClient(
            Configuration(host=small.url)) as api:
        kube_client = Kube(api)
        for index in range(12):
            await kube_client.create(CONFIGMAPS, namespace="default",
                                     body=_config_map(f"c{index}"))
        with pytest.raises(Gone):
            async for _ in kube_client.watch(CONFIGMAPS, namespace="default",
                                             resource_version="1", timeout_seconds=5):
                pass


@pytest.fixture
async def informer(kube_client: Kube) -> AsyncIterator[Informer]:
    """A ConfigMap informer over the default namespace, started and stopped around a test."""
    watching = Informer(kube_client, CONFIGMAPS, namespace="default", watch_timeout=5)
    yield watching
    await watching.stop()


async def test_informer_lists_then_follows_changes(kube_client: Kube, informer: Informer) -> None:
    """Existing objects arrive as ADDED on sync; later writes arrive as events in order."""
    await kube_client.create(CONFIGMAPS, namespace="default", body=_config_map("before"))
    seen: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    informer.subscribe(lambda kind, obj, old: seen.put_nowait((kind, obj["metadata"]["name"])))
    informer.start()
    await asyncio.wait_for(informer.wait_synced(), 5)
    assert informer.get("default", "before") is not None
    await kube_client.create(CONFIGMAPS, namespace="default", body=_config_map("after"))
    await kube_client.delete(CONFIGMAPS, namespace="default", name="before")
    events = [await asyncio.wait_for(seen.get(), 5) for _ in range(3)]
    assert events == [("ADDED", "before"), ("ADDED", "after"), ("DELETED", "before")]
    assert not informer.stale
