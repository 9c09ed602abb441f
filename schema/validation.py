"""Input validation: pure functions that return the clean value or raise naming the field.

Each function takes what the client sent (already typed by GraphQL where the schema types it;
``JSON`` inputs arrive as any JSON value) and returns what will be stored. Limits keep one
deployment's resource small (a Kubernetes object holds at most about 1.5 MB, and history keeps
32 copies of the spec).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import urlsplit

from gateway.kube.phdeployments import ACCESS_TYPES, AccessType, EnvVar
from schema.errors import BadUserInput, IllegalEnvName

ID_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
ENV_NAME_PATTERN: Final = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
CLIENT_NAME_PATTERN: Final = re.compile(r"^[a-z_][a-z0-9_-]*$")
_LABEL: Final = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN: Final = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
GROUP_NAME_PATTERN: Final = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")

MAX_CLIENT_NAME: Final = 63
MAX_NAME: Final = 256
MAX_TEXT: Final = 4096
MAX_IMAGE: Final = 1024
MAX_URI: Final = 2048
MAX_ENV: Final = 256
MAX_ENV_VALUE: Final = 32 * 1024
MAX_METADATA_ENTRIES: Final = 64
MAX_METADATA_KEY: Final = 253
MAX_METADATA_VALUE: Final = 4096


def deployment_id(value: str) -> str:
    """PrimeHub's id rule: 3 to 63 characters, lowercase letters, digits and inner dashes."""
    if not ID_PATTERN.match(value):
        raise BadUserInput("id", f"{value!r} must match {ID_PATTERN.pattern} (3 to 63 "
                           "lowercase letters, digits or '-', starting and ending with a "
                           "letter or digit)")
    return value


def model_image(value: str | None) -> str:
    """A non-empty image reference without spaces (surrounding blanks are trimmed)."""
    image = (value or "").strip()
    if not image:
        raise BadUserInput("modelImage", "must not be empty")
    if len(image) > MAX_IMAGE or any(char.isspace() for char in image):
        raise BadUserInput("modelImage", "must be an image reference without spaces, at most "
                           f"{MAX_IMAGE} characters")
    return image


def model_uri(value: str | None, *, schemes: Iterable[str]) -> str | None:
    """A model URI with an allowed scheme; ``None`` or ``""`` (kept as sent, as PrimeHub keeps
    it) when there is none (the image has the model)."""
    uri = (value or "").strip()
    if not uri:
        return None if value is None else ""
    allowed = tuple(schemes)
    parts = urlsplit(uri)
    if len(uri) > MAX_URI or parts.scheme.lower() not in allowed or not (
            parts.netloc or parts.path.strip("/")):
        raise BadUserInput("modelURI", f"must be a URI with scheme {', '.join(allowed)} "
                           f"(at most {MAX_URI} characters), got {uri[:100]!r}")
    return uri


def replicas(value: int, *, maximum: int) -> int:
    if not 0 <= value <= maximum:
        raise BadUserInput("replicas", f"must be between 0 and {maximum}, got {value}")
    return value


def access_type(value: str) -> AccessType:
    lowered = value.strip().lower()
    for known in ACCESS_TYPES:
        if lowered == known:
            return known
    raise BadUserInput("endpointAccessType", f"must be public or private, got {value!r}")


def text(value: str | None, *, field: str, limit: int = MAX_TEXT) -> str | None:
    """Free text up to ``limit`` characters; an empty string stays one (PrimeHub answers
    ``""`` for ``""``, and clients compare with it)."""
    if value is None:
        return None
    if len(value) > limit:
        raise BadUserInput(field, f"must be at most {limit} characters")
    return value


def instance_type(value: str | None) -> str:
    name = (value or "").strip()
    if not name:
        raise BadUserInput("instanceType", "must name an instance type")
    return name


def image_pull_secret(value: str | None) -> str | None:
    """A Secret name; ``None`` or ``""`` (kept as sent) when there is none."""
    name = (value or "").strip()
    if not name:
        return None if value is None else ""
    if len(name) > 253 or not DNS_SUBDOMAIN.match(name):
        raise BadUserInput("imagePullSecret", f"{name!r} is not a valid Secret name")
    return name


def env(value: Any) -> tuple[EnvVar, ...]:
    """``[{name, value}]`` with PrimeHub's name rule (``ILLEGAL_ENV_NAME`` otherwise)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadUserInput("env", "must be a list of {name, value} objects")
    if len(value) > MAX_ENV:
        raise BadUserInput("env", f"must have at most {MAX_ENV} variables")
    found: list[EnvVar] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise BadUserInput(f"env[{index}]", "must be an object with a string name")
        name = item["name"]
        if not ENV_NAME_PATTERN.match(name):
            raise IllegalEnvName(name)
        if name in seen:
            raise BadUserInput(f"env[{index}].name", f"{name!r} is given twice")
        seen.add(name)
        found.append(EnvVar(name, _scalar(item.get("value"), field=f"env[{index}].value",
                                          limit=MAX_ENV_VALUE)))
    return tuple(found)


def metadata(value: Any) -> dict[str, str]:
    """A string-to-string object, bounded in entries and sizes (numbers and booleans are
    kept as their JSON text)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadUserInput("metadata", "must be an object of strings")
    if len(value) > MAX_METADATA_ENTRIES:
        raise BadUserInput("metadata", f"must have at most {MAX_METADATA_ENTRIES} entries")
    clean: dict[str, str] = {}
    for key, item in value.items():
        if not key or len(key) > MAX_METADATA_KEY or _CONTROL.search(key):
            raise BadUserInput("metadata", f"key {key[:60]!r} must be 1 to "
                               f"{MAX_METADATA_KEY} printable characters")
        if item is None:
            continue
        clean[key] = _scalar(item, field=f"metadata.{key}", limit=MAX_METADATA_VALUE)
    return clean


def client_name(value: str | None) -> str:
    name = value or ""
    if len(name) > MAX_CLIENT_NAME or not CLIENT_NAME_PATTERN.match(name):
        raise BadUserInput("name", f"{name[:80]!r} must match {CLIENT_NAME_PATTERN.pattern} "
                           f"and be at most {MAX_CLIENT_NAME} characters")
    return name


def group_name(value: str) -> str:
    if not GROUP_NAME_PATTERN.match(value):
        raise BadUserInput("name", f"{value[:80]!r} must be 1 to 63 lowercase letters, digits "
                           "or inner '-'")
    return value


def resource_name(value: str, *, field: str = "name") -> str:
    if len(value) > 253 or not DNS_SUBDOMAIN.match(value):
        raise BadUserInput(field, f"{value[:80]!r} must be a lowercase DNS name (letters, "
                           "digits, '-' and '.')")
    return value


def non_negative(value: float | None, *, field: str) -> float | None:
    if value is not None and value < 0:
        raise BadUserInput(field, f"must not be negative, got {value}")
    return value


def username(value: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME or _CONTROL.search(name):
        raise BadUserInput("username", f"must be 1 to {MAX_NAME} printable characters")
    return name


def _scalar(value: Any, *, field: str, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        raise BadUserInput(field, "must be a string")
    if len(value) > limit:
        raise BadUserInput(field, f"must be at most {limit} characters")
    return value
