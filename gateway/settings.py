"""The control plane's settings reader: the one the proxy uses too (see proxy.environment)."""

from proxy.environment import (
    HTTP_SCHEMES,
    REDACTED,
    SettingsError,
    SettingsReader,
    redacted_repr,
    without_password,
)

__all__ = [
    "HTTP_SCHEMES", "REDACTED", "SettingsError", "SettingsReader", "redacted_repr",
    "without_password",
]
