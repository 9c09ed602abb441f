"""API tokens at rest: one labelled Secret per token, holding its hash and its grant.

A token Secret is named ``api-token-<token id>`` and labelled ``model-gateway.io/secret=
api-token`` so the API can watch exactly these. Its data: ``hash`` (passlib), ``username``,
``admin`` (``true``/``false``), ``expires`` (RFC 3339 UTC, absent = never), ``created``, and
optionally ``description``, ``createdBy`` (who issued it), ``scopes`` (comma separated, see
:mod:`gateway.scopes`; absent = its user's full rights, as every token issued before scopes
existed), and after a rotation ``rotated`` with ``previousHash`` and ``previousExpires``: the
replaced token's hash, accepted beside the new one until its overlap ends. Revoking a token
deletes its Secret; every API replica's watch cache sees the deletion and stops accepting the
token.

A console sign-in session is a short-lived token of the same kind (``sessionOf`` names the API
token it was exchanged for, or ``bootstrap``): so every API replica knows every session through
the same watch, signing out or revoking is deleting a Secret, and revoking the API token a
session came from ends the session too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from gateway import scopes as scope_names
from gateway.kube import secretdata, views
from gateway.kube.client import SECRETS, Kube, Object
from gateway.kube.views import MalformedObject

PURPOSE_LABEL: Final = "model-gateway.io/secret"
PURPOSE: Final = "api-token"
SELECTOR: Final = f"{PURPOSE_LABEL}={PURPOSE}"
_NAME_PREFIX: Final = "api-token-"


def secret_name(token_id: str) -> str:
    return f"{_NAME_PREFIX}{token_id}"


@dataclass(frozen=True)
class ApiToken:
    """One issued token's grant; ``hash`` stays out of ``repr``."""

    id: str
    username: str
    admin: bool
    created: datetime
    expires: datetime | None = None
    description: str | None = None
    hash: str = field(default="", repr=False)
    resource_version: str = ""
    session_of: str | None = None  # a console session: the token it was exchanged for
    scopes: frozenset[str] | None = None  # None: stored without, its user's full rights
    created_by: str | None = None
    rotated: datetime | None = None
    previous_hash: str = field(default="", repr=False)  # the rotated-out token's, in overlap
    previous_expires: datetime | None = None

    @property
    def session(self) -> bool:
        return self.session_of is not None

    @property
    def granted(self) -> frozenset[str]:
        """The token's scopes, the default of :mod:`gateway.scopes` when it names none."""
        return self.scopes if self.scopes is not None else scope_names.default(
            admin=self.admin)

    def previous_valid(self, now: datetime) -> bool:
        """Whether the token replaced by the last rotation is still in its overlap."""
        return bool(self.previous_hash) and self.previous_expires is not None and \
            now < self.previous_expires

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires


def parse(secret: Mapping[str, Any]) -> ApiToken:
    """The view of a token Secret; raises :class:`MalformedObject` naming the field."""
    meta = views.metadata(secret)
    name: str = meta["name"]
    if not name.startswith(_NAME_PREFIX):
        raise MalformedObject(f"metadata.name: {name!r} is not an API token Secret")
    data = secretdata.decode(secret)
    for required in ("hash", "username"):
        if not data.get(required):
            raise MalformedObject(f"data.{required}: missing")
    return ApiToken(id=name.removeprefix(_NAME_PREFIX), username=data["username"],
                    admin=data.get("admin") == "true",
                    created=_time(data.get("created"), "created") or datetime.fromtimestamp(
                        0, UTC),
                    expires=_time(data.get("expires"), "expires"),
                    description=data.get("description") or None, hash=data["hash"],
                    resource_version=str(meta.get("resourceVersion") or ""),
                    session_of=data.get("sessionOf") or None,
                    scopes=_scopes(data.get("scopes")),
                    created_by=data.get("createdBy") or None,
                    rotated=_time(data.get("rotated"), "rotated"),
                    previous_hash=data.get("previousHash") or "",
                    previous_expires=_time(data.get("previousExpires"), "previousExpires"))


def _scopes(value: str | None) -> frozenset[str] | None:
    if value is None:
        return None
    try:
        return scope_names.parse(part for part in value.split(",") if part)
    except scope_names.UnknownScope as error:
        raise MalformedObject(f"data.scopes: {error}") from error


def _time(value: str | None, key: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise MalformedObject(f"data.{key}: not an RFC 3339 time") from error
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def manifest(*, namespace: str, token: ApiToken) -> Object:
    values = {"hash": token.hash, "username": token.username,
              "admin": "true" if token.admin else "false", "created": _format(token.created)}
    if token.expires is not None:
        values["expires"] = _format(token.expires)
    if token.description:
        values["description"] = token.description
    if token.session_of:
        values["sessionOf"] = token.session_of
    if token.scopes is not None:
        values["scopes"] = ",".join(scope_names.listed(token.scopes))
    if token.created_by:
        values["createdBy"] = token.created_by
    if token.rotated is not None:
        values["rotated"] = _format(token.rotated)
    if token.previous_hash and token.previous_expires is not None:
        values["previousHash"] = token.previous_hash
        values["previousExpires"] = _format(token.previous_expires)
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": secret_name(token.id), "namespace": namespace,
                         "labels": {PURPOSE_LABEL: PURPOSE}},
            "data": secretdata.encode(values)}


async def create(kube: Kube, *, namespace: str, token: ApiToken) -> ApiToken:
    return parse(await kube.create(SECRETS, namespace=namespace,
                                   body=manifest(namespace=namespace, token=token)))


async def delete(kube: Kube, *, namespace: str, token_id: str) -> None:
    """Revoke: NotFound when there is no such token."""
    await kube.delete(SECRETS, namespace=namespace, name=secret_name(token_id))


async def replace(kube: Kube, *, namespace: str, token: ApiToken) -> ApiToken:
    """Write ``token`` over its Secret, only if the Secret is still at
    ``token.resource_version`` (``Conflict`` otherwise: somebody changed it meanwhile)."""
    body = manifest(namespace=namespace, token=token)
    body["metadata"]["resourceVersion"] = token.resource_version
    return parse(await kube.replace(SECRETS, namespace=namespace, name=secret_name(token.id),
                                    body=body))
