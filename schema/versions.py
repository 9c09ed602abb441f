"""Versions of a deployment beyond PrimeHub's contract: rollback, predictors, traffic, promote.

Predictors (the rules are :mod:`schema.predictors`'): add, update and remove one, set every
predictor's share of the requests (and the sticky setting), promote one. Each is a spec write
with the caller recorded and a message for the history; adding or changing one checks the
group's rules for it as for a deployment (instance type allowed, within quota, references
allowed), and none of them starts or stops the deployment.

Promote never drops a request: it first makes the predictor the primary at 100% with the
others at 0% (still running), waits until the controller has published that route
(``API_DATA_PLANE_WAIT``), then lets requests already sent to the others finish
(``API_PROMOTE_DRAIN``) before it removes them. Should the wait fail, or the API stop in
between, the deployment is left in that first state (nothing dropped; the others can be
removed later), and the error says so.

``rollbackPhDeployment`` finds the entry by the id ``history`` gives its ``deployment``
(``<id>-<time>``, PrimeHub's form), so a client copies it from what it just read; anything
else is refused naming ``historyId`` before anything is written. The spec written back is
checked by the same rules as an update (it may name an instance type or a Secret the group
has lost since), under the same lock. What a rollback keeps as it is now is decided by
:func:`schema.specs.rolled_back`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

import strawberry
from strawberry import UNSET

from gateway.api.dataplane import NotConfirmed
from gateway.kube.phdeployments import FULL_TRAFFIC, DeploymentSpec, HistoryEntry, Predictor
from gateway.kube.phdeployments import PhDeployment as DeploymentView
from proxy.records import Route
from schema import autoscaling, permissions, predictors, specs, validation
from schema.context import Context, Info
from schema.errors import BadUserInput, Unavailable
from schema.inputs import (
    PhDeploymentPredictorCreateInput,
    PhDeploymentPredictorNameInput,
    PhDeploymentPredictorUpdateInput,
    PhDeploymentRollbackInput,
    PhDeploymentTrafficInput,
    PhDeploymentWhereUniqueInput,
)
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
                    predictors=preview.predictors,
                    already_running=not current.spec.stop)
        written = await write_spec(context, current.name, rolled)
    return present(context, written)


Change = Callable[[DeploymentSpec, str, str], DeploymentSpec | None]


async def _write(info: Info, deployment_id: str, change: Change, *,
                 checked: bool) -> DeploymentView:
    """Apply ``change(spec, user, now)`` to the deployment the caller may act on; ``checked``:
    run the start rules on the result first (under the start lock, as updates do)."""
    context = info.context
    current = visible_deployment(context, deployment_id)
    principal = permissions.require_member(context, current.spec.group_id)
    now = now_text(context)

    def apply(fresh: DeploymentView) -> DeploymentSpec | None:
        return change(fresh.spec, principal.username, now)

    if not checked:
        return await write_spec(context, current.name, apply)
    preview = apply(current)
    async with context.services.locks.hold(START_LOCK):
        if preview is not None:
            check_start(context, deployment_id=current.name, group_id=current.spec.group_id,
                        predictors=preview.predictors, already_running=True)
        return await write_spec(context, current.name, apply)


def _new_predictor(context: Context, data: PhDeploymentPredictorCreateInput,
                   primary: Predictor) -> Predictor:
    settings = context.services.settings
    return Predictor(
        name=predictors.name(data.name),
        replicas=validation.replicas(1 if data.replicas is None else data.replicas,
                                     maximum=settings.max_replicas),
        model_image=validation.model_image(data.model_image),
        instance_type=(validation.instance_type(data.instance_type) if data.instance_type
                       else primary.instance_type),
        model_uri=validation.model_uri(data.model_uri, schemes=settings.accepted_schemes),
        image_pull_secret=validation.image_pull_secret(data.image_pull_secret),
        metadata=validation.metadata(data.metadata),
        model_uri_secret=validation.secret_name(data.model_uri_secret, field="modelURISecret"),
        env=validation.env(data.env),
        autoscaling=autoscaling.validated(data.autoscaling, max_replicas=settings.max_replicas))


async def add_predictor(info: Info, where: PhDeploymentWhereUniqueInput,
                        data: PhDeploymentPredictorCreateInput) -> PhDeployment:
    current = visible_deployment(info.context, where.id)
    predictor = _new_predictor(info.context, data, current.spec.predictor)
    written = await _write(info, where.id, lambda spec, user, now: predictors.added(
        spec, predictor, user=user, now=now), checked=True)
    return present(info.context, written)


async def update_predictor(info: Info, where: PhDeploymentWhereUniqueInput,
                           data: PhDeploymentPredictorUpdateInput) -> PhDeployment:
    fields = specs.predictor_changes(data, settings=info.context.services.settings)
    if data.env is not UNSET:
        fields["env"] = validation.env(data.env)
    written = await _write(info, where.id, lambda spec, user, now: predictors.changed(
        spec, data.name, fields, user=user, now=now), checked=True)
    return present(info.context, written)


async def remove_predictor(info: Info, where: PhDeploymentWhereUniqueInput,
                           data: PhDeploymentPredictorNameInput) -> PhDeployment:
    written = await _write(info, where.id, lambda spec, user, now: predictors.removed(
        spec, data.name, user=user, now=now), checked=False)
    return present(info.context, written)


async def set_traffic(info: Info, where: PhDeploymentWhereUniqueInput,
                      data: PhDeploymentTrafficInput) -> PhDeployment:
    split = [(item.name, item.traffic_percent) for item in data.split]

    def change(spec: DeploymentSpec, user: str, now: str) -> DeploymentSpec:
        return predictors.with_traffic(spec, predictors.shares(split, spec), sticky=data.sticky,
                                       user=user, now=now)

    return present(info.context, await _write(info, where.id, change, checked=False))


async def promote_predictor(info: Info, where: PhDeploymentWhereUniqueInput,
                            data: PhDeploymentPredictorNameInput) -> PhDeployment:
    context = info.context
    current = visible_deployment(context, where.id)
    wanted = data.name
    predictors.find(current.spec, wanted)
    if current.spec.predictor.name == wanted and not current.spec.others:
        raise BadUserInput("name", f"{wanted!r} is already the only predictor")
    first = await _write(info, where.id, lambda spec, user, now: predictors.promoted(
        spec, wanted, user=user, now=now), checked=False)
    cache = context.services.store.deployments

    def everything_to_it(route: Route) -> bool:
        return route.predictors[0].name == wanted and \
            route.predictors[0].weight == FULL_TRAFFIC

    def settled() -> bool:  # nothing routed and nothing coming: nothing to drain either
        now = cache.get(first.name)
        return now is None or now.uid != first.uid or (
            now.status.phase == "Failed"
            and (now.status.observed_generation or 0) >= first.generation)

    try:
        await context.services.data_plane.routed(first.name, everything_to_it, settled=settled)
    except NotConfirmed as error:
        raise Unavailable(f"{wanted!r} is now the primary at 100% and the other predictors at "
                          f"0% still run, but the route could not be confirmed: "
                          f"{error.reason}; remove them with removePhDeploymentPredictor once "
                          "the proxies route nothing to them") from error
    await asyncio.sleep(context.services.settings.promote_drain)
    written = await _write(info, where.id, lambda spec, user, now: predictors.retired(
        spec, wanted, user=user, now=now), checked=False)
    return present(context, written)


@strawberry.type
class VersionMutations:
    rollback_ph_deployment: PhDeployment = strawberry.mutation(resolver=rollback, description=(
        "Write the spec of a history entry back (model, predictors, replicas, env, ...). The "
        "endpoint stays as it is now: clients and access type are not rolled back. The "
        "history records \"rolled back to <time>\"; the status goes Deploying -> Deployed as "
        "for any update."))
    add_ph_deployment_predictor: PhDeployment = strawberry.mutation(
        resolver=add_predictor, description=(
            "Add a predictor (a version of the model) at 0% of the requests: it runs and is "
            "reachable by /deployment/<id>@<name>/ until setPhDeploymentTraffic gives it a "
            "share. Checked against the group's instance types, quota and allowed references "
            "like the deployment itself."))
    update_ph_deployment_predictor: PhDeployment = strawberry.mutation(
        resolver=update_predictor, description=(
            "Change one predictor's fields (only those sent); its share stays. For the "
            "primary this is the same as updatePhDeployment's model fields."))
    remove_ph_deployment_predictor: PhDeployment = strawberry.mutation(
        resolver=remove_predictor, description=(
            "Remove a predictor and its pods. Not the primary, and not one with a share of "
            "the requests (set it to 0 first, or promote another)."))
    set_ph_deployment_traffic: PhDeployment = strawberry.mutation(
        resolver=set_traffic, description=(
            "Set every predictor's share of the requests to /deployment/<id>/ (integers "
            "summing to 100), and optionally whether each client sticks to one predictor."))
    promote_ph_deployment_predictor: PhDeployment = strawberry.mutation(
        resolver=promote_predictor, description=(
            "Make a predictor the primary with 100% of the requests, then remove the others "
            "once the proxies route nothing to them and their requests in flight have "
            "finished (MODEL_GATEWAY_API_PROMOTE_DRAIN): no request is dropped. Returns when "
            "the others are removed."))
