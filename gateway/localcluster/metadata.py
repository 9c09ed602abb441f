"""Object metadata rules: names, system-set fields, and what a write may not change.

These are the checks kube-apiserver's generic registry applies to every kind before any
kind-specific logic: name syntax, ``generateName``, uid and timestamps set by the server,
immutable fields carried over on update, and the generation counter.
"""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from gateway.localcluster.errors import Cause

_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the apiserver's: no vowels, no lookalikes

# Fields of metadata only the server sets; a client's values are ignored on create and
# carried over from the stored object on update.
SYSTEM_FIELDS = ("uid", "creationTimestamp", "resourceVersion", "generation", "selfLink",
                 "deletionTimestamp", "deletionGracePeriodSeconds")


def now() -> str:
    """The current time in Kubernetes' RFC 3339 form, seconds precision, UTC."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro() -> str:
    """The current time with microseconds (MicroTime: Lease and Event fields)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def random_suffix(length: int = 5) -> str:
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(length))


def new_uid() -> str:
    return str(uuid.uuid4())


def name_causes(name: str, *, label: bool) -> list[Cause]:
    """Why ``name`` is not a valid object name (DNS-1123 subdomain, or label for some kinds)."""
    limit, pattern, what = ((63, _DNS_LABEL, "RFC 1123 label") if label
                            else (253, _DNS_SUBDOMAIN, "RFC 1123 subdomain"))
    if not name:
        return [Cause("FieldValueRequired", "Required value: name or generateName is required",
                      "metadata.name")]
    problems = []
    if len(name) > limit:
        problems.append(f"must be no more than {limit} characters")
    if not pattern.fullmatch(name):
        problems.append(
            f"a lowercase {what} must consist of lower case alphanumeric characters, '-'"
            + ("" if label else " or '.'")
            + ", and must start and end with an alphanumeric character")
    return [Cause("FieldValueInvalid", f'Invalid value: "{name}": {problem}', "metadata.name")
            for problem in problems]


def spec_changed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when anything but metadata and status differs (what bumps ``generation``)."""
    ignored = {"metadata", "status", "apiVersion", "kind"}
    keys = (set(old) | set(new)) - ignored
    return any(old.get(key) != new.get(key) for key in keys)
