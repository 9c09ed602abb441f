"""The suite's own test CRD, ``widgets.tests.example.com`` (kind Widget), and its helpers.

Namespaced, with a status subresource and a schema that exercises what kube-apiserver enforces
for CRDs: a required field, integer bounds, an enum with a default, and a subtree marked
``x-kubernetes-preserve-unknown-fields`` (everything else unknown is pruned). The product's
CRDs live in the Helm chart; this one exists so the local cluster is tested on its own.
"""

from __future__ import annotations

from typing import Any

from kubekit import Manifest, eventually, meta
from kubernetes_asyncio.client import ApiextensionsV1Api, CustomObjectsApi

GROUP = "tests.example.com"
VERSION = "v1"
WIDGETS = "widgets"

WIDGET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": {"type": "string", "minLength": 1},
                "replicas": {"type": "integer", "minimum": 0, "maximum": 10},
                "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        },
        "status": {
            "type": "object",
            "properties": {"phase": {"type": "string"}, "replicas": {"type": "integer"}},
        },
    },
}


def crd(plural: str, kind: str, *, scope: str, schema: dict[str, Any], status: bool) -> Manifest:
    """A single-version CustomResourceDefinition in the test group."""
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": schema},
    }
    if status:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": meta(f"{plural}.{GROUP}"),
        "spec": {
            "group": GROUP,
            "scope": scope,
            "names": {
                "plural": plural,
                "singular": kind.lower(),
                "kind": kind,
                "listKind": f"{kind}List",
            },
            "versions": [version],
        },
    }


WIDGET_CRD = crd(WIDGETS, "Widget", scope="Namespaced", schema=WIDGET_SCHEMA, status=True)


async def install(extensions: ApiextensionsV1Api, body: Manifest = WIDGET_CRD) -> None:
    """Create a CRD and wait until it reports Established and NamesAccepted."""
    await extensions.create_custom_resource_definition(body)
    name = body["metadata"]["name"]

    async def established() -> None:
        read = await extensions.read_custom_resource_definition(name)
        conditions = {c.type: c.status for c in read.status.conditions or []}
        assert conditions.get("Established") == "True", conditions
        assert conditions.get("NamesAccepted") == "True", conditions

    await eventually(established)


def widget(name: str, **spec: Any) -> dict[str, Any]:
    """A Widget manifest; ``spec.image`` is set unless the caller deletes it."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": meta(name),
        "spec": {"image": "model:1", **spec},
    }


async def create_widget(
        custom: CustomObjectsApi, body: dict[str, Any], *, ns: str) -> dict[str, Any]:
    """Create a Widget in namespace ``ns``."""
    created: dict[str, Any] = await custom.create_namespaced_custom_object(
        GROUP, VERSION, ns, WIDGETS, body
    )
    return created


async def get_widget(custom: CustomObjectsApi, name: str, *, ns: str) -> dict[str, Any]:
    """Read a Widget from namespace ``ns``."""
    got: dict[str, Any] = await custom.get_namespaced_custom_object(
        GROUP, VERSION, ns, WIDGETS, name
    )
    return got
