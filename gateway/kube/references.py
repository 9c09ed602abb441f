"""What a deployment refers to in its namespace, and whether its group may: one allow-list.

A deployment's pod can mount a PersistentVolumeClaim (``pvc://<claim>/<path>``), pull its
image with a Secret (``imagePullSecret``) and give its storage initializer a Secret's keys as
environment (``modelURISecret``). Each is a reference to something else in the namespace, so
each is allowed only when an admin assigned that name to the deployment's group (the group's
``claims``, ``imagePullSecrets``, ``storageSecrets``), and never when it is one of the
product's own: the names in :class:`Protected` (the chart fills in Redis's claim and its own
Secrets) and every Secret holding our credentials (clients Secrets, API token Secrets).

The API refuses such a deployment with ``BAD_USER_INPUT`` naming the field; the controller
checks again on every reconcile, so an assignment an admin takes back stops the deployment
(``Failed`` with the reason) instead of leaving the pod with access it no longer has.
``phfs://`` is not a reference of the group's choosing: it is the platform's file-system claim,
mounted at the group's own directory only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlsplit

from gateway.kube.groups import GroupSpec
from gateway.kube.phdeployments import Predictor

Kind = Literal["claim", "imagePullSecret", "storageSecret"]
_OWN_SECRETS: Final = re.compile(r"deploy-.+-clients|api-token-.+")
_LIST: Final[dict[Kind, str]] = {"claim": "claims", "imagePullSecret": "imagePullSecrets",
                                 "storageSecret": "storageSecrets"}


@dataclass(frozen=True)
class Reference:
    kind: Kind
    name: str
    field: str
    """The spec (and GraphQL) field that names it."""


@dataclass(frozen=True)
class Protected:
    """Names no group may ever be given: the product's own claims and Secrets."""

    claims: frozenset[str] = frozenset()
    secrets: frozenset[str] = frozenset()

    def covers(self, kind: Kind, name: str) -> bool:
        if kind == "claim":
            return name in self.claims
        return name in self.secrets or _OWN_SECRETS.fullmatch(name) is not None


def claim_of(model_uri: str | None) -> str | None:
    """The claim a ``pvc://<claim>/<path>`` model URI mounts (``None`` for other URIs)."""
    if not model_uri:
        return None
    parts = urlsplit(model_uri)
    return parts.netloc or None if parts.scheme.lower() == "pvc" else None


def of(predictor: Predictor) -> tuple[Reference, ...]:
    """Everything ``predictor`` refers to, each with the field naming it."""
    found: list[Reference] = []
    claim = claim_of(predictor.model_uri)
    if claim:
        found.append(Reference("claim", claim, "modelURI"))
    if predictor.image_pull_secret:
        found.append(Reference("imagePullSecret", predictor.image_pull_secret,
                               "imagePullSecret"))
    if predictor.model_uri_secret:
        found.append(Reference("storageSecret", predictor.model_uri_secret, "modelURISecret"))
    return tuple(found)


def allowed(group: GroupSpec, kind: Kind) -> tuple[str, ...]:
    """The names of ``kind`` an admin assigned to ``group``."""
    if kind == "claim":
        return group.claims
    return group.image_pull_secrets if kind == "imagePullSecret" else group.storage_secrets


def refusal(reference: Reference, *, group_name: str, group: GroupSpec,
            protected: Protected) -> str | None:
    """Why ``reference`` is not allowed for the group (``None``: it is)."""
    noun = "claim" if reference.kind == "claim" else "Secret"
    if protected.covers(reference.kind, reference.name):
        return f'{noun} "{reference.name}" belongs to model-gateway itself and is never ' \
            "available to deployments"
    if reference.name not in allowed(group, reference.kind):
        return f'{noun} "{reference.name}" is not assigned to group "{group_name}" (an admin ' \
            f"adds it to the group's {_LIST[reference.kind]})"
    return None


def first_refusal(predictor: Predictor, *, group_name: str, group: GroupSpec,
                  protected: Protected) -> tuple[Reference, str] | None:
    """The first reference of ``predictor`` the group may not use, with the reason."""
    for reference in of(predictor):
        reason = refusal(reference, group_name=group_name, group=group, protected=protected)
        if reason is not None:
            return reference, reason
    return None
