"""Secret ``data`` values: base64 on the wire, text in our views."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from gateway.kube.views import MalformedObject


def encode(values: Mapping[str, str]) -> dict[str, str]:
    """``data`` for a Secret holding ``values`` (UTF-8 text)."""
    return {key: base64.b64encode(value.encode()).decode("ascii") for key, value in values.items()}


def decode(secret: Mapping[str, Any]) -> dict[str, str]:
    """A Secret's ``data`` (and ``stringData``, as a server may echo it) as text."""
    data = secret.get("data") or {}
    if not isinstance(data, dict):
        raise MalformedObject("data: expected an object")
    decoded: dict[str, str] = {}
    for key, value in data.items():
        try:
            decoded[key] = base64.b64decode(str(value), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as error:
            raise MalformedObject(f"data.{key}: not base64 UTF-8 text") from error
    plain = secret.get("stringData") or {}
    if isinstance(plain, dict):
        decoded.update({key: str(value) for key, value in plain.items()})
    return decoded
