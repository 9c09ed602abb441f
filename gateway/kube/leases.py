"""Lease (``coordination.k8s.io/v1``): typed view and the writes leader election makes.

A Lease records who holds a lock (``holderIdentity``), for how long a holder that stops
renewing keeps it (``leaseDurationSeconds``), and when it was acquired and last renewed
(``MicroTime``: RFC 3339 with microseconds). Writes are conditional on the resourceVersion
read, so two candidates racing for an expired lease cannot both win: the loser gets
:class:`~gateway.kube.errors.Conflict` (or :class:`~gateway.kube.errors.AlreadyExists` when
both try to create it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.kube.client import LEASES, Kube, Object
from gateway.kube.errors import NotFound


@dataclass(frozen=True)
class LeaseRecord:
    """The lock state a Lease carries (``holder`` empty: released)."""

    holder: str
    duration_seconds: int
    acquire_time: str | None = None
    renew_time: str | None = None
    transitions: int = 0


@dataclass(frozen=True)
class StoredLease:
    record: LeaseRecord
    resource_version: str


def micro_time(moment: datetime) -> str:
    """``moment`` as a Kubernetes ``MicroTime``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def duration_seconds(seconds: float) -> int:
    """A lease duration as the whole seconds the field holds (never rounded down to 0)."""
    return max(1, math.ceil(seconds))


def parse(obj: Object) -> StoredLease:
    spec: dict[str, Any] = obj.get("spec") or {}
    transitions = spec.get("leaseTransitions")
    duration = spec.get("leaseDurationSeconds")
    return StoredLease(
        record=LeaseRecord(
            holder=str(spec.get("holderIdentity") or ""),
            duration_seconds=duration if isinstance(duration, int) else 0,
            acquire_time=spec.get("acquireTime"),
            renew_time=spec.get("renewTime"),
            transitions=transitions if isinstance(transitions, int) else 0),
        resource_version=str(obj["metadata"].get("resourceVersion") or ""))


def _body(*, namespace: str, name: str, record: LeaseRecord,
          resource_version: str | None) -> Object:
    metadata: Object = {"name": name, "namespace": namespace}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    spec: Object = {"holderIdentity": record.holder,
                    "leaseDurationSeconds": record.duration_seconds,
                    "leaseTransitions": record.transitions}
    if record.acquire_time:
        spec["acquireTime"] = record.acquire_time
    if record.renew_time:
        spec["renewTime"] = record.renew_time
    return {"apiVersion": LEASES.api_version, "kind": LEASES.kind, "metadata": metadata,
            "spec": spec}


async def read(kube: Kube, *, namespace: str, name: str) -> StoredLease | None:
    """The lease, or ``None`` when it does not exist yet."""
    try:
        return parse(await kube.get(LEASES, namespace=namespace, name=name))
    except NotFound:
        return None


async def create(kube: Kube, *, namespace: str, name: str, record: LeaseRecord) -> StoredLease:
    """Create the lease holding ``record``; ``AlreadyExists`` if someone was first."""
    body = _body(namespace=namespace, name=name, record=record, resource_version=None)
    return parse(await kube.create(LEASES, namespace=namespace, body=body))


async def replace(kube: Kube, *, namespace: str, name: str, record: LeaseRecord,
                  resource_version: str) -> StoredLease:
    """Write ``record`` if the lease is still at ``resource_version``; ``Conflict`` if not."""
    body = _body(namespace=namespace, name=name, record=record,
                 resource_version=resource_version)
    return parse(await kube.replace(LEASES, namespace=namespace, name=name, body=body))
