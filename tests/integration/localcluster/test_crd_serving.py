"""CustomResourceDefinitions: establishing, discovery, custom object verbs, watch, deletion."""

from __future__ import annotations

import asyncio

import pytest
from kubekit import MERGE_PATCH, absent, eventually, failure, meta
from kubernetes_asyncio.client import (
    ApiClient,
    ApiextensionsV1Api,
    ApisApi,
    CustomObjectsApi,
    V1APIResourceList,
)
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.watch import Watch
from widgetcrd import GROUP, VERSION, WIDGETS, crd, create_widget, get_widget, install, widget

GADGETS = "gadgets"
GADGET_CRD = crd(
    GADGETS,
    "Gadget",
    scope="Cluster",
    schema={
        "type": "object",
        "properties": {
            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
            "status": {"type": "object", "properties": {"state": {"type": "string"}}},
        },
    },
    status=False,
)


async def test_crd_becomes_established_and_discoverable(
    kube: ApiClient, extensions: ApiextensionsV1Api
) -> None:
    """A created CRD is Established with accepted names and appears in /apis discovery."""
    await install(extensions)
    read = await extensions.read_custom_resource_definition(f"{WIDGETS}.{GROUP}")
    assert read.status.accepted_names.kind == "Widget"
    assert read.status.stored_versions == [VERSION]

    async def discoverable() -> V1APIResourceList:
        groups = {g.name: g for g in (await ApisApi(kube).get_api_versions()).groups}
        assert groups[GROUP].preferred_version.group_version == f"{GROUP}/{VERSION}"
        listing: V1APIResourceList = await kube.call_api(
            f"/apis/{GROUP}/{VERSION}",
            "GET",
            header_params={"Accept": "application/json"},
            response_types_map={200: "V1APIResourceList"},
            _return_http_data_only=True,
        )
        return listing

    listing = await eventually(discoverable)
    resources = {r.name: r for r in listing.resources}
    assert resources[WIDGETS].kind == "Widget"
    assert resources[WIDGETS].namespaced is True
    assert {"create", "get", "list", "watch", "patch", "update", "delete"} <= set(
        resources[WIDGETS].verbs
    )
    assert set(resources[f"{WIDGETS}/status"].verbs) == {"get", "patch", "update"}


async def test_custom_object_crud(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api, ns: str
) -> None:
    """Custom objects are created (generation 1), read, listed by label, patched and deleted."""
    await install(extensions)
    body = widget("w1", replicas=2)
    body["metadata"]["labels"] = {"tier": "gold"}
    created = await create_widget(custom, body, ns=ns)
    assert created["metadata"]["generation"] == 1
    assert created["metadata"]["uid"]
    assert created["metadata"]["resourceVersion"]
    assert created["spec"]["replicas"] == 2

    await create_widget(custom, widget("w2"), ns=ns)
    gold = await custom.list_namespaced_custom_object(
        GROUP, VERSION, ns, WIDGETS, label_selector="tier=gold"
    )
    assert gold["kind"] == "WidgetList"
    assert [item["metadata"]["name"] for item in gold["items"]] == ["w1"]

    patched = await custom.patch_namespaced_custom_object(
        GROUP, VERSION, ns, WIDGETS, "w1", {"spec": {"replicas": 3}}, **MERGE_PATCH
    )
    assert patched["spec"] == {"image": "model:1", "replicas": 3, "mode": "fast"}

    await custom.delete_namespaced_custom_object(GROUP, VERSION, ns, WIDGETS, "w1")
    status = await failure(get_widget(custom, "w1", ns=ns))
    assert status["reason"] == "NotFound"
    assert status["message"] == f'{WIDGETS}.{GROUP} "w1" not found'
    assert status["details"]["group"] == GROUP


async def test_stale_update_of_a_custom_object_conflicts(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api, ns: str
) -> None:
    """Replacing a custom object with an outdated resourceVersion answers 409 Conflict."""
    await install(extensions)
    created = await create_widget(custom, widget("w"), ns=ns)
    await custom.patch_namespaced_custom_object(
        GROUP, VERSION, ns, WIDGETS, "w", {"spec": {"replicas": 1}}, **MERGE_PATCH
    )
    created["spec"]["replicas"] = 2
    status = await failure(
        custom.replace_namespaced_custom_object(GROUP, VERSION, ns, WIDGETS, "w", created)
    )
    assert status["code"] == 409
    assert status["reason"] == "Conflict"


async def test_cluster_scoped_resource_without_status_subresource(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api
) -> None:
    """A cluster-scoped kind is served at cluster paths; without /status, status is writable."""
    await install(extensions, GADGET_CRD)
    created = await custom.create_cluster_custom_object(
        GROUP, VERSION, GADGETS,
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "Gadget",
            "metadata": meta("g1"),
            "spec": {"size": 3},
            "status": {"state": "new"},
        },
    )
    assert "namespace" not in created["metadata"]
    assert created["status"] == {"state": "new"}
    listed = await custom.list_cluster_custom_object(GROUP, VERSION, GADGETS)
    assert [item["metadata"]["name"] for item in listed["items"]] == ["g1"]
    fetched = await custom.get_cluster_custom_object(GROUP, VERSION, GADGETS, "g1")
    assert fetched["spec"] == {"size": 3}


async def test_watch_streams_custom_object_events(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api, ns: str
) -> None:
    """A watch on custom objects yields ADDED and MODIFIED events with the objects as dicts."""
    await install(extensions)
    # Right after a CRD is (re)created kube-apiserver may answer 429 "storage is
    # (re)initializing" with Retry-After, as clients expect: retry as they do.
    listed = await eventually(
        lambda: custom.list_namespaced_custom_object(GROUP, VERSION, ns, WIDGETS))
    await create_widget(custom, widget("w"), ns=ns)
    await custom.patch_namespaced_custom_object(
        GROUP, VERSION, ns, WIDGETS, "w", {"spec": {"replicas": 4}}, **MERGE_PATCH
    )
    events = []
    async with Watch() as watch, asyncio.timeout(5):
        async for event in watch.stream(
            custom.list_namespaced_custom_object, GROUP, VERSION, ns, WIDGETS,
            resource_version=listed["metadata"]["resourceVersion"], timeout_seconds=10,
        ):
            events.append(event)
            if len(events) == 2:
                break
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED"]
    assert events[1]["object"]["spec"]["replicas"] == 4


async def test_deleting_the_crd_removes_instances_and_stops_serving(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api, ns: str
) -> None:
    """After a CRD is deleted, the CRD, its objects and its endpoint all answer 404."""
    await install(extensions)
    await create_widget(custom, widget("w"), ns=ns)
    await extensions.delete_custom_resource_definition(f"{WIDGETS}.{GROUP}")
    await eventually(
        lambda: absent(lambda: extensions.read_custom_resource_definition(f"{WIDGETS}.{GROUP}"))
    )
    await eventually(
        lambda: absent(
            lambda: custom.list_namespaced_custom_object(GROUP, VERSION, ns, WIDGETS)
        )
    )


async def test_unknown_group_is_not_found(custom: CustomObjectsApi, ns: str) -> None:
    """A group no CRD defines answers kube-apiserver's plain-text 404, not a Status.

    The [real] run found the local cluster answering a NotFound Status here; kube-apiserver's
    router answers paths under unserved groups itself.
    """
    with pytest.raises(ApiException) as missing:
        await custom.list_namespaced_custom_object("nope.example.com", "v1", ns, "things")
    assert missing.value.status == 404
    assert missing.value.body == "404 page not found\n"
