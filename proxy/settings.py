"""The proxy's settings: one frozen :class:`ProxySettings` per process, read from a mapping.

The proxy may not import ``gateway`` (import-linter forbids it), so it carries its own small
reader instead of reusing ``gateway.settings``. The reader collects every problem before
raising, so an operator fixes a bad deployment in one round trip. Names share the product's
``MODEL_GATEWAY_`` prefix; ``REDIS_URL`` and ``REDIS_PASSWORD`` are the names the controller
reads too, so one Secret configures both sides of the data plane.

The pepper keys the in-process cache of verified credentials. It never leaves the process, so
a random one per process (the default) is as good as a configured one; set it only to pin it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from proxy.hashing import SUPPORTED_SCHEMES

PREFIX: Final = "MODEL_GATEWAY_"
MIB: Final = 1024 * 1024
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})
_SECRET_FIELDS: Final = frozenset({"pepper", "redis_password"})
_REDACTED: Final = "<redacted>"


def _without_password(url: str) -> str:
    """``url`` with any password replaced, so a URL-embedded secret never reaches a log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{_REDACTED}@{host}"))


class ProxySettingsError(ValueError):
    """One or more proxy settings are invalid; ``problems`` names each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid proxy settings:\n  " + "\n  ".join(self.problems))


class _Reader:
    """Typed values out of a string mapping; bad values fall back to the default and are noted."""

    def __init__(self, source: Mapping[str, str]) -> None:
        self._source = source
        self.problems: list[str] = []

    def _raw(self, name: str) -> str | None:
        value = self._source.get(PREFIX + name, "").strip()
        return value or None

    def _bad(self, name: str, message: str) -> None:
        self.problems.append(f"{PREFIX}{name}: {message}")

    def text(self, name: str, default: str) -> str:
        return self._raw(name) or default

    def optional_text(self, name: str) -> str | None:
        return self._raw(name)

    def number(self, name: str, default: float, *, minimum: float, maximum: float,
               whole: bool = False) -> float:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw) if whole else float(raw)
        except ValueError:
            self._bad(name, f"expected {'a whole number' if whole else 'a number'}, got {raw!r}")
            return default
        if not minimum <= value <= maximum:
            self._bad(name, f"must be between {minimum:g} and {maximum:g}, got {raw}")
            return default
        return value

    def integer(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        return int(self.number(name, default, minimum=minimum, maximum=maximum, whole=True))

    def boolean(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        self._bad(name, f"expected true or false, got {raw!r}")
        return default

    def choice(self, name: str, default: str, *, choices: tuple[str, ...]) -> str:
        raw = self._raw(name)
        if raw is None:
            return default
        if raw not in choices:
            self._bad(name, f"expected one of {', '.join(choices)}, got {raw!r}")
            return default
        return raw

    def redis_url(self, name: str, default: str) -> str:
        raw = self._raw(name)
        if raw is None:
            return default
        parts = urlsplit(raw)
        if parts.scheme not in {"redis", "rediss", "unix"} or not (parts.netloc or parts.path):
            self._bad(name, f"expected a redis://, rediss:// or unix:// URL, got {raw!r}")
            return default
        return raw


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
    failed_login_window: float = 300.0
    retry_after: int = 5
    trusted_hops: int = 0
    usage_flush_interval: float = 5.0
    shutdown_timeout: float = 30.0
    access_log: bool = True

    def __repr__(self) -> str:
        shown = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in _SECRET_FIELDS and value is not None:
                value = _REDACTED
            elif item.name == "redis_url":
                value = _without_password(value)
            shown.append(f"{item.name}={value!r}")
        return f"ProxySettings({', '.join(shown)})"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ProxySettings:
        """Read every setting from ``env``; one :class:`ProxySettingsError` names all bad ones."""
        read = _Reader(env)
        pepper_text = read.optional_text("PROXY_PEPPER")
        if pepper_text is not None and len(pepper_text) < 16:
            read.problems.append(f"{PREFIX}PROXY_PEPPER: must be at least 16 characters")
            pepper_text = None
        defaults = cls()
        settings = cls(
            host=read.text("PROXY_HOST", defaults.host),
            port=read.integer("PROXY_PORT", defaults.port, minimum=0, maximum=65535),
            metrics_host=read.text("PROXY_METRICS_HOST", defaults.metrics_host),
            metrics_port=read.integer("PROXY_METRICS_PORT", defaults.metrics_port,
                                      minimum=0, maximum=65535),
            workers=read.integer("PROXY_WORKERS", defaults.workers, minimum=1, maximum=256),
            redis_url=read.redis_url("REDIS_URL", defaults.redis_url),
            redis_password=read.optional_text("REDIS_PASSWORD"),
            redis_timeout=read.number("PROXY_REDIS_TIMEOUT", defaults.redis_timeout,
                                      minimum=0.01, maximum=60),
            pepper=pepper_text.encode() if pepper_text is not None else defaults.pepper,
            hash_scheme=read.choice("PROXY_HASH_SCHEME", defaults.hash_scheme,
                                    choices=SUPPORTED_SCHEMES),
            hash_threads=read.integer("PROXY_HASH_THREADS", defaults.hash_threads,
                                      minimum=1, maximum=64),
            cache_ttl=read.number("PROXY_CACHE_TTL", defaults.cache_ttl, minimum=0.1,
                                  maximum=3600),
            connect_timeout=read.number("PROXY_CONNECT_TIMEOUT", defaults.connect_timeout,
                                        minimum=0.01, maximum=600),
            read_timeout=read.number("PROXY_READ_TIMEOUT", defaults.read_timeout,
                                     minimum=0.01, maximum=3600),
            upstream_idle_timeout=read.number("PROXY_UPSTREAM_IDLE_TIMEOUT",
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
            failed_login_window=read.number("PROXY_FAILED_LOGIN_WINDOW",
                                            defaults.failed_login_window,
                                            minimum=1, maximum=86_400),
            retry_after=read.integer("PROXY_RETRY_AFTER", defaults.retry_after,
                                     minimum=1, maximum=3600),
            trusted_hops=read.integer("PROXY_TRUSTED_HOPS", defaults.trusted_hops,
                                      minimum=0, maximum=16),
            usage_flush_interval=read.number("PROXY_USAGE_FLUSH_INTERVAL",
                                             defaults.usage_flush_interval,
                                             minimum=0.05, maximum=3600),
            shutdown_timeout=read.number("PROXY_SHUTDOWN_TIMEOUT", defaults.shutdown_timeout,
                                         minimum=0, maximum=3600),
            access_log=read.boolean("PROXY_ACCESS_LOG", defaults.access_log),
        )
        if read.problems:
            raise ProxySettingsError(read.problems)
        return settings
