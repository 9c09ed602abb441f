"""The data plane in Redis: what the controller publishes for the proxy, and when.

:func:`entry` is the pure part: a deployment's route (upstream = its primary's Service's
cluster IP and port, access type, stopped, ready, sticky, and every predictor with its
Service's address, share and readiness) and, for a private deployment, the credential hashes of the
clients that are both named in the spec and hashed in the clients Secret (a client that is
only half created or half deleted cannot log in), each with its token's expiry, so the proxy
refuses an expired token without asking anyone. The record shapes, keys and the pub/sub
event belong to :mod:`proxy.records` and :mod:`proxy.publishing`; this module never writes
Redis any other way.

:class:`Publisher` is the I/O part. It skips a publish identical to the last one it made, and
serialises publishes with full resyncs under one lock, with the resync's snapshot taken inside
the lock: a resync can therefore never overwrite a newer per-deployment publish with an older
snapshot. After a resync its memory of what Redis holds is exactly the snapshot, so a
deployment deleted while the controller was away is withdrawn by the resync itself.

Predictors: the primary is at the route's ``host``/``port`` and ``ready`` is the primary's
readiness, so a proxy that reads only those keeps serving the primary. Another predictor is
listed once its Service has an address; until then its share stays with the primary, and so
does every share when the spec's shares do not sum to 100 (a hand-edited resource: the
status says so). A predictor is ready when it has an available pod and can run.

Every resync writes the epoch (see :mod:`proxy.records`); :meth:`Publisher.intact` asks
whether it is still there. The controller polls that every ``epoch_period`` and resyncs when
it is gone, so a flushed or restarted-empty Redis is whole again within about that period.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from redis.asyncio import Redis

from gateway.kube.phdeployments import PhDeployment
from proxy import publishing
from proxy.records import TOTAL_WEIGHT, Access, CredentialKey, Route, Upstream, encode_credential

Entry = tuple[Route, Mapping[str, str]]


@dataclass(frozen=True)
class Live:
    """One predictor's live Service and Deployment, and whether its spec can run."""

    service: Mapping[str, Any] | None
    child: Mapping[str, Any] | None
    healthy: bool = True


def shares(deployment: PhDeployment) -> dict[str, int]:
    """The shares to route by: the spec's, or all to the primary when they are not 100."""
    weights = deployment.spec.weights()
    if sum(weights.values()) == TOTAL_WEIGHT:
        return weights
    primary = deployment.spec.predictor.name
    return {name: TOTAL_WEIGHT if name == primary else 0 for name in weights}


def _address(service: Mapping[str, Any] | None) -> tuple[str, int] | None:
    spec = (service or {}).get("spec") or {}
    address = spec.get("clusterIP")
    ports = spec.get("ports") or []
    if not address or address == "None" or not ports or not ports[0].get("port"):
        return None
    return str(address), int(ports[0]["port"])


def _available(child: Mapping[str, Any] | None) -> int:
    return int(((child or {}).get("status") or {}).get("availableReplicas") or 0)


def entry(deployment: PhDeployment, *, service: Mapping[str, Any] | None,
          child: Mapping[str, Any] | None, hashes: Mapping[str, str],
          healthy: bool, expiries: Mapping[str, float | None] | None = None,
          previous: Mapping[str, tuple[str, float]] | None = None,
          others: Mapping[str, Live] | None = None,
          wakeable: Collection[str] = (), sleeping: Collection[str] = ()) -> Entry | None:
    """What the proxy needs for ``deployment``; ``None`` until its primary's Service has an
    address (``service``, ``child``: the primary's; ``others``: the other predictors', by
    name).

    ``expiries``: client -> unix time its token stops working (absent or None: never).
    ``previous``: client -> (hash, end of overlap) of the token a rotation replaced; it works
    until then (and never past the client's own expiry).

    ``healthy`` is False when the deployment cannot run (a configuration problem): it is then
    routed as not ready, whatever pods are left. ``wakeable``: the predictors the autoscaler
    may scale to zero, which a request the proxy admits wakes (never when unhealthy);
    ``sleeping``: those it decided to scale to zero, routed as not ready from then on.
    """
    place = _address(service)
    if place is None:
        return None
    stopped = deployment.spec.stop
    access = Access(deployment.spec.endpoint.access_type)
    credentials = {} if access is Access.PUBLIC else {
        name: encode_credential(_keys(hashes[name], (expiries or {}).get(name),
                                      (previous or {}).get(name)))
        for name in sorted(deployment.spec.endpoint.clients) if name in hashes}
    weights = shares(deployment)
    primary = deployment.spec.predictor
    ready = healthy and not stopped and _available(child) > 0 and primary.name not in sleeping
    asleep = frozenset(wakeable) if healthy and not stopped else frozenset()
    upstreams = [Upstream(primary.name, place[0], place[1], weights[primary.name], ready,
                          wakeable=primary.name in asleep)]
    for predictor in deployment.spec.others:
        live = (others or {}).get(predictor.name)
        found = _address(live.service) if live is not None else None
        if live is None or found is None:
            upstreams[0] = replace(upstreams[0],
                                   weight=upstreams[0].weight + weights[predictor.name])
            continue
        upstreams.append(Upstream(predictor.name, found[0], found[1], weights[predictor.name],
                                  live.healthy and not stopped and _available(live.child) > 0
                                  and predictor.name not in sleeping,
                                  wakeable=live.healthy and predictor.name in asleep))
    route = Route(deployment_id=deployment.name, host=place[0], port=place[1],
                  access=access, stopped=stopped, ready=ready, predictors=tuple(upstreams),
                  sticky=deployment.spec.sticky)
    return route, credentials


def _keys(hash_: str, expires: float | None,
          previous: tuple[str, float] | None) -> tuple[CredentialKey, ...]:
    current = CredentialKey(hash_, expires)
    if previous is None:
        return (current,)
    old_hash, overlap_ends = previous
    return current, CredentialKey(old_hash, overlap_ends if expires is None
                                  else min(overlap_ends, expires))


class Publisher:
    """Publishes routes and credentials, deduplicated, consistent with full resyncs."""

    def __init__(self, redis: Redis, *, on_write: Callable[[str], None],
                 identity: str = "controller") -> None:
        self._redis = redis
        self._on_write = on_write
        self._epoch = f"{identity}/{uuid.uuid4().hex}"
        self._lock = asyncio.Lock()
        self._published: dict[str, Entry] = {}

    async def intact(self) -> bool:
        """Whether Redis still holds the epoch of a full resync (it has lost nothing since)."""
        return await publishing.data_plane_complete(self._redis)

    async def publish(self, deployment_id: str, wanted: Entry | None) -> None:
        """Make Redis hold ``wanted`` for the deployment (``None``: no route at all)."""
        async with self._lock:
            if wanted is None:
                if deployment_id not in self._published:
                    return
                await publishing.withdraw_deployment(self._redis, deployment_id=deployment_id)
                del self._published[deployment_id]
                self._on_write("withdraw")
                return
            if self._published.get(deployment_id) == wanted:
                return
            route, credentials = wanted
            await publishing.publish_deployment(self._redis, route=route,
                                                credentials=credentials)
            self._published[deployment_id] = (route, dict(credentials))
            self._on_write("publish")

    async def resync(self, snapshot: Callable[[], Iterable[Entry]]) -> int:
        """Replace everything in Redis by ``snapshot()`` (taken under the lock); the count."""
        async with self._lock:
            entries: dict[str, Entry] = {route.deployment_id: (route, dict(credentials))
                                         for route, credentials in snapshot()}
            await publishing.replace_everything(self._redis, deployments=entries.values(),
                                                epoch=self._epoch)
            self._published = entries
            self._on_write("resync")
            return len(entries)
