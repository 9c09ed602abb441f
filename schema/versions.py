"""Versions of a deployment beyond PrimeHub's contract: rollback to a recorded spec.

``rollbackPhDeployment`` finds the entry by the id ``history`` gives its ``deployment``
(``<id>-<time>``, PrimeHub's form), so a client copies it from what it just read; anything
else is refused naming ``historyId`` before anything is written. The spec written back is
checked by the same rules as an update (it may name an instance type or a Secret the group
has lost since), under the same lock. What a rollback keeps as it is now is decided by
:func:`schema.specs.rolled_back`.
"""

from __future__ import annotations

from dataclasses import replace

import strawberry

from gateway.kube.phdeployments import DeploymentSpec, HistoryEntry
from gateway.kube.phdeployments import PhDeployment as DeploymentView
from schema import permissions, specs, validation
from schema.context import Info
from schema.errors import BadUserInput
from schema.inputs import PhDeploymentRollbackInput, PhDeploymentWhereUniqueInput
from schema.mutations import START_LOCK, check_start, now_text, write_spec
from schema.queries import present, visible_deployment
from schema.types import PhDeployment


def recorded(deployment: DeploymentView, history_id: str) -> HistoryEntry:
    """The history entry whose ``deployment.id`` is ``history_id``."""
    for entry in deployment.status.history:
        if history_id == f"{deployment.name}-{entry.time}":
            return entry
    raise BadUserInput("historyId", f"{history_id[:120]!r} is not the id of an entry in the "
                       f"history of {deployment.name!r} (ids are <id>-<time>, as history "
                       "lists them)")


def _same_version(spec: DeploymentSpec, current: DeploymentSpec) -> bool:
    return replace(spec, update_time=current.update_time, update_message=current.update_message,
                   user_id=current.user_id, user_name=current.user_name) == current


async def rollback(info: Info, where: PhDeploymentWhereUniqueInput,
                   data: PhDeploymentRollbackInput) -> PhDeployment:
    context = info.context
    current = visible_deployment(context, where.id)
    principal = permissions.require_member(context, current.spec.group_id)
    message = validation.text(data.update_message, field="updateMessage")
    entry = recorded(current, data.history_id)
    now = now_text(context)

    def rolled(fresh: DeploymentView) -> DeploymentSpec:
        spec = specs.rolled_back(fresh.spec, entry.spec, time=entry.time,
                                 user=principal.username, now=now, message=message)
        if _same_version(spec, fresh.spec):
            raise BadUserInput("historyId", f"the deployment already runs the version "
                               f"recorded at {entry.time}; nothing to roll back")
        return spec

    preview = rolled(current)
    async with context.services.locks.hold(START_LOCK):
        check_start(context, deployment_id=current.name, group_id=current.spec.group_id,
                    predictor=preview.predictor, already_running=not current.spec.stop)
        written = await write_spec(context, current.name, rolled)
    return present(context, written)


@strawberry.type
class VersionMutations:
    rollback_ph_deployment: PhDeployment = strawberry.mutation(resolver=rollback, description=(
        "Write the spec of a history entry back (model, predictors, replicas, env, ...). The "
        "endpoint stays as it is now: clients and access type are not rolled back. The "
        "history records \"rolled back to <time>\"; the status goes Deploying -> Deployed as "
        "for any update."))
