"""The typed GraphQL context: who is asking, and the services resolvers use.

:class:`Services` is built once per process by the server (the module mounting the schema);
:class:`Context` adds the caller, a request id and the caller's address for each request.
Resolvers take ``info: Info`` and read ``info.context``; they never reach into the HTTP
request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from passlib.context import CryptContext
from strawberry.types import Info as StrawberryInfo

from gateway.api.auditwindow import AuditWindow
from gateway.api.auth import Principal
from gateway.api.dataplane import DataPlane
from gateway.api.settings import ApiSettings
from gateway.api.store import Store
from gateway.kube.client import Kube
from proxy.audit import AuditTrail
from schema.locking import KeyedLocks


@dataclass(frozen=True)
class Services:
    """Process-wide: the caches, the Kubernetes client, settings, hashing, locks, the data
    plane (to confirm a token is verifiable before returning it) and the audit trail (written
    by :mod:`schema.auditing`, read through its window by ``auditEvents``)."""

    store: Store
    kube: Kube
    settings: ApiSettings
    hashing: CryptContext
    locks: KeyedLocks
    clock: Callable[[], datetime]
    data_plane: DataPlane
    audit: AuditTrail
    audit_window: AuditWindow

    @property
    def namespace(self) -> str:
        return self.settings.namespace


@dataclass(frozen=True)
class Context:
    """One request's: ``principal`` is the caller (``None``: anonymous), with the acting API
    token's id and scopes (``principal.token_id``, ``principal.granted``); ``refused`` says
    why a genuine credential was turned away (it expired), for the error the caller gets."""

    services: Services
    principal: Principal | None
    request_id: str
    refused: str | None = None
    address: str = ""  # the caller's address, for the audit trail


Info: TypeAlias = StrawberryInfo[Context, None]
