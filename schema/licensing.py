"""``Query.license``: PrimeHub's licence shape, answered with our real limit and usage.

PrimeHub's console reads it for its warning banner (usage above ``maxModelDeploy``: the
deployments running in the 10% grace PrimeHub allows) and to disable "Create" once usage
reaches the limit. Here the limit is ``API_LICENSE_MAX_DEPLOY`` and the usage is the number
of running (not stopped) deployments, the same count :mod:`schema.rules` enforces, so the
banner warns exactly while the grace is in use. Limits we do not have are PrimeHub's
"unlimited" value, ``-1``; usage we do not count (users, nodes) is ``null``, never a guess.
"""

from __future__ import annotations

from datetime import UTC

import strawberry

from schema import permissions
from schema.context import Info
from schema.rules import running

UNLIMITED = -1
_TIME = "%Y-%m-%dT%H:%M:%SZ"


@strawberry.type(description="What the licence's limits are used for right now.")
class Usage:
    max_user: int | None = strawberry.field(
        default=None, description="Always null: users live in your identity provider, and "
        "no user limit applies here.")
    max_group: int | None = strawberry.field(
        default=None, description="How many groups exist.")
    max_node: int | None = strawberry.field(
        default=None, description="Always null: nodes are not licensed or counted here.")
    max_model_deploy: int | None = strawberry.field(
        default=None, description="How many deployments are running (not stopped).")


@strawberry.type(description="PrimeHub's licence: our deployment limit and its usage.")
class License:
    licensed_to: str | None = strawberry.field(
        default=None, description="Always null: no licensee is recorded here.")
    license_status: str | None = strawberry.field(
        default=None, description="`unexpired`, or `expired` once API_LICENSE_EXPIRES has "
        "passed (PrimeHub's values).")
    started_at: str | None = strawberry.field(
        default=None, description="Always null: no start is recorded here.")
    expired_at: str | None = strawberry.field(
        default=None, description="API_LICENSE_EXPIRES (UTC), or null when it never expires.")
    max_user: int | None = strawberry.field(
        default=UNLIMITED, description="Always -1 (PrimeHub's 'unlimited').")
    max_group: int | None = strawberry.field(
        default=UNLIMITED, description="Always -1 (PrimeHub's 'unlimited').")
    max_node: int | None = strawberry.field(
        default=UNLIMITED, description="Always -1 (PrimeHub's 'unlimited').")
    max_model_deploy: int | None = strawberry.field(
        default=UNLIMITED, description="API_LICENSE_MAX_DEPLOY: the licensed number of running "
        "deployments (starting more is refused beyond it plus 10%); -1 when unlimited.")
    usage: Usage | None = None


def _license(info: Info) -> License:
    permissions.caller(info.context)
    services = info.context.services
    settings = services.settings
    expires = settings.license_expires
    expired = expires is not None and services.clock() >= expires
    limit = settings.license_max_deploy
    store = services.store
    return License(
        license_status="expired" if expired else "unexpired",
        expired_at=expires.astimezone(UTC).strftime(_TIME) if expires else None,
        max_model_deploy=UNLIMITED if limit is None else limit,
        usage=Usage(max_group=sum(1 for _ in store.groups.values()),
                    max_model_deploy=running(store.deployments.values())))


@strawberry.type
class LicenseQueries:
    license: License | None = strawberry.field(
        resolver=_license, description="The licence and its usage (any signed-in user).")
