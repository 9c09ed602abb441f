"""Watch: events from a resourceVersion, initial state, selectors, timeouts, bookmarks, 410.

Every watch passes ``timeout_seconds`` so the client stops at the server's end of stream and
raises on 410 instead of silently re-listing, and every read runs under a deadline.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from kubekit import MERGE_PATCH, client_for, config_map, namespace
from kubernetes_asyncio.client import CoreV1Api
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.watch import Watch

from gateway.localcluster import LocalCluster, LocalClusterSettings

READ_DEADLINE = 5.0


async def collect(
    watch: Watch, func: Callable[..., Any], count: int, *args: Any, **kwargs: Any
) -> list[dict[str, Any]]:
    """The first ``count`` events of a watch on ``func``, within the read deadline."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(READ_DEADLINE):
        async for event in watch.stream(func, *args, timeout_seconds=10, **kwargs):
            events.append(event)
            if len(events) == count:
                break
    return events


async def current_version(core: CoreV1Api, *, ns: str) -> str:
    listed = await core.list_namespaced_config_map(ns)
    version: str = listed.metadata.resource_version
    return version


async def test_watch_from_a_version_replays_added_modified_deleted(
        core: CoreV1Api, ns: str) -> None:
    """Changes after the watched version arrive in order, each with its write's version."""
    since = await current_version(core, ns=ns)
    created = await core.create_namespaced_config_map(ns, config_map("w", data={"n": "1"}))
    patched = await core.patch_namespaced_config_map(
        "w", ns, {"data": {"n": "2"}}, **MERGE_PATCH
    )
    await core.delete_namespaced_config_map("w", ns)

    async with Watch() as watch:
        events = await collect(
            watch, core.list_namespaced_config_map, 3, ns,
            resource_version=since, field_selector="metadata.name=w",
        )

    assert [event["type"] for event in events] == ["ADDED", "MODIFIED", "DELETED"]
    added, modified, deleted = (event["raw_object"] for event in events)
    assert added["metadata"]["resourceVersion"] == created.metadata.resource_version
    assert modified["metadata"]["resourceVersion"] == patched.metadata.resource_version
    assert modified["data"] == {"n": "2"}
    assert deleted["metadata"]["name"] == "w"
    assert deleted["metadata"]["resourceVersion"] != patched.metadata.resource_version
    assert events[0]["object"].metadata.name == "w"


async def test_watch_without_a_version_starts_with_existing_objects(
        core: CoreV1Api, ns: str) -> None:
    """A watch with no resourceVersion first sends ADDED for every object that exists."""
    for name in ("one", "two"):
        await core.create_namespaced_config_map(ns, config_map(name, labels={"w": "x"}))

    async with Watch() as watch:
        events = await collect(
            watch, core.list_namespaced_config_map, 2, ns, label_selector="w=x"
        )

    assert [event["type"] for event in events] == ["ADDED", "ADDED"]
    assert {event["object"].metadata.name for event in events} == {"one", "two"}


async def test_open_watch_receives_live_changes(core: CoreV1Api, ns: str) -> None:
    """An established watch stream delivers a change made after it started streaming."""
    since = await current_version(core, ns=ns)
    # Selected by label: in a real cluster the root-CA publisher adds kube-root-ca.crt to
    # every new namespace, which an unselected watch would report too.
    async with Watch() as watch, asyncio.timeout(READ_DEADLINE):
        stream = watch.stream(
            core.list_namespaced_config_map, ns, resource_version=since, timeout_seconds=10,
            label_selector="suite=live",
        )
        await core.create_namespaced_config_map(ns, config_map("first", labels={"suite": "live"}))
        first = await anext(stream)
        assert first["object"].metadata.name == "first"

        await core.create_namespaced_config_map(ns, config_map("second",
                                                                labels={"suite": "live"}))
        second = await anext(stream)
    assert (second["type"], second["object"].metadata.name) == ("ADDED", "second")


async def test_label_selected_watch_reports_objects_leaving_and_entering(
    core: CoreV1Api, ns: str,
) -> None:
    """Relabelling out of a watched selector is DELETED, and back in is ADDED."""
    since = await current_version(core, ns=ns)
    await core.create_namespaced_config_map(ns, config_map("m", labels={"app": "web"}))
    for app in ("db", "web"):
        await core.patch_namespaced_config_map(
            "m", ns, {"metadata": {"labels": {"app": app}}}, **MERGE_PATCH
        )

    async with Watch() as watch:
        events = await collect(
            watch, core.list_namespaced_config_map, 3, ns,
            resource_version=since, label_selector="app=web",
        )

    assert [event["type"] for event in events] == ["ADDED", "DELETED", "ADDED"]
    assert all(event["object"].metadata.name == "m" for event in events)


async def test_cluster_wide_watch_sees_every_namespace(core: CoreV1Api, ns: str) -> None:
    """A watch on the all-namespaces path reports changes from each namespace."""
    await core.create_namespace(namespace("other"))
    listed = await core.list_config_map_for_all_namespaces()
    await core.create_namespaced_config_map(ns, config_map("here", labels={"w": "all"}))
    await core.create_namespaced_config_map("other", config_map("there", labels={"w": "all"}))

    async with Watch() as watch:
        events = await collect(
            watch, core.list_config_map_for_all_namespaces, 2,
            resource_version=listed.metadata.resource_version, label_selector="w=all",
        )

    assert {(e["object"].metadata.namespace, e["object"].metadata.name) for e in events} == {
        (ns, "here"),
        ("other", "there"),
    }


async def test_watch_ends_when_timeout_seconds_elapse(core: CoreV1Api, ns: str) -> None:
    """With timeoutSeconds=1 and nothing happening, the server ends the stream after ~1 s."""
    since = await current_version(core, ns=ns)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with Watch() as watch, asyncio.timeout(READ_DEADLINE):
        events = [
            event
            async for event in watch.stream(
                core.list_namespaced_config_map, ns,
                resource_version=since, timeout_seconds=1,
            )
        ]
    assert events == []
    assert loop.time() - started >= 0.9


async def test_bookmarks_arrive_only_when_asked() -> None:
    """allowWatchBookmarks yields BOOKMARK events carrying a resourceVersion; else none come."""
    settings = LocalClusterSettings(bookmark_interval=0.2)
    async with LocalCluster.running(settings) as cluster, client_for(cluster.url) as api:
        core = CoreV1Api(api)
        since = await current_version(core, ns="default")

        async with Watch() as watch, asyncio.timeout(READ_DEADLINE):
            async for event in watch.stream(
                core.list_namespaced_config_map, "default",
                resource_version=since, allow_watch_bookmarks=True, timeout_seconds=10,
            ):
                if event["type"] == "BOOKMARK":
                    break
        assert event["type"] == "BOOKMARK"
        bookmark = event["raw_object"]
        assert bookmark["kind"] == "ConfigMap"
        assert bookmark["apiVersion"] == "v1"
        assert bookmark["metadata"]["resourceVersion"]

        async with Watch() as watch, asyncio.timeout(READ_DEADLINE):
            unasked = [
                event["type"]
                async for event in watch.stream(
                    core.list_namespaced_config_map, "default",
                    resource_version=since, timeout_seconds=1,
                )
            ]
        assert unasked == []


async def test_watch_from_an_expired_version_is_gone_and_relisting_recovers() -> None:
    """A too-old resourceVersion gets a 410 Expired ERROR event; a fresh list recovers."""
    async with (
        LocalCluster.running(LocalClusterSettings(event_history=3)) as cluster,
        client_for(cluster.url) as api,
    ):
        core = CoreV1Api(api)
        expired = await current_version(core, ns="default")
        for n in range(10):
            await core.create_namespaced_config_map("default", config_map(f"c{n}"))

        with pytest.raises(ApiException) as caught:
            async with Watch() as watch:
                await collect(
                    watch, core.list_namespaced_config_map, 1, "default",
                    resource_version=expired,
                )
        assert caught.value.status == 410

        async with aiohttp.ClientSession() as session, session.get(
            f"{cluster.url}/api/v1/namespaces/default/configmaps",
            params={"watch": "1", "resourceVersion": expired, "timeoutSeconds": "5"},
        ) as response, asyncio.timeout(READ_DEADLINE):
            assert response.status == 200
            error = json.loads(await response.content.readline())
        assert error["type"] == "ERROR"
        assert error["object"]["kind"] == "Status"
        assert (error["object"]["code"], error["object"]["reason"]) == (410, "Expired")

        fresh = await current_version(core, ns="default")
        await core.create_namespaced_config_map("default", config_map("after"))
        async with Watch() as watch:
            events = await collect(
                watch, core.list_namespaced_config_map, 1, "default", resource_version=fresh
            )
        assert events[0]["object"].metadata.name == "after"
