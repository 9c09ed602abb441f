"""``auditEvents``: the audit trail's query window, newest first, in cursor pages.

Admins see every record; anyone else sees the records of their groups' deployments (a
record's ``group``, or for a proxy's record, which does not know it, the group of the
deployment its target names). The window is Redis (:mod:`gateway.api.auditwindow`); when it
cannot be read the query fails with ``SERVICE_UNAVAILABLE``, and the records are still in the
components' logs, their store of record (:mod:`proxy.audit`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Annotated, Final

import strawberry
from redis.exceptions import RedisError

from gateway.api.auditwindow import CURSOR, AuditFilter
from proxy.audit import AuditRecord
from schema import permissions, validation
from schema.context import Context, Info
from schema.errors import BadUserInput, Unavailable

DEFAULT_PAGE: Final = 50
MAX_PAGE: Final = 500


@strawberry.type(description="One audited event: a management mutation (one record per "
                 "call), or a streak of refused tokens (one record per streak).")
class AuditEvent:
    id: strawberry.ID = strawberry.field(
        description="The record's id; its log line carries it as audit_id.")
    time: str = strawberry.field(description="When it happened (ISO 8601, UTC).")
    component: str = strawberry.field(description="Who wrote the record: api or proxy.")
    actor: str = strawberry.field(
        description="The user who called; for a refused token, the user or client it names; "
        "empty when nobody is known.")
    actor_token_id: str | None = strawberry.field(
        description="The id of the API token the actor used (bootstrap for the bootstrap "
        "token); null for single sign-on and client tokens.")
    action: str = strawberry.field(
        description="The mutation's name (createPhDeployment, ...), or for a refusal streak "
        "refusedClientToken, refusedApiToken or lockedOutAddress.")
    target: str = strawberry.field(
        description="What it acted on: deployment/<id>, deployment/<id>/client/<name>, "
        "group/<name>, instanceType/<name>, apiToken/<id>, address/<address> (an address "
        "locked out); ? for an id that was not well-formed.")
    group: str | None = strawberry.field(
        description="The group of the deployment acted on, when known.")
    outcome: str = strawberry.field(
        description="success, or the error code it failed with (NOT_AUTH, BAD_USER_INPUT, "
        "...); for a refusal streak, why tokens were refused (EXPIRED, LOCKED_OUT, ...).")
    reason: str | None = strawberry.field(
        description="The reason the caller gave, if any.")
    request_id: str = strawberry.field(
        description="The request's id (its X-Request-Id), as in the access log.")
    source_address: str = strawberry.field(description="The caller's address.")

    @classmethod
    def from_record(cls, record: AuditRecord) -> AuditEvent:
        return cls(id=strawberry.ID(record.id), time=record.at, component=record.component,
                   actor=record.actor, actor_token_id=record.token_id, action=record.action,
                   target=record.target, group=record.group, outcome=record.outcome,
                   reason=record.reason, request_id=record.request_id,
                   source_address=record.address)


@strawberry.type(description="An audit event and the cursor to continue after it.")
class AuditEventEdge:
    node: AuditEvent = strawberry.field(description="The event.")
    cursor: str = strawberry.field(description="Pass as after to get the events older "
                                   "than this one.")


@strawberry.type(description="Where a page of audit events ends.")
class AuditPageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether older events may match (a page can hold fewer than first "
        "events and still have a next page: follow endCursor).")
    end_cursor: str | None = strawberry.field(
        description="Pass as after to get the next page.")


@strawberry.type(description="A page of audit events, newest first.")
class AuditEventConnection:
    edges: list[AuditEventEdge] = strawberry.field(description="The events of this page.")
    page_info: AuditPageInfo = strawberry.field(description="Where the page ends.")


@strawberry.input(description="Which audit events to return; every condition given must "
                  "hold.")
class AuditEventWhereInput:
    target: str | None = strawberry.field(
        default=None, description="This target and everything below it (deployment/iris "
        "also finds deployment/iris/client/app).")
    actor: str | None = strawberry.field(default=None, description="Exactly this actor.")
    action: str | None = strawberry.field(default=None, description="Exactly this action.")
    since: str | None = strawberry.field(
        default=None, description="At or after this time (ISO 8601; without a zone, UTC).")
    until: str | None = strawberry.field(
        default=None, description="At or before this time (ISO 8601; without a zone, UTC).")


def _filter(where: AuditEventWhereInput | None) -> AuditFilter:
    where = where or AuditEventWhereInput()
    since = validation.instant(where.since, field="since", zone=UTC)
    until = validation.instant(where.until, field="until", zone=UTC)
    return AuditFilter(
        target=validation.line(where.target, field="target"),
        actor=validation.line(where.actor, field="actor"),
        action=validation.line(where.action, field="action"),
        since=None if since is None else since.timestamp(),
        until=None if until is None else until.timestamp())


def _visibility(context: Context) -> Callable[[AuditRecord], bool]:
    principal = permissions.caller(context)
    if principal.admin:
        return lambda _record: True
    groups = permissions.groups_of(context, principal)
    deployments = context.services.store.deployments

    def visible(record: AuditRecord) -> bool:
        if record.group is not None:
            return record.group in groups
        kind, _, rest = record.target.partition("/")
        found = deployments.get(rest.partition("/")[0]) if kind == "deployment" else None
        return found is not None and found.spec.group_id in groups

    return visible


async def _audit_events(
        info: Info, where: AuditEventWhereInput | None = None,
        first: Annotated[int, strawberry.argument(
            description=f"Events per page (1 to {MAX_PAGE}).")] = DEFAULT_PAGE,
        after: Annotated[str | None, strawberry.argument(
            description="A cursor (edges' cursor or pageInfo.endCursor): continue with older "
            "events.")] = None) -> AuditEventConnection:
    context = info.context
    visible = _visibility(context)
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput("first", f"must be between 1 and {MAX_PAGE}")
    if after is not None and not CURSOR.fullmatch(after):
        raise BadUserInput("after", "is not a cursor this query returned")
    try:
        page = await context.services.audit_window.page(
            where=_filter(where), visible=visible, first=first, after=after)
    except (RedisError, OSError) as error:
        raise Unavailable("the audit trail cannot be read right now (its Redis is "
                          "unreachable); every record is in the components' logs") from error
    return AuditEventConnection(
        edges=[AuditEventEdge(node=AuditEvent.from_record(record), cursor=cursor)
               for cursor, record in page.entries],
        page_info=AuditPageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor))


@strawberry.type
class AuditQueries:
    audit_events: AuditEventConnection = strawberry.field(
        resolver=_audit_events,
        description="The audit trail of the last MODEL_GATEWAY_AUDIT_WINDOW (7 days by "
        "default), newest first: admins see every event, others the events of their groups' "
        "deployments.")
