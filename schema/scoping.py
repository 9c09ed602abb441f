"""Scopes, checked for every mutation in one place: a field extension the schema puts on each.

:func:`scoped` puts :class:`RequireScope` on every field of the ``Mutation`` type when the
schema is assembled: the fields of the admin class need the ``admin`` scope, every other
mutation ``deployments:write`` (:mod:`gateway.scopes`), so a mutation added anywhere is
covered without its resolver doing anything. A caller whose token lacks the scope gets
``FORBIDDEN`` naming the mutation, the scope it needs and the token's, before the resolver
runs, so nothing changes. The check sits closest to the resolver, inside the audit trail's
extension (:mod:`schema.auditing`), so a refused mutation is audited like any other failure.
Queries and subscriptions need only ``read``, which every token has.

Scopes only take rights away: the resolvers still check who the caller is (member of the
group, admin). An anonymous or expired caller, and a user who is no admin asking for an admin
mutation, are left to them (``NOT_AUTH``, ``UNAUTHENTICATED``), so the error says what is
actually wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types.base import get_object_definition

from gateway import scopes
from gateway.api.auth import Principal
from schema.context import Context, Info
from schema.errors import Forbidden


def refusal(mutation: str, principal: Principal | None, needed: str) -> Forbidden | None:
    """The error for a caller whose scopes do not cover ``needed``, if any."""
    if principal is None or (needed == scopes.ADMIN and not principal.admin):
        return None
    held = principal.granted
    if scopes.covers(held, needed):
        return None
    shown = ", ".join(scopes.listed(held)) or "none"
    return Forbidden(f"{mutation} needs a token with the {needed} scope; this token has "
                     f"{shown}", scope=needed, mutation=mutation)


class RequireScope(FieldExtension):
    """Refuses the field to a caller whose token's scopes do not include ``needed``."""

    def __init__(self, needed: str) -> None:
        super().__init__()
        self.needed = needed

    def _check(self, info: Info) -> None:
        context: Context = info.context
        refused = refusal(info.field_name, context.principal, self.needed)
        if refused is not None:
            raise refused

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info,
                **kwargs: Any) -> Any:
        self._check(info)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any,
                            info: Info, **kwargs: Any) -> Any:
        self._check(info)
        return await next_(source, info, **kwargs)


def scoped(mutation_type: type, *, admin: type) -> type:
    """``mutation_type`` with :class:`RequireScope` on every field (once, innermost): the
    fields ``admin`` defines need ``admin``, the others ``deployments:write``."""
    admin_fields = {field.python_name
                    for field in get_object_definition(admin, strict=True).fields}
    for field in get_object_definition(mutation_type, strict=True).fields:
        if not any(isinstance(extension, RequireScope) for extension in field.extensions):
            needed = scopes.ADMIN if field.python_name in admin_fields else \
                scopes.DEPLOYMENTS_WRITE
            field.extensions.insert(0, RequireScope(needed))
    return mutation_type
