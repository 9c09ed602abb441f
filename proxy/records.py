"""The data plane's Redis records: the one definition the proxy and the controller share.

The controller (``gateway/controller/``) publishes; the proxy reads. Keys:

=========================================  ======  =============================================
key                                        type    content
=========================================  ======  =============================================
``mg:epoch``                               string  set by every full resync (see below)
``mg:routes``                              hash    deployment id -> route JSON (encode_route)
``mg:clients:<deployment id>``             hash    client name -> credential (encode_credential)
``mg:events`` (pub/sub channel)            --      event JSON (:func:`encode_event`)
``mg:hash-upgrades``                       hash    ``<deployment id>/<client>`` -> upgrade JSON
``mg:usage:<deployment id>:<client>``      hash    ``requests`` (count), ``last_used`` (unix s)
``mg:failed:pair:<id>:<client>:<address>`` string  failed logins of one client from one address
``mg:failed:client:<id>:<client>``         string  failed logins of one client, every address
``mg:failed:address:<address>``            string  failed logins from one source address
``mg:audit``                               stream  the audit trail's query window (proxy.audit)
``mg:streak:<kind>:<subject>``             string  a refusal streak in progress (proxy.audit)
``mg:load-reporters``                      zset    proxy id -> unix s of its last load report
``mg:load:<proxy id>``                     hash    ``<id>@<predictor>`` -> load (encode_load);
                                                   expires :data:`LOAD_TTL_PERIODS` periods
                                                   after the proxy's last report
``mg:wakes``                               stream  wake requests: ``target`` =
                                                   ``<id>@<predictor>`` (capped length)
=========================================  ======  =============================================

Load and wakes (autoscaling, :mod:`proxy.inflight`, :mod:`proxy.waking`): every proxy process
reports, once per period, for each predictor it served, the average number of requests it had
in flight over the period and how many it admitted; the controller sums the reports of the
reporters seen recently. A proxy that dies stops reporting, and its hash expires. A request
the proxy admitted (credentials checked) for a predictor scaled to zero (``wakeable``) adds a
wake request to ``mg:wakes``; the controller reads the stream and starts a pod.

The failure counters expire a window after their first failure; what they limit is described
in :mod:`proxy.loginlimits`.

The epoch: a full resync writes ``mg:epoch`` in the same transaction as everything else, and
nothing else writes it. Its absence therefore means Redis lost its data (``FLUSHALL``, a
restart without persistence, a failover to an empty replica) since the last resync: the data
plane is incomplete. The controller watches for that and resyncs at once; until the key is
back, the proxy keeps what it knew and treats what it cannot find as "cannot verify now"
(503), never as "does not exist" (401, 404), and counts no failed logins.

Writes that belong together (a route and its full credential set; a full resync) happen in
one MULTI/EXEC, followed in the same transaction by an event, so a reader that reloads on an
event never sees half a change (see :mod:`proxy.publishing`).

Events: ``{"v": 1, "kind": "deployment", "id": ...}`` says "the route and credentials of this
deployment may have changed: reload them"; ``{"v": 1, "kind": "resync"}`` says "everything may
have changed". Events carry no data, so a lost or reordered event costs nothing but staleness,
which the proxy's cache TTL bounds.

Hash upgrades: the proxy verifies a legacy ``$apr1$`` hash, computes its replacement, but
cannot write the clients Secret (it holds no Kubernetes credentials). It records the request
under ``mg:hash-upgrades``; the controller applies ``new_hash`` to the Secret only if the
Secret still holds ``old_hash`` (a token replaced in the meantime must not be resurrected),
then deletes the field if it is unchanged.

Credentials: a client's value is its passlib hash string when the token never expires (the
original format, still what most clients have), else a credential JSON record listing its
hashes, each with the unix time it stops working (``{"v": 1, "keys": [{"hash": ...,
"expires": 1700000000.0}]}``, ``expires`` null for never). A passlib hash never starts with
``{``, so the two cannot be confused. The proxy accepts a token that matches a key not yet
past its expiry, and answers "expired" for one that matches only expired keys.

Routes (the value of a ``mg:routes`` field; the field is the deployment id)::

    {"v": 1,
     "host": "10.0.0.5", "port": 80,       the primary predictor's upstream (what old readers use)
     "access": "private", "stopped": false,
     "ready": true,                         every predictor with weight > 0 is ready
     "sticky": false,                       one client always reaches the same predictor
     "predictors": [                        primary first
       {"name": "predictor1", "host": "10.0.0.5", "port": 80,
        "weight": 90,                       integer 0..100; the list's weights sum to 100
        "ready": true,                      this predictor has an available pod
        "wakeable": false},                 scaled to zero by the autoscaler (issue 16)
       ...]}

``sticky``, ``predictors`` and ``wakeable`` are additions to the first route shape, which had
only ``host``, ``port``, ``access``, ``stopped`` and ``ready``: a reader of that shape keeps
working against a new publisher (it sends everything to the primary at ``host``/``port``),
and a record without ``predictors`` means one predictor, :data:`PRIMARY` (PrimeHub's
``predictor1``), at ``host``/``port`` with weight 100 and the route's readiness; without
``sticky``, not sticky; without ``wakeable``, not wakeable. :class:`Route` fills in the same
default when built without predictors, so code that knows only one upstream keeps building
routes as before. Predictor names follow :data:`PREDICTOR_NAME` and are unique in a route;
the first predictor is at the route's ``host``/``port``. Fields a decoder does not know are
ignored (the shape only ever grows, and an older proxy must keep reading a newer record);
a known field of the wrong type or value is a :class:`RecordError`, and so is encoding a
route that breaks these rules.

Route, credential and upgrade JSON carry a version ``v``; decoders reject versions they do
not know with :class:`RecordError` rather than guess.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

VERSION: Final = 1
EPOCH_KEY: Final = "mg:epoch"
ROUTES_KEY: Final = "mg:routes"
EVENTS_CHANNEL: Final = "mg:events"
HASH_UPGRADES_KEY: Final = "mg:hash-upgrades"
USAGE_REQUESTS_FIELD: Final = "requests"
USAGE_LAST_USED_FIELD: Final = "last_used"
PRIMARY: Final = "predictor1"  # PrimeHub's name for a deployment's only predictor
PREDICTOR_NAME: Final = re.compile(r"[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?")  # use fullmatch
TOTAL_WEIGHT: Final = 100
AUDIT_STREAM_KEY: Final = "mg:audit"
LOAD_REPORTERS_KEY: Final = "mg:load-reporters"
WAKES_KEY: Final = "mg:wakes"
WAKES_MAX_LENGTH: Final = 10_000  # approximate cap of the wake stream (XADD MAXLEN ~)
LOAD_TTL_PERIODS: Final = 3
_LOAD: Final = re.compile(r"(\d{1,9}(?:\.\d{1,6})?) (\d{1,12})")
_PROXY_ID: Final = re.compile(r"[0-9a-f]{32}")


class RecordError(ValueError):
    """A record in Redis does not have the published shape."""


class Access(Enum):
    """Who may call a deployment: anyone, or clients with a token."""

    PUBLIC = "public"
    PRIVATE = "private"


@dataclass(frozen=True, slots=True)
class Upstream:
    """One predictor of a deployment: its Service, its share of the traffic, its readiness."""

    name: str
    host: str
    port: int
    weight: int
    ready: bool
    wakeable: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    """Where one deployment's traffic goes and whether it may go there now.

    ``host``, ``port`` and ``ready`` describe the whole deployment as the first route shape
    did; ``predictors`` (primary first) is where traffic really goes. Built without
    predictors, a route has one: :data:`PRIMARY` at ``host``/``port``, weight 100.
    """

    deployment_id: str
    host: str
    port: int
    access: Access
    stopped: bool
    ready: bool
    predictors: tuple[Upstream, ...] = ()
    sticky: bool = False

    def __post_init__(self) -> None:
        if not self.predictors:
            object.__setattr__(self, "predictors", (
                Upstream(PRIMARY, self.host, self.port, TOTAL_WEIGHT, self.ready),))


@dataclass(frozen=True, slots=True)
class CredentialKey:
    """One hash a client's token may match, and when it stops working (unix s; None: never)."""

    hash: str
    expires: float | None = None


@dataclass(frozen=True, slots=True)
class DeploymentChanged:
    """The route or credential set of one deployment was written or removed."""

    deployment_id: str


@dataclass(frozen=True, slots=True)
class Resynced:
    """Everything was replaced at once (controller start, periodic resync)."""


Event = DeploymentChanged | Resynced


@dataclass(frozen=True, slots=True)
class HashUpgrade:
    """A proxy's request to replace a client's legacy hash by one of the default scheme."""

    deployment_id: str
    client: str
    old_hash: str
    new_hash: str


def clients_key(deployment_id: str) -> str:
    return f"mg:clients:{deployment_id}"


def usage_key(deployment_id: str, client: str) -> str:
    return f"mg:usage:{deployment_id}:{client}"


def failed_pair_key(deployment_id: str, client: str, address: str) -> str:
    """Neither deployment ids nor basic-auth client names contain ``:``; addresses may."""
    return f"mg:failed:pair:{deployment_id}:{client}:{address}"


def failed_client_key(deployment_id: str, client: str) -> str:
    return f"mg:failed:client:{deployment_id}:{client}"


def failed_address_key(address: str) -> str:
    return f"mg:failed:address:{address}"


def streak_key(kind: str, *parts: str) -> str:
    """A refusal streak of ``kind`` (``expired``, ``apitoken``) for one subject."""
    return ":".join(("mg:streak", kind, *parts))


def hash_upgrade_field(deployment_id: str, client: str) -> str:
    """Deployment ids never contain ``/``, so the first ``/`` separates the two."""
    return f"{deployment_id}/{client}"


def _load(raw: str | bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise RecordError(f"{what} is not JSON") from error
    if not isinstance(value, dict):
        raise RecordError(f"{what} is not a JSON object")
    if value.get("v") != VERSION:
        raise RecordError(f"{what} has unknown version {value.get('v')!r}")
    return value


def _field(value: dict[str, Any], name: str, kind: type, what: str) -> Any:
    item = value.get(name)
    # bool is a subclass of int: a port of ``true`` is not a port.
    if not isinstance(item, kind) or (kind is int and isinstance(item, bool)):
        raise RecordError(f"{what}: {name!r} must be a {kind.__name__}")
    return item


def _address(host: str, port: int, what: str) -> None:
    if not host or not 0 < port < 65536:
        raise RecordError(f"{what}: bad upstream address {host!r}:{port}")


def check_route(route: Route) -> None:
    """Raise :class:`RecordError` unless the route keeps the rules of the module docstring."""
    what = f"route {route.deployment_id!r}"
    _address(route.host, route.port, what)
    names: set[str] = set()
    for predictor in route.predictors:
        if not PREDICTOR_NAME.fullmatch(predictor.name):
            raise RecordError(f"{what}: {predictor.name!r} is not a predictor name")
        if predictor.name in names:
            raise RecordError(f"{what}: predictor {predictor.name!r} appears twice")
        names.add(predictor.name)
        _address(predictor.host, predictor.port, f"{what}, predictor {predictor.name!r}")
        if not 0 <= predictor.weight <= TOTAL_WEIGHT:
            raise RecordError(f"{what}: predictor {predictor.name!r} has weight "
                              f"{predictor.weight} (0 to {TOTAL_WEIGHT})")
    total = sum(predictor.weight for predictor in route.predictors)
    if total != TOTAL_WEIGHT:
        raise RecordError(f"{what}: predictor weights sum to {total}, not {TOTAL_WEIGHT}")
    primary = route.predictors[0]
    if (primary.host, primary.port) != (route.host, route.port):
        raise RecordError(f"{what}: the first predictor is not at the route's host and port")


def encode_route(route: Route) -> str:
    check_route(route)
    return json.dumps({
        "v": VERSION, "host": route.host, "port": route.port, "access": route.access.value,
        "stopped": route.stopped, "ready": route.ready, "sticky": route.sticky,
        "predictors": [
            {"name": predictor.name, "host": predictor.host, "port": predictor.port,
             "weight": predictor.weight, "ready": predictor.ready,
             "wakeable": predictor.wakeable}
            for predictor in route.predictors],
    }, separators=(",", ":"))


def _predictor(value: object, what: str) -> Upstream:
    if not isinstance(value, dict):
        raise RecordError(f"{what}: each predictor must be an object")
    wakeable = value.get("wakeable", False)
    if not isinstance(wakeable, bool):
        raise RecordError(f"{what}: 'wakeable' must be a bool")
    return Upstream(name=_field(value, "name", str, what), host=_field(value, "host", str, what),
                    port=_field(value, "port", int, what),
                    weight=_field(value, "weight", int, what),
                    ready=_field(value, "ready", bool, what), wakeable=wakeable)


def decode_route(deployment_id: str, raw: str | bytes) -> Route:
    what = f"route {deployment_id!r}"
    value = _load(raw, what)
    try:
        access = Access(value.get("access"))
    except ValueError as error:
        raise RecordError(f"{what}: 'access' must be public or private") from error
    sticky = value.get("sticky", False)
    if not isinstance(sticky, bool):
        raise RecordError(f"{what}: 'sticky' must be a bool")
    listed = value.get("predictors")
    if listed is not None and (not isinstance(listed, list) or not listed):
        raise RecordError(f"{what}: 'predictors' must be a non-empty list")
    route = Route(deployment_id=deployment_id, host=_field(value, "host", str, what),
                  port=_field(value, "port", int, what), access=access,
                  stopped=_field(value, "stopped", bool, what),
                  ready=_field(value, "ready", bool, what),
                  predictors=tuple(_predictor(item, what) for item in listed or ()),
                  sticky=sticky)
    check_route(route)
    return route


def encode_event(event: Event) -> str:
    if isinstance(event, DeploymentChanged):
        body: dict[str, Any] = {"v": VERSION, "kind": "deployment", "id": event.deployment_id}
    else:
        body = {"v": VERSION, "kind": "resync"}
    return json.dumps(body, separators=(",", ":"))


def decode_event(raw: str | bytes) -> Event:
    value = _load(raw, "event")
    kind = value.get("kind")
    if kind == "deployment":
        return DeploymentChanged(_field(value, "id", str, "event"))
    if kind == "resync":
        return Resynced()
    raise RecordError(f"event has unknown kind {kind!r}")


def encode_hash_upgrade(upgrade: HashUpgrade) -> str:
    return json.dumps({
        "v": VERSION, "deployment": upgrade.deployment_id, "client": upgrade.client,
        "old": upgrade.old_hash, "new": upgrade.new_hash,
    }, separators=(",", ":"))


def decode_hash_upgrade(raw: str | bytes) -> HashUpgrade:
    what = "hash upgrade"
    value = _load(raw, what)
    return HashUpgrade(deployment_id=_field(value, "deployment", str, what),
                       client=_field(value, "client", str, what),
                       old_hash=_field(value, "old", str, what),
                       new_hash=_field(value, "new", str, what))


def encode_credential(keys: tuple[CredentialKey, ...]) -> str:
    """A client's value in ``mg:clients:<id>``: the bare hash when that is all there is."""
    if len(keys) == 1 and keys[0].expires is None:
        return keys[0].hash
    return json.dumps({"v": VERSION, "keys": [
        {"hash": key.hash, "expires": key.expires} for key in keys]}, separators=(",", ":"))


def decode_credential(raw: str | bytes) -> tuple[CredentialKey, ...]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    if not text.startswith("{"):
        return (CredentialKey(text),)
    what = "credential"
    keys = _load(text, what).get("keys")
    if not isinstance(keys, list) or not keys:
        raise RecordError(f"{what}: 'keys' must be a non-empty list")
    decoded: list[CredentialKey] = []
    for key in keys:
        if not isinstance(key, dict):
            raise RecordError(f"{what}: each key must be an object")
        expires = key.get("expires")
        if expires is not None and (not isinstance(expires, int | float)
                                    or isinstance(expires, bool)):
            raise RecordError(f"{what}: 'expires' must be a number or null")
        decoded.append(CredentialKey(_field(key, "hash", str, what),
                                     None if expires is None else float(expires)))
    return tuple(decoded)


# -- load and wakes (issue 16) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Load:
    """One period of one predictor at one proxy: mean requests in flight, requests admitted."""

    concurrency: float
    requests: int


def load_key(proxy_id: str) -> str:
    if not _PROXY_ID.fullmatch(proxy_id):
        raise RecordError(f"proxy id {proxy_id[:40]!r} is not 32 hex digits")
    return f"mg:load:{proxy_id}"


def target(deployment_id: str, predictor: str) -> str:
    """The field naming one predictor: ids are DNS labels, so ``@`` cannot clash."""
    return f"{deployment_id}@{predictor}"


def split_target(value: str) -> tuple[str, str]:
    """``(deployment id, predictor)`` of a :func:`target`; :class:`RecordError` if malformed."""
    deployment_id, at, predictor = value.partition("@")
    if not at or not deployment_id or not PREDICTOR_NAME.fullmatch(predictor) \
            or "@" in deployment_id or ":" in deployment_id:
        raise RecordError(f"target {value[:80]!r} is not <deployment id>@<predictor>")
    return deployment_id, predictor


def encode_load(load: Load) -> str:
    if load.concurrency < 0 or load.requests < 0:
        raise RecordError("load must not be negative")
    return f"{load.concurrency:.3f} {load.requests}"


def decode_load(raw: str | bytes) -> Load:
    text = raw.decode() if isinstance(raw, bytes) else raw
    found = _LOAD.fullmatch(text)
    if found is None:
        raise RecordError(f"load {text[:40]!r} is not '<concurrency> <requests>'")
    return Load(float(found[1]), int(found[2]))
