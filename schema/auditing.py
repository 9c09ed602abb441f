"""Every mutation is audited: one field extension on every field of the ``Mutation`` type.

:func:`audited` puts :class:`Audited` on each mutation field when the schema is assembled, so
a mutation added to ``Mutation`` is audited without its resolver doing anything. One call
writes exactly one record (:mod:`proxy.audit`), whatever happens: success, an expected error
(its code: ``NOT_AUTH`` for a caller without the right, ``BAD_USER_INPUT``, ...), an
unexpected one (``INTERNAL_SERVER_ERROR``) or the caller going away mid-way (``CANCELLED``).

What a record says is derived, never copied from the input:

- ``action``: the mutation's name (``deletePhDeploymentClient``);
- ``target``: the kind the name mentions (:data:`KINDS`, first match) and the ids of its
  ``where``/``data`` arguments (``deployment/iris``, ``deployment/iris/client/app``,
  ``group/team-a``, ``instanceType/cpu-1``, ``apiToken/<id>``). Only an argument shaped like
  an identifier is used (:func:`identifier`); anything else is ``?``. A name that mentions no
  known kind is its own kind with no id. ``createApiToken`` names its new token, read from
  its result;
- ``group``: a deployment's group (looked up before the mutation runs, so a deletion keeps
  it), so group members see their deployments' records;
- ``reason``: a ``reason`` argument, if any (:func:`proxy.audit.redacted` takes out anything
  shaped like a token).

No other input value is ever read: no env, no token, no description reaches the record.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any, Final

from strawberry.extensions import FieldExtension
from strawberry.types.base import get_object_definition

from proxy.audit import SUCCESS, redacted
from schema.context import Context, Info
from schema.errors import ApiError

KINDS: Final = (("PhDeploymentClient", "client"), ("PhDeployment", "deployment"),
                ("Group", "group"), ("InstanceType", "instanceType"), ("ApiToken", "apiToken"))
UNKNOWN: Final = "?"
_IDENTIFIER: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,252}")


def identifier(value: object) -> str:
    """``value`` if it is shaped like an id (and not like a token), else ``?``."""
    if isinstance(value, str) and _IDENTIFIER.fullmatch(value) and redacted(value) == value:
        return value
    return UNKNOWN


def _argument(kwargs: dict[str, Any], *names: str) -> object:
    """The first of ``names`` found on the ``where`` or ``data`` argument."""
    for holder in (kwargs.get("where"), kwargs.get("data")):
        for name in names:
            value = getattr(holder, name, None)
            if value is not None:
                return value
    return None


def kind_of(mutation: str) -> str:
    return next((kind for fragment, kind in KINDS if fragment in mutation), mutation)


def target_of(mutation: str, kwargs: dict[str, Any]) -> str:
    """``kind/id`` of what ``mutation`` acts on, from its arguments (before it runs)."""
    kind = kind_of(mutation)
    if kind == "client":
        deployment = identifier(_argument(kwargs, "deployment_id"))
        return f"deployment/{deployment}/client/{identifier(_argument(kwargs, 'name'))}"
    if kind == "deployment":
        return f"deployment/{identifier(_argument(kwargs, 'id', 'deployment_id'))}"
    if kind in ("group", "instanceType"):
        return f"{kind}/{identifier(_argument(kwargs, 'id', 'name'))}"
    if kind == "apiToken":
        return f"apiToken/{identifier(_argument(kwargs, 'id'))}"
    return kind


def _created_token(result: object) -> str | None:
    """The id of the token ``createApiToken`` made."""
    token = getattr(result, "api_token", None)
    return identifier(getattr(token, "id", None)) if token is not None else None


def group_of(context: Context, target: str, kwargs: dict[str, Any]) -> str | None:
    """The group of the deployment ``target`` names (a new one's from its input)."""
    if not target.startswith("deployment/"):
        return None
    found = context.services.store.deployments.get(target.split("/")[1])
    if found is not None:
        return found.spec.group_id
    group = identifier(_argument(kwargs, "group_id"))
    return None if group == UNKNOWN else group


def outcome_of(error: BaseException) -> str:
    if isinstance(error, ApiError):
        return str(error.extensions.get("code", error.code))
    if isinstance(error, asyncio.CancelledError):
        return "CANCELLED"
    return "INTERNAL_SERVER_ERROR"


def _reason(kwargs: dict[str, Any]) -> str | None:
    reason = kwargs.get("reason")
    if reason is None:
        reason = _argument(kwargs, "reason")
    return reason if isinstance(reason, str) else None


class _Call:
    """One mutation call being audited: what is known before it runs."""

    def __init__(self, info: Info, kwargs: dict[str, Any]) -> None:
        self.context = info.context
        self.mutation = info.field_name
        self.target = target_of(self.mutation, kwargs)
        self.group = group_of(self.context, self.target, kwargs)
        self.reason = _reason(kwargs)

    def done(self, outcome: str, result: object = None) -> None:
        context = self.context
        principal = context.principal
        target = self.target
        if self.mutation == "createApiToken":
            target = f"apiToken/{_created_token(result) or UNKNOWN}"
        context.services.audit.record(
            actor=principal.username if principal is not None else "",
            token_id=principal.token_id if principal is not None else None,
            action=self.mutation, target=target, outcome=outcome,
            request_id=context.request_id, address=context.address, group=self.group,
            reason=self.reason)


class Audited(FieldExtension):
    """Writes one audit record per call of the field it is on."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info,
                **kwargs: Any) -> Any:
        call = _Call(info, kwargs)
        try:
            result = next_(source, info, **kwargs)
        except BaseException as error:
            call.done(outcome_of(error))
            raise
        call.done(SUCCESS, result)
        return result

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any,
                            info: Info, **kwargs: Any) -> Any:
        call = _Call(info, kwargs)
        try:
            result = await next_(source, info, **kwargs)
        except BaseException as error:
            call.done(outcome_of(error))
            raise
        call.done(SUCCESS, result)
        return result


def audited(mutation_type: type) -> type:
    """``mutation_type`` with :class:`Audited` on every field (once)."""
    for field in get_object_definition(mutation_type, strict=True).fields:
        if not any(isinstance(extension, Audited) for extension in field.extensions):
            field.extensions.append(Audited())
    return mutation_type
