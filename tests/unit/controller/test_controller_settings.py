"""Controller settings from a mapping: defaults, parsing, every problem at once, redaction."""

from __future__ import annotations

import pytest

from gateway.controller.settings import ControllerSettings
from gateway.settings import SettingsError
from gateway.sources import DEFAULT_INITIALIZER


def test_defaults_need_no_environment() -> None:
    """An empty mapping gives the documented defaults."""
    settings = ControllerSettings.from_env({})
    assert settings.namespace == "default"
    assert settings.model_port == 9000
    assert settings.available_deadline == 300
    assert settings.resync_period == 30
    assert dict(settings.storage_initializers) == dict.fromkeys(
        ("gs", "s3", "http", "https"), DEFAULT_INITIALIZER)
    assert settings.identity


def test_values_are_read_and_parsed() -> None:
    """Every kind of value is read from its MODEL_GATEWAY_ name."""
    settings = ControllerSettings.from_env({
        "MODEL_GATEWAY_NAMESPACE": "hub",
        "MODEL_GATEWAY_KUBERNETES_URL": "http://127.0.0.1:6443/",
        "MODEL_GATEWAY_PUBLIC_URL": "https://hub.example.com/",
        "MODEL_GATEWAY_CONTROLLER_MODEL_PORT": "9100",
        "MODEL_GATEWAY_CONTROLLER_STORAGE_INITIALIZERS": "gs=a:1, S3 = b:2",
        "MODEL_GATEWAY_CONTROLLER_PROBE_PATH": "/health/ping",
        "MODEL_GATEWAY_CONTROLLER_AVAILABLE_DEADLINE": "2.5",
        "MODEL_GATEWAY_CONTROLLER_IDENTITY": "replica-a",
    })
    assert settings.namespace == "hub"
    assert settings.kubernetes_url == "http://127.0.0.1:6443"
    assert settings.endpoint_base == "https://hub.example.com"
    assert settings.model_port == 9100
    assert dict(settings.storage_initializers) == {"gs": "a:1", "s3": "b:2"}
    assert settings.probe_path == "/health/ping"
    assert settings.available_deadline == 2.5
    assert settings.identity == "replica-a"


def test_every_problem_is_reported_at_once() -> None:
    """Bad values from the shared reader and the controller's own checks come together."""
    with pytest.raises(SettingsError) as raised:
        ControllerSettings.from_env({
            "MODEL_GATEWAY_CONTROLLER_MODEL_PORT": "70000",
            "MODEL_GATEWAY_REDIS_URL": "http://redis",
            "MODEL_GATEWAY_CONTROLLER_STORAGE_INITIALIZERS": "gs",
            "MODEL_GATEWAY_CONTROLLER_PROBE_PATH": "health",
            "MODEL_GATEWAY_CONTROLLER_RENEW_DEADLINE": "20",
        })
    names = [problem.split(":")[0] for problem in raised.value.problems]
    assert sorted(names) == sorted(["MODEL_GATEWAY_CONTROLLER_MODEL_PORT",
                                    "MODEL_GATEWAY_REDIS_URL",
                                    "MODEL_GATEWAY_CONTROLLER_STORAGE_INITIALIZERS",
                                    "MODEL_GATEWAY_CONTROLLER_PROBE_PATH",
                                    "MODEL_GATEWAY_CONTROLLER_RENEW_DEADLINE"])
    assert raised.value.problems[-1].endswith("between _RETRY_PERIOD (2) and _LEASE_DURATION "
                                              "(15), got 20")


def test_repr_redacts_the_redis_password_everywhere() -> None:
    """Neither the password setting nor a password inside the URL reaches repr."""
    settings = ControllerSettings.from_env({
        "MODEL_GATEWAY_REDIS_URL": "redis://user:hunter2@redis:6379/0",
        "MODEL_GATEWAY_REDIS_PASSWORD": "swordfish",
    })
    text = repr(settings)
    assert "hunter2" not in text
    assert "swordfish" not in text
    assert "redis://user:<redacted>@redis:6379/0" in text
