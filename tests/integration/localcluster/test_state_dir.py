"""``state_dir``: changes reach disk while the cluster runs, and a restart reloads everything."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

from kubekit import client_for, config_map, deployment, eventually, is_ready, namespace, secret
from kubernetes_asyncio.client import (
    ApiextensionsV1Api,
    AppsV1Api,
    CoreV1Api,
    CustomObjectsApi,
    V1Pod,
)
from widgetcrd import create_widget, get_widget, install, widget

from gateway.localcluster import LocalCluster, LocalClusterSettings


async def one_ready_pod(core: CoreV1Api) -> V1Pod:
    pods = (await core.list_namespaced_pod("team", label_selector="app=model")).items
    assert len(pods) == 1
    assert is_ready(pods[0])
    ready: V1Pod = pods[0]
    return ready


async def populate(url: str) -> dict[str, str]:
    """Create objects of each kind (and a CRD); return their resourceVersions by name."""
    async with client_for(url) as api:
        core, apps = CoreV1Api(api), AppsV1Api(api)
        await core.create_namespace(namespace("team"))
        made: list[Any] = [
            await core.create_namespaced_config_map("team", config_map("cfg", data={"a": "1"})),
            await core.create_namespaced_secret(
                "team", secret("token", data={"k": base64.b64encode(b"\x00\xff").decode()})
            ),
            await apps.create_namespaced_deployment("team", deployment("model", replicas=1)),
        ]
        await install(ApiextensionsV1Api(api))
        kept = await create_widget(CustomObjectsApi(api), widget("kept", replicas=3),
                                   ns="default")
        await eventually(lambda: one_ready_pod(core))
        versions = {m.metadata.name: m.metadata.resource_version for m in made}
        versions["kept"] = kept["metadata"]["resourceVersion"]
        return versions


async def test_restart_reloads_every_object(tmp_path: Path) -> None:
    """After a restart on the same state_dir, objects, CRDs and workloads are all back."""
    settings = LocalClusterSettings(state_dir=tmp_path / "state")
    async with LocalCluster.running(settings) as first:
        before = await populate(first.url)

    async with LocalCluster.running(settings) as second, client_for(second.url) as api:
        core, apps = CoreV1Api(api), AppsV1Api(api)
        cfg = await core.read_namespaced_config_map("cfg", "team")
        assert cfg.data == {"a": "1"}
        assert cfg.metadata.resource_version == before["cfg"]
        token = await core.read_namespaced_secret("token", "team")
        assert base64.b64decode(token.data["k"]) == b"\x00\xff"
        assert (await apps.read_namespaced_deployment("model", "team")).spec.replicas == 1
        await eventually(lambda: one_ready_pod(core))

        kept = await get_widget(CustomObjectsApi(api), "kept", ns="default")
        assert kept["spec"]["replicas"] == 3
        assert kept["metadata"]["resourceVersion"] == before["kept"]

        body = config_map("cfg", data={"a": "2"})
        body["metadata"]["resourceVersion"] = before["cfg"]
        updated = await core.replace_namespaced_config_map("cfg", "team", body)
        assert updated.metadata.resource_version not in before.values()


def copy_of(state: Path, copy: Path) -> LocalClusterSettings:
    """Settings over a fresh copy of ``state``, so a peeking cluster never writes into it."""
    assert state.is_dir(), "nothing written yet"
    shutil.copytree(state, copy, dirs_exist_ok=True)
    return LocalClusterSettings(state_dir=copy)


async def test_each_change_reaches_disk_while_running(tmp_path: Path) -> None:
    """A cluster started on a copy of a running cluster's state_dir soon sees its latest write."""
    state = tmp_path / "state"

    async def peek() -> dict[str, str]:
        settings = copy_of(state, tmp_path / "copy")
        async with LocalCluster.running(settings) as other, client_for(other.url) as api:
            seen = await CoreV1Api(api).read_namespaced_config_map("fresh", "default")
        data: dict[str, str] = seen.data
        return data

    async with (
        LocalCluster.running(LocalClusterSettings(state_dir=state)) as first,
        client_for(first.url) as api,
    ):
        await CoreV1Api(api).create_namespaced_config_map(
            "default", config_map("fresh", data={"written": "now"})
        )
        assert await eventually(peek, deadline=2.0) == {"written": "now"}
