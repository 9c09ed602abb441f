"""Who may do what: members act on their groups' deployments, admins on everything.

A user's groups are the group resources listing them as a member, or, for a caller
authenticated by trusted single sign-on headers, the groups those headers named. Every
failure is ``NOT_AUTH`` (PrimeHub's code), whether the caller is anonymous or not a member:
a non-member cannot tell a forbidden deployment from one that exists elsewhere by the code.
"""

from __future__ import annotations

from gateway import scopes
from gateway.api.auth import Principal, still_signed_in
from schema.context import Context
from schema.errors import NotAuth, Unauthenticated


def caller(context: Context) -> Principal:
    """The authenticated caller; ``NOT_AUTH`` when anonymous, ``UNAUTHENTICATED`` with the
    reason when the token presented is genuine but no longer works (it expired)."""
    if context.principal is None:
        if context.refused is not None:
            raise Unauthenticated(context.refused)
        raise NotAuth()
    return context.principal


def still_caller(context: Context) -> Principal:
    """The caller of a long-lived subscription, whose token or session must still be valid
    (``NOT_AUTH`` once it was revoked, expired or signed out)."""
    principal = caller(context)
    services = context.services
    if not still_signed_in(principal, services.store, services.settings, now=services.clock()):
        raise NotAuth()
    return principal


def admin(context: Context) -> Principal:
    """The caller, who must be an admin."""
    principal = caller(context)
    if not principal.admin:
        raise NotAuth()
    return principal


def admin_token(principal: Principal) -> bool:
    """Whether the caller acts with an admin's full rights: an admin user whose token has
    the ``admin`` scope (an admin's ``read`` or ``deployments:write`` token is not)."""
    return principal.admin and scopes.covers(principal.granted, scopes.ADMIN)


def groups_of(context: Context, principal: Principal) -> frozenset[str]:
    """The groups ``principal`` is a member of."""
    if principal.groups is not None:
        return principal.groups
    return context.services.store.groups_of(principal.username)


def visible_groups(context: Context, principal: Principal) -> frozenset[str] | None:
    """The groups whose deployments ``principal`` sees; ``None`` means every group."""
    return None if principal.admin else groups_of(context, principal)


def require_member(context: Context, group_id: str | None) -> Principal:
    """The caller, who must be an admin or a member of ``group_id``."""
    principal = caller(context)
    if principal.admin:
        return principal
    if group_id is None or group_id not in groups_of(context, principal):
        raise NotAuth()
    return principal
