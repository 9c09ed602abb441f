"""The clients Secret of a deployment: ``deploy-<id>-clients``, client name -> token hash.

The store of record for client credentials (design.md, "Storage decisions"): one key per
client, its value a passlib hash string (never a plain token). The Secret is owned by the
PhDeployment, so deleting the deployment deletes the hashes; the controller reads it and
publishes the hashes to Redis for the proxy. Client *names* live in the PhDeployment's
``spec.endpoint.clients`` so that history shows them; hashes never do.

Beside each hash, its client's details (:class:`ClientDetails`: when and by whom it was
created, when its token expires) are kept in one annotation, JSON keyed by client name. They
are written in the same update as the hash, so a token and its expiry never disagree, and the
controller publishes them together. The annotation holds no secret.

Rotation keeps the replaced hash under ``<client>.previous`` (client names never contain
``.``) with its end, ``previousExpiresAt``, in the details: both tokens work until then. A
later write of the client (create, rotate, delete) drops it; until then the proxy refuses it
by its expiry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from gateway.kube import secretdata, views
from gateway.kube.client import SECRETS, Kube, Object
from gateway.kube.errors import AlreadyExists, NotFound
from gateway.kube.phdeployments import DEPLOYMENT_LABEL, PHDEPLOYMENTS, PhDeployment
from gateway.kube.writing import modify

PURPOSE_LABEL: Final = "model-gateway.io/secret"
PURPOSE: Final = "deployment-clients"
SELECTOR: Final = f"{PURPOSE_LABEL}={PURPOSE}"
DETAILS_ANNOTATION: Final = "model-gateway.io/clients"
PREVIOUS_SUFFIX: Final = ".previous"


def secret_name(deployment_id: str) -> str:
    return f"deploy-{deployment_id}-clients"


@dataclass(frozen=True)
class ClientDetails:
    """What is known about a client besides its hash; times are ISO 8601 with a zone."""

    created_at: str | None = None
    created_by: str | None = None
    expires_at: str | None = None  # None: the token never expires
    rotated_at: str | None = None
    previous_expires_at: str | None = None  # when the token replaced by rotation stops

    def expires(self) -> float | None:
        """The expiry as unix seconds (what the proxy compares with its clock)."""
        return _unix(self.expires_at)

    def previous_expires(self) -> float | None:
        return _unix(self.previous_expires_at)

    def as_json(self) -> dict[str, str | None]:
        return {"createdAt": self.created_at, "createdBy": self.created_by,
                "expiresAt": self.expires_at, "rotatedAt": self.rotated_at,
                "previousExpiresAt": self.previous_expires_at}


def _unix(moment: str | None) -> float | None:
    return None if moment is None else datetime.fromisoformat(moment).timestamp()


@dataclass(frozen=True)
class ClientHashes:
    """One deployment's client credentials as stored."""

    deployment_id: str
    hashes: Mapping[str, str] = field(default_factory=dict, repr=False)
    details: Mapping[str, ClientDetails] = field(default_factory=dict)
    previous: Mapping[str, str] = field(default_factory=dict, repr=False)  # rotated out


def _text(item: Mapping[str, Any], key: str, where: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise views.MalformedObject(f"{where}.{key}: expected a string")
    return value


def _details(raw: str, where: str) -> dict[str, ClientDetails]:
    try:
        value = json.loads(raw)
    except ValueError as error:
        raise views.MalformedObject(f"{where}: not JSON") from error
    if not isinstance(value, dict):
        raise views.MalformedObject(f"{where}: expected an object")
    details: dict[str, ClientDetails] = {}
    for client, item in value.items():
        if not isinstance(item, dict):
            raise views.MalformedObject(f"{where}.{client}: expected an object")
        at = f"{where}.{client}"
        found = ClientDetails(created_at=_text(item, "createdAt", at),
                              created_by=_text(item, "createdBy", at),
                              expires_at=_text(item, "expiresAt", at),
                              rotated_at=_text(item, "rotatedAt", at),
                              previous_expires_at=_text(item, "previousExpiresAt", at))
        try:
            found.expires()
            found.previous_expires()
        except ValueError as error:
            raise views.MalformedObject(f"{at}: an expiry is not a time") from error
        details[client] = found
    return details


def details_of(secret: Mapping[str, Any]) -> dict[str, ClientDetails]:
    """The clients' details a Secret's annotation holds (none: an empty mapping)."""
    annotations = views.metadata(secret).get("annotations") or {}
    raw = annotations.get(DETAILS_ANNOTATION) if isinstance(annotations, dict) else None
    where = f"metadata.annotations.{DETAILS_ANNOTATION}"
    return _details(raw, where) if isinstance(raw, str) else {}


def parse(secret: Mapping[str, Any]) -> ClientHashes:
    """The view of a clients Secret; the deployment id comes from its label."""
    meta = views.metadata(secret)
    labels = meta.get("labels") or {}
    deployment_id = labels.get(DEPLOYMENT_LABEL) if isinstance(labels, dict) else None
    if not isinstance(deployment_id, str) or not deployment_id:
        raise views.MalformedObject(f"metadata.labels.{DEPLOYMENT_LABEL}: missing")
    data = secretdata.decode(secret)
    return ClientHashes(
        deployment_id=deployment_id,
        hashes={key: value for key, value in data.items() if "." not in key},
        details=details_of(secret),
        previous={key.removesuffix(PREVIOUS_SUFFIX): value for key, value in data.items()
                  if key.endswith(PREVIOUS_SUFFIX)})


def _with_details(secret: Object, client: str, details: ClientDetails | None) -> None:
    """Set (``None``: remove) ``client``'s entry in the details annotation of ``secret``."""
    meta = secret.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    known = {name: item.as_json() for name, item in details_of(secret).items()}
    if details is None:
        known.pop(client, None)
    else:
        known[client] = details.as_json()
    if known:
        annotations[DETAILS_ANNOTATION] = json.dumps(known, sort_keys=True,
                                                     separators=(",", ":"))
    else:
        annotations.pop(DETAILS_ANNOTATION, None)
    meta["annotations"] = annotations


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


async def put_client(kube: Kube, *, deployment: PhDeployment, client: str, hash_: str,
                     details: ClientDetails | None = None) -> Object:
    """Store ``client``'s hash and details, replacing any earlier ones; creates the Secret if
    needed. Returns the Secret as written."""

    def apply(secret: Object) -> Object:
        data = {**(secret.get("data") or {}), **secretdata.encode({client: hash_})}
        data.pop(client + PREVIOUS_SUFFIX, None)  # a new token, not a rotation
        secret["data"] = data
        _with_details(secret, client, details or ClientDetails())
        return secret

    namespace = deployment.namespace
    try:
        return await modify(kube, SECRETS, namespace=namespace,
                            name=secret_name(deployment.name), change=apply)
    except NotFound:
        pass
    try:
        return await kube.create(SECRETS, namespace=namespace,
                                 body=apply(manifest(deployment=deployment, hashes={})))
    except AlreadyExists:  # created concurrently: add to it instead
        return await modify(kube, SECRETS, namespace=namespace,
                            name=secret_name(deployment.name), change=apply)


async def hashes(kube: Kube, *, namespace: str, deployment_id: str) -> dict[str, str]:
    """Every client's current hash of a deployment (none when it has no clients Secret)."""
    try:
        secret = await kube.get(SECRETS, namespace=namespace, name=secret_name(deployment_id))
    except NotFound:
        return {}
    return dict(parse(secret).hashes)


async def remove_client(kube: Kube, *, namespace: str, deployment_id: str, client: str) -> None:
    """Forget ``client``'s hash (nothing to do when it or the Secret is already gone)."""

    def apply(secret: Object) -> Object | None:
        data = dict(secret.get("data") or {})
        if client not in data and client not in details_of(secret):
            return None
        data.pop(client, None)
        data.pop(client + PREVIOUS_SUFFIX, None)
        secret["data"] = data
        _with_details(secret, client, None)
        return secret

    try:
        await modify(kube, SECRETS, namespace=namespace, name=secret_name(deployment_id),
                     change=apply)
    except NotFound:
        return


class NoSuchClient(LookupError):
    """Rotation of a client whose hash the Secret does not hold."""


async def rotate_client(kube: Kube, *, namespace: str, deployment_id: str, client: str,
                        hash_: str, rotated_at: str, overlap_ends: str) -> Object:
    """Make ``hash_`` the client's hash and keep the one it replaces until ``overlap_ends``
    (an earlier rotation's leftover goes); one update, so both are published together."""

    def apply(secret: Object) -> Object:
        data = dict(secret.get("data") or {})
        if client not in data:
            raise NoSuchClient(client)
        data[client + PREVIOUS_SUFFIX] = data[client]
        data.update(secretdata.encode({client: hash_}))
        secret["data"] = data
        details = details_of(secret).get(client) or ClientDetails()
        _with_details(secret, client, replace(details, rotated_at=rotated_at,
                                              previous_expires_at=overlap_ends))
        return secret

    try:
        return await modify(kube, SECRETS, namespace=namespace,
                            name=secret_name(deployment_id), change=apply)
    except NotFound as error:
        raise NoSuchClient(client) from error
