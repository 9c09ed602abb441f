"""Input validation: pure functions that return the clean value or raise naming the field.

Each function takes what the client sent (already typed by GraphQL where the schema types it;
``JSON`` inputs arrive as any JSON value) and returns what will be stored. Limits keep one
deployment's resource small (a Kubernetes object holds at most about 1.5 MB, and history keeps
32 copies of the spec).

Validation means the whole value: every pattern is applied with ``re.fullmatch`` (``re.match``
with ``$`` lets a trailing newline through, and a name like ``"x\n"`` then breaks every later
use of it, deletion included). No name, reference or single-line text may contain a control
character (C0, DEL or C1); multi-line text (descriptions, update messages, env and metadata
values) may contain tab, line feed and carriage return, nothing else. Only plain spaces
around a value are trimmed, never other whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any, Final
from urllib.parse import urlsplit

from gateway.kube.phdeployments import ACCESS_TYPES, MAX_DEPLOYMENT_ID, AccessType, EnvVar
from schema.errors import BadUserInput, IllegalEnvName

# Applied with fullmatch: no anchors, so no pattern can be used with re.match by mistake.
ID_PATTERN: Final = re.compile(rf"[a-z0-9][a-z0-9-]{{1,{MAX_DEPLOYMENT_ID - 2}}}[a-z0-9]")
ENV_NAME_PATTERN: Final = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
CLIENT_NAME_PATTERN: Final = re.compile(r"[a-z_][a-z0-9_-]*")
_LABEL: Final = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN: Final = re.compile(rf"{_LABEL}(\.{_LABEL})*")
GROUP_NAME_PATTERN: Final = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# Kubernetes label keys (an optional DNS subdomain prefix and a name) and label values.
_QUALIFIED: Final = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_KEY_PATTERN: Final = re.compile(rf"({_LABEL}(\.{_LABEL})*/)?{_QUALIFIED}")
LABEL_VALUE_PATTERN: Final = re.compile(rf"({_QUALIFIED})?")
CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MOUNTED_SCHEMES: Final = ("pvc", "phfs")

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
    """PrimeHub's id rule, but at most 56 characters: lowercase letters, digits and inner
    dashes. PrimeHub allows 63, yet its Service ``deploy-<id>`` must fit a 63-character DNS
    label, so a longer id would be accepted and then never deploy (on PrimeHub too)."""
    if not ID_PATTERN.fullmatch(value):
        raise BadUserInput("id", f"{value!r} must match ^{ID_PATTERN.pattern}$ (3 to "
                           f"{MAX_DEPLOYMENT_ID} "
                           "lowercase letters, digits or '-', starting and ending with a "
                           "letter or digit)")
    return value


def model_image(value: str | None) -> str:
    """A non-empty image reference without spaces (surrounding spaces are trimmed)."""
    image = (value or "").strip(" ")
    if not image:
        raise BadUserInput("modelImage", "must not be empty")
    if len(image) > MAX_IMAGE or CONTROL.search(image) or any(
            char.isspace() for char in image):
        raise BadUserInput("modelImage", "must be an image reference without spaces, at most "
                           f"{MAX_IMAGE} characters")
    return image


def model_uri(value: str | None, *, schemes: Iterable[str]) -> str | None:
    """A model URI with an allowed scheme; ``None`` or ``""`` (kept as sent, as PrimeHub keeps
    it) when there is none (the image has the model)."""
    uri = (value or "").strip(" ")
    if not uri:
        return None if value is None else ""
    allowed = tuple(schemes)
    # urlsplit silently drops tabs and line breaks (WHATWG), so look before it does.
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if len(uri) > MAX_URI or CONTROL.search(uri) or scheme not in allowed or not (
            parts.netloc or parts.path.strip("/")):
        raise BadUserInput("modelURI", f"must be a URI with scheme {', '.join(allowed)} "
                           f"(at most {MAX_URI} characters), got {uri[:100]!r}")
    if scheme in MOUNTED_SCHEMES:
        _mount_path(parts.netloc, parts.path, scheme=scheme)
    return uri


def _mount_path(netloc: str, path: str, *, scheme: str) -> None:
    """``pvc://<claim>/<path>`` needs a claim name; both mounted schemes need a relative path
    without ``..`` (Kubernetes refuses such a ``subPath``: the pod would never start)."""
    if scheme == "pvc" and not (len(netloc) <= 253 and DNS_SUBDOMAIN.fullmatch(netloc)):
        raise BadUserInput("modelURI", f"pvc://<claim>/<path> needs a claim name, got "
                           f"{netloc[:80]!r}")
    segments = [part for part in path.split("/") if part]
    if scheme == "phfs" and netloc:
        segments.insert(0, netloc)
    if any(part in (".", "..") for part in segments) or "\\" in path:
        raise BadUserInput("modelURI", "the path must stay inside the volume (no '.' or '..')")


def replicas(value: int, *, maximum: int) -> int:
    if not 0 <= value <= maximum:
        raise BadUserInput("replicas", f"must be between 0 and {maximum}, got {value}")
    return value


def access_type(value: str) -> AccessType:
    lowered = value.strip(" ").lower()
    for known in ACCESS_TYPES:
        if lowered == known:
            return known
    raise BadUserInput("endpointAccessType", f"must be public or private, got {value!r}")


def text(value: str | None, *, field: str, limit: int = MAX_TEXT,
         lines: bool = True) -> str | None:
    """Free text up to ``limit`` characters; an empty string stays one (PrimeHub answers
    ``""`` for ``""``, and clients compare with it). ``lines``: it may span lines (tab, line
    feed and carriage return allowed); otherwise no control character at all."""
    if value is None:
        return None
    if len(value) > limit:
        raise BadUserInput(field, f"must be at most {limit} characters")
    if (_CONTROL_IN_TEXT if lines else CONTROL).search(value):
        raise BadUserInput(field, "must not contain control characters" if not lines else
                           "must not contain control characters other than tab and line breaks")
    return value


def line(value: str | None, *, field: str, limit: int = MAX_NAME) -> str | None:
    """A single line of text (a display name): no control characters, not even a newline."""
    return text(value, field=field, limit=limit, lines=False)


def instance_type(value: str | None) -> str:
    """A reference to an instance type: a Kubernetes object name."""
    name = (value or "").strip(" ")
    if not name:
        raise BadUserInput("instanceType", "must name an instance type")
    return resource_name(name, field="instanceType")


def image_pull_secret(value: str | None) -> str | None:
    """A Secret name; ``None`` or ``""`` (kept as sent) when there is none."""
    return secret_name(value, field="imagePullSecret")


def secret_name(value: str | None, *, field: str) -> str | None:
    """A Secret name; ``None`` or ``""`` (kept as sent) when there is none."""
    name = (value or "").strip(" ")
    if not name:
        return None if value is None else ""
    if len(name) > 253 or not DNS_SUBDOMAIN.fullmatch(name):
        raise BadUserInput(field, f"{name!r} is not a valid Secret name")
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
        if not ENV_NAME_PATTERN.fullmatch(name):
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
        if not key or len(key) > MAX_METADATA_KEY or CONTROL.search(key):
            raise BadUserInput("metadata", f"key {key[:60]!r} must be 1 to "
                               f"{MAX_METADATA_KEY} printable characters")
        if item is None:
            continue
        clean[key] = _scalar(item, field=f"metadata.{key}", limit=MAX_METADATA_VALUE)
    return clean


def client_name(value: str | None) -> str:
    name = value or ""
    if len(name) > MAX_CLIENT_NAME or not CLIENT_NAME_PATTERN.fullmatch(name):
        raise BadUserInput("name", f"{name[:80]!r} must match ^{CLIENT_NAME_PATTERN.pattern}$ "
                           f"and be at most {MAX_CLIENT_NAME} characters")
    return name


def group_name(value: str) -> str:
    if not GROUP_NAME_PATTERN.fullmatch(value):
        raise BadUserInput("name", f"{value[:80]!r} must be 1 to 63 lowercase letters, digits "
                           "or inner '-'")
    return value


def resource_name(value: str, *, field: str = "name") -> str:
    if len(value) > 253 or not DNS_SUBDOMAIN.fullmatch(value):
        raise BadUserInput(field, f"{value[:80]!r} must be a lowercase DNS name (letters, "
                           "digits, '-' and '.')")
    return value


def non_negative(value: float | None, *, field: str) -> float | None:
    if value is not None and value < 0:
        raise BadUserInput(field, f"must not be negative, got {value}")
    return value


MAX_OVERLAP_SECONDS: Final = 7 * 24 * 3600


def overlap_seconds(value: int) -> int:
    """How long a rotated-out token may keep working: a week at most, so none lingers."""
    if not 0 <= value <= MAX_OVERLAP_SECONDS:
        raise BadUserInput("overlapSeconds", f"must be 0 to {MAX_OVERLAP_SECONDS}, got {value}")
    return value


def username(value: str, *, field: str = "username") -> str:
    name = value.strip(" ")
    if not name or len(name) > MAX_NAME or CONTROL.search(name):
        raise BadUserInput(field, f"must be 1 to {MAX_NAME} printable characters")
    return name


def label_key(value: str, *, field: str) -> str:
    """A Kubernetes label key (``[prefix/]name``): node selectors and tolerations use them."""
    prefix, _, name = value.rpartition("/")
    if len(prefix) > 253 or len(name) > 63 or not LABEL_KEY_PATTERN.fullmatch(value):
        raise BadUserInput(field, f"{value[:80]!r} must be a label key ([prefix/]name: letters, "
                           "digits, '-', '_' and '.', name at most 63 characters)")
    return value


def label_value(value: str, *, field: str) -> str:
    """A Kubernetes label value: at most 63 letters, digits, '-', '_' and '.' (may be empty)."""
    if len(value) > 63 or not LABEL_VALUE_PATTERN.fullmatch(value):
        raise BadUserInput(field, f"{value[:80]!r} must be a label value (at most 63 letters, "
                           "digits, '-', '_' and '.', starting and ending with a letter or digit)")
    return value


def _scalar(value: Any, *, field: str, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        raise BadUserInput(field, "must be a string")
    return text(value, field=field, limit=limit) or ""


def instant(value: str | None, *, field: str, zone: tzinfo | None) -> datetime | None:
    """An ISO 8601 time (without a zone: ``zone``'s); ``None`` stays ``None``."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise BadUserInput(field, f"{value[:80]!r} is not an ISO 8601 time") from error
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def future_time(value: str | None, now: datetime, *,
                field: str = "expiresAt") -> datetime | None:
    """An ISO 8601 time after ``now`` (without a zone: ``now``'s); ``None`` stays ``None``."""
    moment = instant(value, field=field, zone=now.tzinfo)
    if moment is None:
        return None
    if moment <= now:
        raise BadUserInput(field, "must be in the future")
    return moment
