"""Installing the chart's CRDs and rendered RBAC into the real control plane.

``helm template`` renders the chart with its defaults into the product tier's namespace; the
ServiceAccounts, Roles, RoleBindings (and any cluster-wide RBAC) it renders are applied, with
the CRDs from ``crds/``, by server-side apply as the test's admin, which is what
``helm template | kubectl apply --server-side`` does. The workloads the chart renders are not
applied: the tier runs the same processes outside the cluster, each authenticated as its own
chart ServiceAccount, so what the chart grants is exactly what they may do.
"""

from __future__ import annotations

import json
import time
import urllib.error
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from helm.chartkit import CHART, RELEASE, run_helm

from realcluster.controlplane import ControlPlane

_RBAC_KINDS: Final = {"ServiceAccount", "Role", "RoleBinding", "ClusterRole",
                      "ClusterRoleBinding"}
_PATHS: Final = {
    "CustomResourceDefinition": "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    "ServiceAccount": "/api/v1/namespaces/{namespace}/serviceaccounts",
    "Role": "/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles",
    "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings",
    "ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    "ClusterRoleBinding": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
}


@dataclass(frozen=True)
class Installed:
    """What the chart put in the cluster: the namespace and each component's ServiceAccount."""

    namespace: str
    service_accounts: dict[str, str]  # component -> ServiceAccount name
    rbac: list[dict[str, Any]]


def render_rbac(helm: Path, namespace: str) -> list[dict[str, Any]]:
    """The chart's RBAC objects, rendered with its default values into ``namespace``."""
    rendered = run_helm(helm, "template", RELEASE, str(CHART), "--namespace", namespace)
    return [doc for doc in yaml.safe_load_all(rendered)
            if isinstance(doc, dict) and doc.get("kind") in _RBAC_KINDS]


def apply(plane: ControlPlane, manifest: dict[str, Any], *, namespace: str) -> None:
    """Server-side apply one object as the admin (``kubectl apply --server-side``)."""
    path = _PATHS[manifest["kind"]].format(namespace=namespace)
    name = manifest["metadata"]["name"]
    plane.request("PATCH", f"{path}/{name}?fieldManager=model-gateway-tests&force=true",
                  manifest, content_type="application/apply-patch+yaml")


def install(plane: ControlPlane, helm: Path, namespace: str) -> Installed:
    """Create the namespace, apply the CRDs and the rendered RBAC, wait for the CRDs."""
    plane.request("POST", "/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    crds = [yaml.safe_load(path.read_text()) for path in sorted((CHART / "crds").glob("*.yaml"))]
    for crd in crds:
        apply(plane, crd, namespace=namespace)
    rbac = render_rbac(helm, namespace)
    for manifest in rbac:
        apply(plane, manifest, namespace=namespace)
    for crd in crds:
        _wait_established(plane, crd["metadata"]["name"])
    accounts = {doc["metadata"]["labels"]["app.kubernetes.io/component"]: doc["metadata"]["name"]
                for doc in rbac if doc["kind"] == "ServiceAccount"}
    return Installed(namespace=namespace, service_accounts=accounts, rbac=rbac)


def _wait_established(plane: ControlPlane, name: str) -> None:
    path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
    give_up = time.monotonic() + 60
    while True:
        conditions = (plane.request("GET", path).get("status") or {}).get("conditions") or []
        if {"type": "Established", "status": "True"} in [
                {"type": c.get("type"), "status": c.get("status")} for c in conditions]:
            return
        if time.monotonic() > give_up:
            raise AssertionError(f"CRD {name} not established: {json.dumps(conditions)}")
        time.sleep(0.1)


def token_for(plane: ControlPlane, namespace: str, account: str) -> str:
    """A TokenRequest token for the ServiceAccount (an hour; audience: the apiserver)."""
    try:
        issued = plane.request(
            "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
             "spec": {"expirationSeconds": 3600}})
    except urllib.error.HTTPError as error:
        raise AssertionError(f"TokenRequest for {namespace}/{account} failed: "
                             f"{error.read().decode(errors='replace')}") from error
    token: str = issued["status"]["token"]
    return token
