"""The proxy's settings: one frozen :class:`ProxySettings` per process, read from a mapping.

The reader (:mod:`proxy.environment`) is the product's one settings reader; it collects every
problem before raising, so an operator fixes a bad deployment in one round trip. Names share
the product's ``MODEL_GATEWAY_`` prefix; ``REDIS_URL`` and ``REDIS_PASSWORD`` are the names the
controller reads too, so one Secret configures both sides of the data plane.

``client_timeouts`` close connections whose callers are too slow (:mod:`proxy.readdeadlines`):
``PROXY_CLIENT_IDLE_TIMEOUT`` (75 s), ``_HEADER_TIMEOUT`` (10 s), ``_BODY_TIMEOUT`` (30 s) and
``_BODY_MIN_RATE`` (4096 bytes/s).

``audit`` is the audit trail's query window the proxy appends its records to
(``AUDIT_WINDOW``, ``AUDIT_STREAM_CAP``: names the API reads too, :mod:`proxy.audit`).

Autoscaling: ``PROXY_LOAD_REPORT_INTERVAL`` (1 s) is how often in-flight counts go to Redis
(:mod:`proxy.inflight`); a request for a predictor scaled to zero waits up to
``PROXY_WAKE_TIMEOUT`` (120 s) for a pod, and at most ``PROXY_WAKE_MAX_HELD`` (1000) requests
per process wait at once (:mod:`proxy.waking`); beyond either, 503 with ``Retry-After``.

The pepper keys the in-process cache of verified credentials. It never leaves the process, so
a random one per process (the default) is as good as a configured one; set it only to pin it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from proxy.audit import AuditSettings
from proxy.environment import SettingsReader, redacted_repr
from proxy.hashing import SUPPORTED_SCHEMES
from proxy.readdeadlines import ReadTimeouts, read_timeouts

PREFIX: Final = "MODEL_GATEWAY_"
MIB: Final = 1024 * 1024
MAX_WORKERS: Final = 256
_SECRET_FIELDS: Final = frozenset({"pepper", "redis_password"})


@dataclass(frozen=True)
class ProxySettings:
    """Everything one proxy process needs; ``repr`` redacts the secrets."""

    host: str = "127.0.0.1"
    port: int = 8080
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9090
    workers: int = 1
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_password: str | None = None
    redis_timeout: float = 0.5
    pepper: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    hash_scheme: str = "pbkdf2_sha256"
    hash_threads: int = 2
    cache_ttl: float = 30.0
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    upstream_idle_timeout: float = 1.5
    upstream_pool_size: int = 64
    body_limit: int = 10 * MIB
    failed_login_limit: int = 10
    failed_login_address_limit: int = 100
    failed_login_backoff_after: int = 20
    failed_login_backoff_max: float = 2.0
    failed_login_window: float = 300.0
    retry_after: int = 5
    trusted_hops: int = 0
    usage_flush_interval: float = 5.0
    load_report_interval: float = 1.0  # in-flight reports for the autoscaler
    wake_timeout: float = 120.0  # how long a request waits for a scaled-to-zero predictor
    wake_max_held: int = 1000  # requests one process holds while predictors wake
    shutdown_timeout: float = 30.0
    client_timeouts: ReadTimeouts = field(default_factory=ReadTimeouts)
    access_log: bool = True
    fast_path: bool = True
    audit: AuditSettings = field(default_factory=AuditSettings)

    def __repr__(self) -> str:
        return redacted_repr(self, secrets=_SECRET_FIELDS)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProxySettings:
        """Read every setting from ``env``; one :class:`SettingsError` names all bad ones."""
        read = SettingsReader(env, prefix=PREFIX)
        pepper_text = read.optional_text("PROXY_PEPPER")
        if pepper_text is not None and len(pepper_text) < 16:
            read.problem("PROXY_PEPPER", "must be at least 16 characters")
            pepper_text = None
        defaults = cls()
        settings = cls(
            host=read.text("PROXY_HOST", defaults.host),
            port=read.integer("PROXY_PORT", defaults.port, minimum=0, maximum=65535),
            metrics_host=read.text("PROXY_METRICS_HOST", defaults.metrics_host),
            metrics_port=read.integer("PROXY_METRICS_PORT", defaults.metrics_port,
                                      minimum=0, maximum=65535),
            workers=read.integer("PROXY_WORKERS", defaults.workers, minimum=1,
                                 maximum=MAX_WORKERS),
            redis_url=read.redis_url("REDIS_URL", defaults.redis_url),
            redis_password=read.optional_text("REDIS_PASSWORD"),
            redis_timeout=read.seconds("PROXY_REDIS_TIMEOUT", defaults.redis_timeout,
                                      minimum=0.01, maximum=60),
            pepper=pepper_text.encode() if pepper_text is not None else defaults.pepper,
            hash_scheme=read.choice("PROXY_HASH_SCHEME", defaults.hash_scheme,
                                    choices=SUPPORTED_SCHEMES),
            hash_threads=read.integer("PROXY_HASH_THREADS", defaults.hash_threads,
                                      minimum=1, maximum=64),
            cache_ttl=read.seconds("PROXY_CACHE_TTL", defaults.cache_ttl, minimum=0.1,
                                  maximum=3600),
            connect_timeout=read.seconds("PROXY_CONNECT_TIMEOUT", defaults.connect_timeout,
                                        minimum=0.01, maximum=600),
            read_timeout=read.seconds("PROXY_READ_TIMEOUT", defaults.read_timeout,
                                     minimum=0.01, maximum=3600),
            upstream_idle_timeout=read.seconds("PROXY_UPSTREAM_IDLE_TIMEOUT",
                                              defaults.upstream_idle_timeout,
                                              minimum=0.1, maximum=3600),
            upstream_pool_size=read.integer("PROXY_UPSTREAM_POOL_SIZE",
                                            defaults.upstream_pool_size, minimum=0,
                                            maximum=10_000),
            body_limit=read.integer("PROXY_BODY_LIMIT", defaults.body_limit, minimum=0,
                                    maximum=1 << 40),
            failed_login_limit=read.integer("PROXY_FAILED_LOGIN_LIMIT",
                                            defaults.failed_login_limit,
                                            minimum=1, maximum=1_000_000),
            failed_login_address_limit=read.integer("PROXY_FAILED_LOGIN_ADDRESS_LIMIT",
                                                    defaults.failed_login_address_limit,
                                                    minimum=1, maximum=1_000_000),
            failed_login_backoff_after=read.integer("PROXY_FAILED_LOGIN_BACKOFF_AFTER",
                                                    defaults.failed_login_backoff_after,
                                                    minimum=1, maximum=1_000_000),
            failed_login_backoff_max=read.seconds("PROXY_FAILED_LOGIN_BACKOFF_MAX",
                                                  defaults.failed_login_backoff_max,
                                                  minimum=0, maximum=60),
            failed_login_window=read.seconds("PROXY_FAILED_LOGIN_WINDOW",
                                            defaults.failed_login_window,
                                            minimum=1, maximum=86_400),
            retry_after=read.integer("PROXY_RETRY_AFTER", defaults.retry_after,
                                     minimum=1, maximum=3600),
            trusted_hops=read.integer("PROXY_TRUSTED_HOPS", defaults.trusted_hops,
                                      minimum=0, maximum=16),
            usage_flush_interval=read.seconds("PROXY_USAGE_FLUSH_INTERVAL",
                                             defaults.usage_flush_interval,
                                             minimum=0.05, maximum=3600),
            load_report_interval=read.seconds("PROXY_LOAD_REPORT_INTERVAL",
                                              defaults.load_report_interval,
                                              minimum=0.05, maximum=60),
            wake_timeout=read.seconds("PROXY_WAKE_TIMEOUT", defaults.wake_timeout,
                                      minimum=0.05, maximum=3600),
            wake_max_held=read.integer("PROXY_WAKE_MAX_HELD", defaults.wake_max_held,
                                       minimum=0, maximum=1_000_000),
            shutdown_timeout=read.seconds("PROXY_SHUTDOWN_TIMEOUT", defaults.shutdown_timeout,
                                         minimum=0, maximum=3600),
            client_timeouts=read_timeouts(read, "PROXY"),
            access_log=read.boolean("PROXY_ACCESS_LOG", defaults.access_log),
            fast_path=read.boolean("PROXY_FAST_PATH", defaults.fast_path),
            audit=AuditSettings.read(read),
        )
        if settings.failed_login_address_limit < settings.failed_login_limit:
            read.problem("PROXY_FAILED_LOGIN_ADDRESS_LIMIT",
                         "must be at least MODEL_GATEWAY_PROXY_FAILED_LOGIN_LIMIT "
                         f"({settings.failed_login_limit}), got "
                         f"{settings.failed_login_address_limit}")
        read.finish()
        return settings
