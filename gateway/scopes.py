"""API token scopes: what a token may do, on top of who its user is.

Three scopes, each including the ones before it:

- ``read``: every query and subscription its user may see; no mutation at all;
- ``deployments:write``: also the deployment and client mutations its user may make (in the
  user's groups; everywhere for an admin user), and issuing, rotating and revoking the user's
  own API tokens;
- ``admin``: everything, admin mutations (groups, instance types, anybody's API tokens)
  included; it needs an admin user.

A scope never adds a right: the user's rights (member of which groups, admin or not) still
decide every check, and scopes only take rights away. So a token stored without scopes (issued
before scopes existed) keeps working as it did: it has its user's full rights, ``admin`` for an
admin user's token, ``deployments:write`` otherwise (:func:`default`). The same holds for the
bootstrap token (``admin``) and for single sign-on callers (their user's full rights).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

READ: Final = "read"
DEPLOYMENTS_WRITE: Final = "deployments:write"
ADMIN: Final = "admin"
ORDER: Final = (READ, DEPLOYMENTS_WRITE, ADMIN)  # each includes the ones before it


class UnknownScope(ValueError):
    """A scope name that is not one of :data:`ORDER`; ``scope`` is the name."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"unknown scope {scope!r}: one of {', '.join(ORDER)}")
        self.scope = scope


def parse(names: Iterable[str]) -> frozenset[str]:
    """The scopes named (duplicates dropped); :class:`UnknownScope` for any other name."""
    found = frozenset(names)
    for name in sorted(found):
        if name not in ORDER:
            raise UnknownScope(name)
    return found


def default(*, admin: bool) -> frozenset[str]:
    """The scopes of a credential that names none: its user's full rights."""
    return frozenset({ADMIN if admin else DEPLOYMENTS_WRITE})


def rank(scopes: Iterable[str]) -> int:
    """How far up :data:`ORDER` the widest of ``scopes`` reaches (-1: none)."""
    return max((ORDER.index(scope) for scope in scopes if scope in ORDER), default=-1)


def covers(held: Iterable[str], needed: str) -> bool:
    """Whether ``held`` includes ``needed`` (a wider scope includes the narrower ones)."""
    return rank(held) >= ORDER.index(needed)


def listed(scopes: Iterable[str]) -> list[str]:
    """``scopes`` in :data:`ORDER` order, as stored and shown."""
    found = set(scopes)
    return [scope for scope in ORDER if scope in found]
