"""ProxySettings: defaults, parsing, every problem reported at once, secrets redacted."""

from __future__ import annotations

import pytest

from proxy.environment import SettingsError
from proxy.readdeadlines import ReadTimeouts
from proxy.settings import MIB, ProxySettings


def test_defaults_when_nothing_is_set() -> None:
    """An empty environment gives the documented defaults and a random 32-byte pepper."""
    settings = ProxySettings.from_env({})
    assert settings.port == 8080
    assert settings.host == "127.0.0.1"
    assert settings.body_limit == 10 * MIB
    assert settings.hash_scheme == "pbkdf2_sha256"
    assert len(settings.pepper) == 32
    assert ProxySettings.from_env({}).pepper != settings.pepper


def test_values_are_parsed_from_the_environment() -> None:
    """Each setting is read from its MODEL_GATEWAY_ name and converted to its type."""
    settings = ProxySettings.from_env({
        "MODEL_GATEWAY_PROXY_PORT": "9000", "MODEL_GATEWAY_PROXY_WORKERS": "4",
        "MODEL_GATEWAY_REDIS_URL": "redis://redis:6379/2",
        "MODEL_GATEWAY_PROXY_PEPPER": "a-long-enough-pepper",
        "MODEL_GATEWAY_PROXY_CACHE_TTL": "2.5", "MODEL_GATEWAY_PROXY_ACCESS_LOG": "off",
        "MODEL_GATEWAY_PROXY_BODY_LIMIT": "1024", "MODEL_GATEWAY_PROXY_HASH_SCHEME": "bcrypt",
    })
    assert (settings.port, settings.workers, settings.cache_ttl) == (9000, 4, 2.5)
    assert settings.redis_url == "redis://redis:6379/2"
    assert settings.pepper == b"a-long-enough-pepper"
    assert settings.access_log is False
    assert settings.body_limit == 1024
    assert settings.hash_scheme == "bcrypt"


def test_every_invalid_setting_is_reported_at_once() -> None:
    """One exception names each bad setting, not just the first."""
    with pytest.raises(SettingsError) as caught:
        ProxySettings.from_env({
            "MODEL_GATEWAY_PROXY_PORT": "eighty", "MODEL_GATEWAY_PROXY_WORKERS": "0",
            "MODEL_GATEWAY_REDIS_URL": "http://nope", "MODEL_GATEWAY_PROXY_PEPPER": "short",
            "MODEL_GATEWAY_PROXY_ACCESS_LOG": "maybe", "MODEL_GATEWAY_PROXY_HASH_SCHEME": "md5",
        })
    names = sorted(problem.split(":")[0] for problem in caught.value.problems)
    assert names == sorted(f"MODEL_GATEWAY_{name}" for name in (
        "PROXY_PORT", "PROXY_WORKERS", "REDIS_URL", "PROXY_PEPPER", "PROXY_ACCESS_LOG",
        "PROXY_HASH_SCHEME"))


def test_repr_redacts_secrets() -> None:
    """The pepper, the Redis password and a password inside the Redis URL never show in repr."""
    settings = ProxySettings.from_env({
        "MODEL_GATEWAY_PROXY_PEPPER": "pepper-pepper-pepper",
        "MODEL_GATEWAY_REDIS_PASSWORD": "hunter2-password",
        "MODEL_GATEWAY_REDIS_URL": "redis://user:url-secret@redis:6379/0",
    })
    shown = repr(settings)
    for secret in ("pepper-pepper-pepper", "hunter2-password", "url-secret"):
        assert secret not in shown
    assert "redis://user:<redacted>@redis:6379/0" in shown
    assert "port=8080" in shown


def test_login_limits_and_client_timeouts_are_read() -> None:
    """The three failed-login limits, the backoff cap and the four client timeouts."""
    settings = ProxySettings.from_env({
        "MODEL_GATEWAY_PROXY_FAILED_LOGIN_LIMIT": "5",
        "MODEL_GATEWAY_PROXY_FAILED_LOGIN_ADDRESS_LIMIT": "50",
        "MODEL_GATEWAY_PROXY_FAILED_LOGIN_BACKOFF_AFTER": "8",
        "MODEL_GATEWAY_PROXY_FAILED_LOGIN_BACKOFF_MAX": "0.5",
        "MODEL_GATEWAY_PROXY_CLIENT_IDLE_TIMEOUT": "120",
        "MODEL_GATEWAY_PROXY_CLIENT_HEADER_TIMEOUT": "5",
        "MODEL_GATEWAY_PROXY_CLIENT_BODY_TIMEOUT": "20",
        "MODEL_GATEWAY_PROXY_CLIENT_BODY_MIN_RATE": "1000",
    })
    assert (settings.failed_login_limit, settings.failed_login_address_limit,
            settings.failed_login_backoff_after, settings.failed_login_backoff_max) == (
        5, 50, 8, 0.5)
    assert settings.client_timeouts == ReadTimeouts(idle=120, header=5, body=20,
                                                    body_min_rate=1000)


def test_an_address_limit_below_the_pair_limit_is_refused() -> None:
    """The per-address limit must sit at or above the per-(client, address) one."""
    with pytest.raises(SettingsError) as raised:
        ProxySettings.from_env({"MODEL_GATEWAY_PROXY_FAILED_LOGIN_LIMIT": "20",
                                "MODEL_GATEWAY_PROXY_FAILED_LOGIN_ADDRESS_LIMIT": "10",
                                "MODEL_GATEWAY_PROXY_CLIENT_HEADER_TIMEOUT": "0"})
    message = str(raised.value)
    assert "MODEL_GATEWAY_PROXY_FAILED_LOGIN_ADDRESS_LIMIT" in message
    assert "MODEL_GATEWAY_PROXY_CLIENT_HEADER_TIMEOUT" in message
