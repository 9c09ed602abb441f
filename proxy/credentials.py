"""Reading HTTP Basic credentials out of an ``Authorization`` header, strictly.

Anything that is not exactly ``Basic <base64 of UTF-8 "client:token">`` is malformed: bad
base64, no colon, invalid UTF-8, an empty part, control characters (a client name is copied
into ``X-Forwarded-User``, so it must not be able to smuggle a header line), or a header longer
than :data:`MAX_HEADER_LENGTH` (checked before decoding anything). Malformed and missing are
told apart so metrics can, but both become the same 401 for the caller.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from dataclasses import dataclass, field
from typing import Final

MAX_HEADER_LENGTH: Final = 1024
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


class MalformedCredentials(ValueError):
    """The ``Authorization`` header is present but is not usable Basic credentials."""


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    """A client name and the token it presented (kept out of ``repr``)."""

    client: str
    token: str = field(repr=False)


def parse_basic(header: str | None) -> BasicCredentials | None:
    """The credentials in ``header``, ``None`` if there is none; raises if malformed."""
    if header is None:
        return None
    if len(header) > MAX_HEADER_LENGTH:
        raise MalformedCredentials("header too long")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise MalformedCredentials("not Basic")
    try:
        decoded = b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as error:
        raise MalformedCredentials("bad base64 or UTF-8") from error
    client, colon, token = decoded.partition(":")
    if not colon or not client or not token:
        raise MalformedCredentials("not client:token")
    if _CONTROL.search(decoded):
        raise MalformedCredentials("control characters")
    return BasicCredentials(client=client, token=token)
