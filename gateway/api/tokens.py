"""Token formats: 256 random bits behind a short fixed prefix per kind.

The prefix makes a leaked token recognisable by secret scanners (design.md, "Tokens"):

- client tokens (``curl -u <client>:<token>``): ``mgc_<43 url-safe characters>``;
- API tokens (``Authorization: Bearer``): ``mga_<12 hex id>_<43 url-safe characters>``. The
  id names the Secret holding the token's hash, so checking a token costs one lookup and one
  hash, never a scan over every stored hash;
- console sessions (the ``mg_session`` cookie): ``mgs_<12 hex id>_<43 url-safe characters>``,
  stored like API tokens, but never accepted as a Bearer token (nor an API token as a
  cookie).
"""

from __future__ import annotations

import re
import secrets
from typing import Final

CLIENT_PREFIX: Final = "mgc_"
API_PREFIX: Final = "mga_"
SESSION_PREFIX: Final = "mgs_"
_API_TOKEN: Final = re.compile(r"mga_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
_SESSION_TOKEN: Final = re.compile(r"mgs_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")


def new_client_token() -> str:
    return CLIENT_PREFIX + secrets.token_urlsafe(32)


def _new(prefix: str, token_id: str | None = None) -> tuple[str, str]:
    token_id = token_id or secrets.token_hex(6)
    return token_id, f"{prefix}{token_id}_{secrets.token_urlsafe(32)}"


def new_api_token(token_id: str | None = None) -> tuple[str, str]:
    """A fresh ``(token id, plain token)``; with ``token_id``, a new token under that id (a
    rotation: the id names the same Secret)."""
    return _new(API_PREFIX, token_id)


def new_session_token() -> tuple[str, str]:
    """A fresh ``(session id, plain session token)``."""
    return _new(SESSION_PREFIX)


def api_token_id(token: str) -> str | None:
    """The id inside an API token, ``None`` when ``token`` does not have the format."""
    match = _API_TOKEN.fullmatch(token)
    return match.group(1) if match else None


def session_token_id(token: str) -> str | None:
    """The id inside a session token, ``None`` when ``token`` does not have the format."""
    match = _SESSION_TOKEN.fullmatch(token)
    return match.group(1) if match else None
