"""kubectl works against the local cluster: ``get pods`` and ``apply -f`` (create, then update).

kubectl runs as a subprocess of the event loop that serves the cluster, so it is awaited with
asyncio; it gets an empty HOME and KUBECONFIG so nothing from the machine leaks in.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubekit import config_map, deployment, pod
from kubernetes_asyncio.client import AppsV1Api, CoreV1Api

from gateway.localcluster import LocalCluster

KUBECTL = Path("/usr/bin/kubectl")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty HOME for kubectl; fails (never skips) the test when kubectl is missing."""
    if not KUBECTL.exists():
        pytest.fail(f"kubectl is required at {KUBECTL} (it is installed on every dev machine)")
    return tmp_path


async def kubectl(cluster: LocalCluster, home: Path, *args: str) -> str:
    """Run kubectl against the cluster; fail the test unless it exits 0; return its stdout."""
    process = await asyncio.create_subprocess_exec(
        str(KUBECTL), f"--server={cluster.url}", *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": os.environ["PATH"], "HOME": str(home), "KUBECONFIG": str(home / "none")},
    )
    async with asyncio.timeout(30):
        out, err = await process.communicate()
    assert process.returncode == 0, f"kubectl {' '.join(args)}: {err.decode()}"
    return out.decode()


def manifest(path: Path, data: dict[str, str]) -> Path:
    documents: list[dict[str, Any]] = [
        config_map("applied", data=data),
        deployment("applied", replicas=1),
    ]
    path.write_text(yaml.safe_dump_all(documents))
    return path


async def test_kubectl_get_pods(
        cluster: LocalCluster, core: CoreV1Api, home: Path, ns: str) -> None:
    """`kubectl --server=<url> get pods -n default` lists the cluster's pods."""
    await core.create_namespaced_pod(ns, pod("listed-by-kubectl"))
    out = await kubectl(cluster, home, "get", "pods", "-n", ns)
    assert out.splitlines()[0].split()[0] == "NAME"
    assert "listed-by-kubectl" in out


async def test_kubectl_apply_creates_then_configures(
    cluster: LocalCluster, core: CoreV1Api, apps: AppsV1Api, home: Path, ns: str
) -> None:
    """`kubectl apply -f` creates the objects, then updates only what changed."""
    out = await kubectl(
        cluster, home, "apply", "-n", ns,
        "-f", str(manifest(home / "v1.yaml", {"mode": "fast"})),
    )
    assert "configmap/applied created" in out
    assert "deployment.apps/applied created" in out
    created = await core.read_namespaced_config_map("applied", ns)
    assert created.data == {"mode": "fast"}
    assert LAST_APPLIED in created.metadata.annotations
    assert (await apps.read_namespaced_deployment("applied", ns)).spec.replicas == 1

    out = await kubectl(
        cluster, home, "apply", "-n", ns,
        "-f", str(manifest(home / "v2.yaml", {"mode": "slow"})),
    )
    assert "configmap/applied configured" in out
    assert "deployment.apps/applied unchanged" in out
    updated = await core.read_namespaced_config_map("applied", ns)
    assert updated.data == {"mode": "slow"}


async def test_kubectl_get_prints_the_server_side_columns(
    cluster: LocalCluster, apps: AppsV1Api, home: Path, ns: str
) -> None:
    """`kubectl get` shows the Table columns a real API server prints for each kind."""
    await apps.create_namespaced_deployment(ns, deployment("printed", replicas=1))
    out = await kubectl(cluster, home, "get", "deployments", "-n", ns)
    assert out.splitlines()[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    pods = await kubectl(cluster, home, "get", "pods", "-n", ns)
    assert pods.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
