"""API settings: defaults, every MODEL_GATEWAY_* name, all problems at once, secrets redacted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.api.settings import ApiSettings
from gateway.kube.references import Protected
from gateway.settings import SettingsError
from gateway.sources import Sources


def test_no_settings_means_the_defaults() -> None:
    """An empty environment gives the documented defaults: new deployments are private."""
    assert ApiSettings.from_env({}) == ApiSettings()
    assert ApiSettings().default_access_type == "private"
    assert ApiSettings().accepted_schemes == ("gs", "http", "https", "pvc", "s3")


def test_accepted_schemes_are_what_the_controller_can_build() -> None:
    """phfs is accepted once its claim is set; a scheme nothing can build is a settings error."""
    with_phfs = ApiSettings.from_env({"MODEL_GATEWAY_PHFS_CLAIM": "primehub-store",
                                      "MODEL_GATEWAY_PROTECTED_CLAIMS": "data-redis-0",
                                      "MODEL_GATEWAY_PROTECTED_SECRETS": "mg,mg-redis"})
    assert "phfs" in with_phfs.accepted_schemes
    assert with_phfs.sources == Sources(phfs_claim="primehub-store", protected=Protected(
        claims=frozenset({"data-redis-0"}), secrets=frozenset({"mg", "mg-redis"})))
    with pytest.raises(SettingsError, match="phfs cannot be deployed"):
        ApiSettings.from_env({"MODEL_GATEWAY_API_MODEL_URI_SCHEMES": "gs,phfs"})
    with pytest.raises(SettingsError, match="hdfs cannot be deployed"):
        ApiSettings.from_env({"MODEL_GATEWAY_API_MODEL_URI_SCHEMES": "hdfs",
                              "MODEL_GATEWAY_CONTROLLER_STORAGE_INITIALIZERS": "gs=i:1"})


def test_every_setting_is_read() -> None:
    """Each MODEL_GATEWAY_* name lands in its field."""
    settings = ApiSettings.from_env({
        "MODEL_GATEWAY_API_HOST": "0.0.0.0", "MODEL_GATEWAY_API_PORT": "9000",
        "MODEL_GATEWAY_NAMESPACE": "hub", "MODEL_GATEWAY_KUBERNETES_URL": "http://k:1/",
        "MODEL_GATEWAY_API_PUBLIC_URL": "https://h/api/", "MODEL_GATEWAY_PUBLIC_URL": "https://h",
        "MODEL_GATEWAY_API_BOOTSTRAP_TOKEN": "plain-token",
        "MODEL_GATEWAY_API_TRUSTED_HEADER_SECRET": "s" * 16,
        "MODEL_GATEWAY_API_TRUSTED_ADMIN_GROUP": "admins",
        "MODEL_GATEWAY_API_GRAPHIQL": "yes", "MODEL_GATEWAY_API_MAX_DEPTH": "8",
        "MODEL_GATEWAY_API_CORS_ORIGINS": "https://console.example.com, http://localhost:3000",
        "MODEL_GATEWAY_API_MAX_TOKENS": "500", "MODEL_GATEWAY_API_MAX_REPLICAS": "3",
        "MODEL_GATEWAY_API_MODEL_URI_SCHEMES": "GS, s3",
        "MODEL_GATEWAY_API_LICENSE_MAX_DEPLOY": "10",
        "MODEL_GATEWAY_API_LICENSE_EXPIRES": "2030-01-01",
        "MODEL_GATEWAY_API_HASH_SCHEME": "bcrypt", "MODEL_GATEWAY_API_TOKEN_CACHE_TTL": "2.5",
        "MODEL_GATEWAY_API_DEFAULT_ENDPOINT_ACCESS": "public",
    })
    assert settings == ApiSettings(
        host="0.0.0.0", port=9000, namespace="hub", kubernetes_url="http://k:1",
        api_public_url="https://h/api", public_url="https://h", bootstrap_token="plain-token",
        trusted_header_secret="s" * 16, trusted_admin_group="admins", graphiql=True,
        cors_origins=frozenset({"https://console.example.com", "http://localhost:3000"}),
        max_depth=8, max_tokens=500, max_replicas=3, model_uri_schemes=("gs", "s3"),
        license_max_deploy=10, license_expires=datetime(2030, 1, 1, tzinfo=UTC),
        hash_scheme="bcrypt", token_cache_ttl=2.5, default_access_type="public")


def test_the_bootstrap_token_can_come_from_a_file(tmp_path: Path) -> None:
    """``API_BOOTSTRAP_TOKEN_FILE`` reads the token (or its hash) from a mounted file."""
    path = tmp_path / "token"
    path.write_text("$pbkdf2-sha256$29000$abc\n")
    settings = ApiSettings.from_env({"MODEL_GATEWAY_API_BOOTSTRAP_TOKEN_FILE": str(path)})
    assert settings.bootstrap_token == "$pbkdf2-sha256$29000$abc"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """One SettingsError names each invalid setting."""
    with pytest.raises(SettingsError) as caught:
        ApiSettings.from_env({
            "MODEL_GATEWAY_API_PORT": "http", "MODEL_GATEWAY_API_PUBLIC_URL": "ftp://x",
            "MODEL_GATEWAY_API_BOOTSTRAP_TOKEN_FILE": str(tmp_path / "missing"),
            "MODEL_GATEWAY_API_TRUSTED_HEADER_SECRET": "short",
            "MODEL_GATEWAY_API_MODEL_URI_SCHEMES": "gs,s 3",
            "MODEL_GATEWAY_API_LICENSE_EXPIRES": "soon",
            "MODEL_GATEWAY_API_HASH_SCHEME": "md5",
            "MODEL_GATEWAY_API_CORS_ORIGINS": "https://ok.example.com,*",
            "MODEL_GATEWAY_API_DEFAULT_ENDPOINT_ACCESS": "open",
        })
    named = " ".join(caught.value.problems)
    for name in ("API_PORT", "API_PUBLIC_URL", "API_BOOTSTRAP_TOKEN_FILE",
                 "API_TRUSTED_HEADER_SECRET", "API_MODEL_URI_SCHEMES", "API_LICENSE_EXPIRES",
                 "API_HASH_SCHEME", "API_CORS_ORIGINS", "API_DEFAULT_ENDPOINT_ACCESS"):
        assert f"MODEL_GATEWAY_{name}" in named
    assert len(caught.value.problems) == 9


@pytest.mark.parametrize("origin", ["*", "https://x.example.com/", "HTTPS://X.EXAMPLE.COM",
                                    "https://x.example.com:80x", "ftp://x.example.com",
                                    "https://x.example.com/path"])
def test_cors_origins_are_whole_origins(origin: str) -> None:
    """A CORS origin is exactly scheme://host[:port] as browsers send it; nothing else."""
    with pytest.raises(SettingsError, match="API_CORS_ORIGINS"):
        ApiSettings.from_env({"MODEL_GATEWAY_API_CORS_ORIGINS": origin})


def test_secrets_are_redacted_in_repr() -> None:
    """Neither the bootstrap token nor the trusted-header secret appears in repr."""
    text = repr(ApiSettings(bootstrap_token="plain-token", trusted_header_secret="s" * 16))
    assert "plain-token" not in text
    assert "s" * 16 not in text
    assert "bootstrap_token=<redacted>" in text
