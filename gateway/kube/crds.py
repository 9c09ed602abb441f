"""The product's CustomResourceDefinitions, and installing them into a cluster.

The YAML lives once, in ``helm/model-gateway/crds/`` (Helm installs it from there); the
package reaches the same files through the ``definitions`` link, which the wheel ships as
package data. Dev mode and tests install them with :func:`install`; production clusters get
them from the chart.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from gateway.kube.client import CRDS, Kube
from gateway.kube.errors import AlreadyExists


def definitions() -> list[dict[str, Any]]:
    """Every CRD the product needs, parsed, in file-name order."""
    folder = resources.files("gateway.kube") / "definitions"
    found = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".yaml")),
                   key=lambda entry: entry.name)
    return [yaml.safe_load(entry.read_text()) for entry in found]


async def install(kube: Kube) -> None:
    """Create each CRD, or replace it with this version's definition (idempotent)."""
    for crd in definitions():
        name = crd["metadata"]["name"]
        try:
            await kube.create(CRDS, namespace=None, body=crd)
        except AlreadyExists:
            current = await kube.get(CRDS, namespace=None, name=name)
            body = {**crd, "metadata": {**crd["metadata"],
                                        "resourceVersion": current["metadata"]["resourceVersion"]}}
            await kube.replace(CRDS, namespace=None, name=name, body=body)
