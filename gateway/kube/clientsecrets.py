"""The clients Secret of a deployment: ``deploy-<id>-clients``, client name -> token hash.

The store of record for client credentials (design.md, "Storage decisions"): one key per
client, its value a passlib hash string (never a plain token). The Secret is owned by the
PhDeployment, so deleting the deployment deletes the hashes; the controller reads it and
publishes the hashes to Redis for the proxy. Client *names* live in the PhDeployment's
``spec.endpoint.clients`` so that history shows them; hashes never do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.kube import secretdata, views
from gateway.kube.client import SECRETS, Kube, Object
from gateway.kube.errors import AlreadyExists, NotFound
from gateway.kube.phdeployments import DEPLOYMENT_LABEL, PHDEPLOYMENTS, PhDeployment
from gateway.kube.writing import modify

PURPOSE_LABEL: Final = "model-gateway.io/secret"
PURPOSE: Final = "deployment-clients"
SELECTOR: Final = f"{PURPOSE_LABEL}={PURPOSE}"


def secret_name(deployment_id: str) -> str:
    return f"deploy-{deployment_id}-clients"


@dataclass(frozen=True)
class ClientHashes:
    """One deployment's client credentials as stored."""

    deployment_id: str
    hashes: Mapping[str, str] = field(default_factory=dict, repr=False)


def parse(secret: Mapping[str, Any]) -> ClientHashes:
    """The view of a clients Secret; the deployment id comes from its label."""
    meta = views.metadata(secret)
    labels = meta.get("labels") or {}
    deployment_id = labels.get(DEPLOYMENT_LABEL) if isinstance(labels, dict) else None
    if not isinstance(deployment_id, str) or not deployment_id:
        raise views.MalformedObject(f"metadata.labels.{DEPLOYMENT_LABEL}: missing")
    return ClientHashes(deployment_id=deployment_id, hashes=secretdata.decode(secret))


def manifest(*, deployment: PhDeployment, hashes: Mapping[str, str]) -> Object:
    """A clients Secret owned by ``deployment`` (garbage-collected with it)."""
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {
            "name": secret_name(deployment.name), "namespace": deployment.namespace,
            "labels": {PURPOSE_LABEL: PURPOSE, DEPLOYMENT_LABEL: deployment.name},
            "ownerReferences": [{
                "apiVersion": PHDEPLOYMENTS.api_version, "kind": PHDEPLOYMENTS.kind,
                "name": deployment.name, "uid": deployment.uid, "blockOwnerDeletion": True,
            }],
        },
        "data": secretdata.encode(hashes),
    }


async def put_client(kube: Kube, *, deployment: PhDeployment, client: str,
                     hash_: str) -> None:
    """Store ``client``'s hash, replacing any earlier one; creates the Secret if needed."""

    def apply(secret: Object) -> Object:
        secret["data"] = {**(secret.get("data") or {}), **secretdata.encode({client: hash_})}
        return secret

    namespace = deployment.namespace
    try:
        await modify(kube, SECRETS, namespace=namespace, name=secret_name(deployment.name),
                     change=apply)
        return
    except NotFound:
        pass
    try:
        await kube.create(SECRETS, namespace=namespace,
                          body=manifest(deployment=deployment, hashes={client: hash_}))
    except AlreadyExists:  # created concurrently: add to it instead
        await modify(kube, SECRETS, namespace=namespace, name=secret_name(deployment.name),
                     change=apply)


async def remove_client(kube: Kube, *, namespace: str, deployment_id: str, client: str) -> None:
    """Forget ``client``'s hash (nothing to do when it or the Secret is already gone)."""

    def apply(secret: Object) -> Object | None:
        data = dict(secret.get("data") or {})
        if client not in data:
            return None
        del data[client]
        secret["data"] = data
        return secret

    try:
        await modify(kube, SECRETS, namespace=namespace, name=secret_name(deployment_id),
                     change=apply)
    except NotFound:
        return
