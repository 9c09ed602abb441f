"""The API server's settings: one frozen :class:`ApiSettings` per process, from a mapping.

Every name has the ``MODEL_GATEWAY_`` prefix; the ones shared with the controller keep its
names (``NAMESPACE``, ``KUBERNETES_URL``, ``KUBECONFIG``, ``PUBLIC_URL``). The Kubernetes API
is found, in order: an explicit ``KUBERNETES_URL`` (the local cluster, ``kubectl proxy``), a
kubeconfig file (``KUBECONFIG``), the in-cluster service account.

Settings (``MODEL_GATEWAY_`` + name):

- ``API_HOST``, ``API_PORT``: where to listen (``127.0.0.1:8000``).
- ``API_PUBLIC_URL``: the API's public base URL; ``pods { logEndpoint }`` is
  ``<url>/logs/namespaces/<ns>/phdeployments/<pod>``.
- ``PUBLIC_URL``: the proxy's public base URL, for ``endpoint`` until the controller reports one.
- ``API_BOOTSTRAP_TOKEN``: the bootstrap admin token, either the plain token or a passlib hash
  of it (a value starting with ``$``); ``API_BOOTSTRAP_TOKEN_FILE``: a file holding that value
  instead (a mounted Secret); ``API_BOOTSTRAP_USERNAME``: whom it acts as (``admin``).
- ``API_TRUSTED_HEADER_SECRET``: accept ``X-Forwarded-User``/``X-Forwarded-Groups`` from a
  single sign-on proxy, only on requests carrying this value in ``API_TRUSTED_HEADER_NAME``
  (``X-Model-Gateway-Proxy-Secret``); ``API_TRUSTED_ADMIN_GROUP``: such a group's members are
  admins.
- ``API_GRAPHIQL``: serve GraphiQL on ``GET /graphql`` from a browser (``false``; dev mode
  turns it on). It is the offline build shipped with the console: nothing from other hosts.
- ``API_SESSION_TTL``: seconds a console sign-in session lasts (28800, 8 hours); it ends
  sooner when the API token it was exchanged for expires or is revoked.
- ``API_CONSOLE_DIR``: serve the console from this directory instead of the built copy
  inside the package (``gateway/console_dist``).
- ``API_CORS_ORIGINS``: console origins allowed to call the API from a browser, comma
  separated (``https://console.example.com``); none by default.
- ``API_MAX_DEPTH``, ``API_MAX_TOKENS``: query depth and size limits (12, 2000).
- ``API_MAX_REPLICAS``: the most replicas one deployment may ask for (20).
- ``API_DEFAULT_ENDPOINT_ACCESS``: the endpoint access type of a deployment created without
  one: ``private`` (the default: callers need a client token) or ``public`` (PrimeHub's
  default, for installs whose users rely on it).
- ``API_MODEL_URI_SCHEMES``: allowed model URI schemes, comma separated; each must be one
  the controller can build a pod for (unset: every one of those).
- Where models come from, read as the controller reads them (:mod:`gateway.sources`):
  ``CONTROLLER_STORAGE_INITIALIZERS``, ``PHFS_CLAIM``, ``PROTECTED_CLAIMS``,
  ``PROTECTED_SECRETS``.
- ``API_LICENSE_MAX_DEPLOY``: the licensed number of running deployments (unset: no limit;
  PrimeHub's 10% grace applies); ``API_LICENSE_EXPIRES``: an ISO date after which starting a
  deployment fails with ``LICENSE_ERROR``.
- ``API_HASH_SCHEME``: passlib scheme for new token hashes (``pbkdf2_sha256``).
- ``API_TOKEN_CACHE_TTL``: seconds a verified API token stays verified (10).
- ``API_TOKEN_USAGE_INTERVAL``: seconds between writes of API tokens' last use to Redis (5):
  ``apiTokens { lastUsedAt }`` is accurate to that, and a request never waits for Redis.
- ``API_CLIENT_IDLE_TIMEOUT``, ``_HEADER_TIMEOUT``, ``_BODY_TIMEOUT``, ``_BODY_MIN_RATE``: how
  slow a caller may be before its connection is closed (75 s, 10 s, 30 s, 4096 bytes/s; see
  :mod:`proxy.readdeadlines`).
- ``REDIS_URL`` [redis://127.0.0.1:6379/0], ``REDIS_PASSWORD``: the data plane's Redis, the
  names the controller and the proxy read. The API never writes the data plane there (only
  its audit records and API tokens' last use); a mutation that makes a client token usable
  (``createPhDeploymentClient``, a switch to ``private``) returns once the controller has
  published the token's hash there (read your writes for tokens).
- ``API_DATA_PLANE_WAIT``: the longest such a mutation waits for that publish before it
  fails with ``SERVICE_UNAVAILABLE`` (10 s).
- ``API_PROMOTE_DRAIN``: how long ``promotePhDeploymentPredictor`` lets requests already sent
  to the other predictors finish, once the proxies route everything to the promoted one,
  before it removes them (10 s; set it above the model's longest request).
- ``AUDIT_WINDOW``, ``AUDIT_STREAM_CAP``: how long ``auditEvents`` can find a record (604800 s,
  7 days) and the most records it keeps (100000); the proxy reads the same two. The API
  appends its audit records to that Redis stream; the log line of each record is the store
  of record (:mod:`proxy.audit`).
- ``API_TRUSTED_HOPS``: reverse proxies in front of the API whose ``X-Forwarded-For``
  entries are believed for the caller's address in audit records (0: the TCP peer).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from gateway.kube.phdeployments import ACCESS_TYPES, AccessType
from gateway.settings import HTTP_SCHEMES, SettingsReader, redacted_repr
from gateway.sources import Sources, read_sources
from proxy.audit import AuditSettings
from proxy.hashing import SUPPORTED_SCHEMES
from proxy.readdeadlines import ReadTimeouts, read_timeouts

_SECRET_FIELDS: Final = frozenset({"bootstrap_token", "trusted_header_secret", "signin_link",
                                   "redis_password"})
_ORIGIN: Final = re.compile(r"https?://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?")


@dataclass(frozen=True)
class SignInLink:
    """Dev mode's one-time console sign-in: ``code`` in the link signs in as ``token``."""

    code: str
    token: str


@dataclass(frozen=True)
class ApiSettings:
    """Everything one API process needs; every field has a usable default."""

    host: str = "127.0.0.1"
    port: int = 8000
    namespace: str = "default"
    kubernetes_url: str | None = None
    kubeconfig: str | None = None
    api_public_url: str = "http://127.0.0.1:8000"
    public_url: str | None = None
    bootstrap_token: str | None = field(default=None, repr=False)
    bootstrap_username: str = "admin"
    trusted_header_secret: str | None = field(default=None, repr=False)
    trusted_header_name: str = "X-Model-Gateway-Proxy-Secret"
    trusted_admin_group: str | None = None
    graphiql: bool = False
    cors_origins: frozenset[str] = frozenset()
    max_depth: int = 12
    max_tokens: int = 2000
    max_replicas: int = 20
    default_access_type: AccessType = "private"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_password: str | None = field(default=None, repr=False)
    data_plane_wait: float = 10.0
    promote_drain: float = 10.0
    token_usage_interval: float = 5.0
    model_uri_schemes: tuple[str, ...] | None = None  # None: every scheme of ``sources``
    sources: Sources = field(default_factory=Sources)
    license_max_deploy: int | None = None
    license_expires: datetime | None = None
    hash_scheme: str = "pbkdf2_sha256"
    token_cache_ttl: float = 10.0
    session_ttl: float = 8 * 3600.0
    console_dir: Path | None = None
    signin_link: SignInLink | None = field(default=None, repr=False)  # dev mode only
    client_timeouts: ReadTimeouts = field(default_factory=ReadTimeouts)
    audit: AuditSettings = field(default_factory=AuditSettings)
    trusted_hops: int = 0

    def __repr__(self) -> str:
        return redacted_repr(self, secrets=_SECRET_FIELDS)

    @property
    def accepted_schemes(self) -> tuple[str, ...]:
        """The model URI schemes a deployment may use."""
        return self.model_uri_schemes or self.sources.schemes

    @classmethod
    def from_env(cls, source: Mapping[str, str]) -> ApiSettings:
        """Read the ``MODEL_GATEWAY_*`` settings; one ``SettingsError`` names every bad one."""
        read = SettingsReader(source)
        defaults = cls()
        problems: list[str] = []
        sources = read_sources(read, problems)
        settings = cls(
            host=read.text("API_HOST", defaults.host),
            port=read.integer("API_PORT", defaults.port, minimum=0, maximum=65535),
            namespace=read.text("NAMESPACE", defaults.namespace),
            kubernetes_url=read.optional_url("KUBERNETES_URL", schemes=HTTP_SCHEMES),
            kubeconfig=read.optional_text("KUBECONFIG"),
            api_public_url=read.url("API_PUBLIC_URL", defaults.api_public_url,
                                    schemes=HTTP_SCHEMES),
            public_url=read.optional_url("PUBLIC_URL", schemes=HTTP_SCHEMES),
            bootstrap_token=_bootstrap_token(read, problems),
            bootstrap_username=read.text("API_BOOTSTRAP_USERNAME", defaults.bootstrap_username),
            trusted_header_secret=_trusted_secret(read, problems),
            trusted_header_name=read.text("API_TRUSTED_HEADER_NAME",
                                          defaults.trusted_header_name),
            trusted_admin_group=read.optional_text("API_TRUSTED_ADMIN_GROUP"),
            graphiql=read.boolean("API_GRAPHIQL", defaults.graphiql),
            cors_origins=_origins(read.optional_text("API_CORS_ORIGINS"), problems),
            max_depth=read.integer("API_MAX_DEPTH", defaults.max_depth, minimum=2, maximum=100),
            max_tokens=read.integer("API_MAX_TOKENS", defaults.max_tokens, minimum=50,
                                    maximum=1_000_000),
            max_replicas=read.integer("API_MAX_REPLICAS", defaults.max_replicas, minimum=1,
                                      maximum=10_000),
            default_access_type=_access_type(read),
            redis_url=read.redis_url("REDIS_URL", defaults.redis_url),
            redis_password=read.optional_text("REDIS_PASSWORD"),
            data_plane_wait=read.seconds("API_DATA_PLANE_WAIT", defaults.data_plane_wait,
                                         minimum=0.1, maximum=300),
            promote_drain=read.seconds("API_PROMOTE_DRAIN", defaults.promote_drain, minimum=0,
                                       maximum=600),
            token_usage_interval=read.seconds("API_TOKEN_USAGE_INTERVAL",
                                              defaults.token_usage_interval, minimum=0.05,
                                              maximum=300),
            model_uri_schemes=_schemes(read.optional_text("API_MODEL_URI_SCHEMES"), sources,
                                       problems),
            sources=sources,
            license_max_deploy=_optional_count(read, "API_LICENSE_MAX_DEPLOY"),
            license_expires=_date(read.optional_text("API_LICENSE_EXPIRES"), problems),
            hash_scheme=_choice(read.text("API_HASH_SCHEME", defaults.hash_scheme),
                                SUPPORTED_SCHEMES, "API_HASH_SCHEME", problems),
            token_cache_ttl=read.seconds("API_TOKEN_CACHE_TTL", defaults.token_cache_ttl,
                                         minimum=0.1, maximum=3600),
            session_ttl=read.seconds("API_SESSION_TTL", defaults.session_ttl, minimum=60,
                                     maximum=30 * 86400),
            console_dir=read.directory("API_CONSOLE_DIR"),
            client_timeouts=read_timeouts(read, "API"),
            audit=AuditSettings.read(read),
            trusted_hops=read.integer("API_TRUSTED_HOPS", defaults.trusted_hops, minimum=0,
                                      maximum=16),
        )
        read.finish(also=problems)
        return settings



def _access_type(read: SettingsReader) -> AccessType:
    value = read.choice("API_DEFAULT_ENDPOINT_ACCESS", "private", choices=ACCESS_TYPES)
    return "public" if value == "public" else "private"


def _optional_count(read: SettingsReader, name: str) -> int | None:
    if read.optional_text(name) is None:
        return None
    return read.integer(name, 0, minimum=0, maximum=1_000_000)


def _bootstrap_token(read: SettingsReader, problems: list[str]) -> str | None:
    inline = read.optional_text("API_BOOTSTRAP_TOKEN")
    path = read.optional_text("API_BOOTSTRAP_TOKEN_FILE")
    if inline and path:
        problems.append("MODEL_GATEWAY_API_BOOTSTRAP_TOKEN and _FILE: set one, not both")
        return None
    if path is None:
        return inline
    try:
        value = Path(path).expanduser().read_text().strip()
    except OSError as error:
        problems.append(f"MODEL_GATEWAY_API_BOOTSTRAP_TOKEN_FILE: cannot read {path!r}: "
                        f"{error.strerror}")
        return None
    if not value:
        problems.append(f"MODEL_GATEWAY_API_BOOTSTRAP_TOKEN_FILE: {path!r} is empty")
        return None
    return value


def _trusted_secret(read: SettingsReader, problems: list[str]) -> str | None:
    value = read.optional_text("API_TRUSTED_HEADER_SECRET")
    if value is not None and len(value) < 16:
        problems.append("MODEL_GATEWAY_API_TRUSTED_HEADER_SECRET: must be at least 16 "
                        "characters")
        return None
    return value


def _origins(raw: str | None, problems: list[str]) -> frozenset[str]:
    """Browser origins exactly as browsers send them: ``scheme://host[:port]``, lowercase."""
    found = [part.strip() for part in (raw or "").split(",") if part.strip()]
    bad = [origin for origin in found if not _ORIGIN.fullmatch(origin)]
    if bad:
        problems.append("MODEL_GATEWAY_API_CORS_ORIGINS: expected origins like "
                        f"https://console.example.com separated by commas, got {bad[0]!r}")
        return frozenset()
    return frozenset(found)


def _schemes(raw: str | None, sources: Sources,
             problems: list[str]) -> tuple[str, ...] | None:
    if raw is None:
        return None
    schemes = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    if not schemes or not all(scheme.isalnum() for scheme in schemes):
        problems.append("MODEL_GATEWAY_API_MODEL_URI_SCHEMES: expected URI schemes separated "
                        f"by commas, got {raw!r}")
        return None
    unbuildable = [scheme for scheme in schemes if scheme not in sources.schemes]
    if unbuildable:
        problems.append(f"MODEL_GATEWAY_API_MODEL_URI_SCHEMES: {', '.join(unbuildable)} cannot "
                        f"be deployed (supported: {', '.join(sources.schemes)}; phfs needs "
                        "MODEL_GATEWAY_PHFS_CLAIM, others a storage initializer)")
        return None
    return schemes


def _date(raw: str | None, problems: list[str]) -> datetime | None:
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        problems.append(f"MODEL_GATEWAY_API_LICENSE_EXPIRES: expected an ISO date, got {raw!r}")
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _choice(value: str, allowed: tuple[str, ...], name: str, problems: list[str]) -> str:
    if value not in allowed:
        problems.append(f"MODEL_GATEWAY_{name}: expected one of {', '.join(allowed)}, "
                        f"got {value!r}")
        return allowed[0]
    return value
