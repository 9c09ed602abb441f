"""Live updates: GraphQL subscriptions, served over WebSocket with ``graphql-transport-ws``.

Connect to ``/graphql`` (``ws://`` or ``wss://``) with the ``graphql-transport-ws``
subprotocol (the npm package ``graphql-ws`` speaks it), authenticated like any request: a
Bearer token on the handshake, or the console's session cookie. Changes come from the API's
watch caches (:mod:`gateway.api.feeds`) the moment the cache sees them, so a status the
controller writes reaches a subscriber within a fraction of a second, and nobody polls.

Authorization is that of the queries: ``phDeployment`` as the ``phDeployment`` query
(``NOT_FOUND``/``NOT_AUTH`` before anything is sent), ``phDeployments`` the deployments the
caller may list; both check again on every change, so a member removed from a group stops
receiving that group's deployments, and a subscription whose token or session was revoked,
expired or signed out ends with ``NOT_AUTH`` at the next change.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from gateway.api.feeds import DeploymentFeed
from gateway.kube.phdeployments import PhDeployment as DeploymentView
from schema import listing, permissions
from schema.context import Info
from schema.inputs import PhDeploymentWhereInput, PhDeploymentWhereUniqueInput
from schema.queries import deployment_filter, present, visible_deployment
from schema.types import PhDeployment


@strawberry.type(description="One change to the list a `phDeployments` subscription watches.")
class PhDeploymentEvent:
    type: str = strawberry.field(description=(
        "`ADDED`: the deployment joined the list (created, or now matches `where`); "
        "`MODIFIED`: it changed (status, phase, message, replicas, pods or spec); "
        "`DELETED`: it left the list (deleted, or no longer matches `where`)."))
    id: strawberry.ID = strawberry.field(description="The deployment's id.")
    deployment: PhDeployment | None = strawberry.field(
        description="The deployment now; null when `DELETED`.")


def _matches(view: DeploymentView | None, rule: listing.Filter) -> bool:
    return view is not None and bool(listing.select([view], rule))


async def _deployment(info: Info, where: PhDeploymentWhereUniqueInput,
                      ) -> AsyncGenerator[PhDeployment | None, None]:
    context = info.context
    with DeploymentFeed(context.services.store, only=where.id) as feed:
        yield present(context, visible_deployment(context, where.id))
        async for batch in feed.changes():
            permissions.still_caller(context)
            for change in batch:
                if change.after is None:
                    yield None
                    return
                yield present(context, visible_deployment(context, where.id))


async def _deployments(info: Info, where: PhDeploymentWhereInput | None = None,
                       ) -> AsyncGenerator[PhDeploymentEvent, None]:
    context = info.context
    permissions.caller(context)
    with DeploymentFeed(context.services.store) as feed:
        async for batch in feed.changes():
            permissions.still_caller(context)
            rule = deployment_filter(context, where)  # membership may have changed
            for change in batch:
                was, now = _matches(change.before, rule), _matches(change.after, rule)
                if now and change.after is not None:
                    yield PhDeploymentEvent(type="MODIFIED" if was else "ADDED",
                                            id=strawberry.ID(change.name),
                                            deployment=present(context, change.after))
                elif was:
                    yield PhDeploymentEvent(type="DELETED", id=strawberry.ID(change.name),
                                            deployment=None)


@strawberry.type
class Subscription:
    ph_deployment = strawberry.subscription(
        resolver=_deployment, description=(
            "The deployment now, then again after every change to it (status, phase, message, "
            "replicas, pods, spec). Sends null and ends when the deployment is deleted. Errors "
            "as the `phDeployment` query."))
    ph_deployments = strawberry.subscription(
        resolver=_deployments, description=(
            "Changes to the deployments the caller sees, filtered by `where` as the "
            "`phDeployments` query is: one event per change, no snapshot. Subscribe first, "
            "then query the list, then apply the events (replace by id; `DELETED` removes)."))
