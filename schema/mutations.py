"""Write operations of PrimeHub's contract: the deployment lifecycle and its clients.

Each mutation checks, in order: the caller may act on the deployment's group (``NOT_AUTH``),
the input (``BAD_USER_INPUT``/``ILLEGAL_ENV_NAME``, naming the field), then the rules of
:mod:`schema.rules` when the write (re)starts a deployment. The write itself is optimistic
(read, change, replace with the version read, retry on conflict), and the mutation returns
once the watch cache has seen it, so the caller's next read shows it. Rule checks and their
write hold one process-wide lock, so concurrent starts cannot both take the last slot.

Client tokens: 256 random bits, hashed with the proxy's ``CryptContext`` off the event loop,
the hash stored in the deployment's clients Secret before the name appears in the spec (the
name is never published without its hash), the plain token returned once. The hash's
details (created when and by whom, optional expiry) are written with it, in the same Secret
update, so the controller publishes a token and its expiry together. Rotation works the same
way: the new hash and the replaced one (with the end of its overlap) go into the Secret in one
update, and the token is returned once the API's cache has seen it.

Every token is returned only once the proxy can verify it (:mod:`schema.confirming`). If the
data plane does not confirm a new client's token in time, the client is undone (a replaced
token's hash and details are put back) and the mutation fails with ``SERVICE_UNAVAILABLE``: a
token nobody can use is never shown. A rotation that is not confirmed fails the same way and
says the old token keeps working through its overlap. A switch to ``private`` waits for the
existing clients' tokens; it is not undone, so on timeout it fails saying the change was saved
and the tokens will work once the controller publishes them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, timedelta
from typing import Annotated

import strawberry

from gateway.api.dataplane import NotConfirmed
from gateway.api.readback import caught_up
from gateway.api.tokens import new_client_token
from gateway.kube import clientsecrets, phdeployments
from gateway.kube.errors import AlreadyExists
from gateway.kube.phdeployments import DeploymentSpec, Predictor
from gateway.kube.phdeployments import PhDeployment as DeploymentView
from schema import autoscaling, permissions, rules, specs, validation
from schema.confirming import usable
from schema.context import Context, Info
from schema.errors import BadUserInput, Unavailable, kube_errors
from schema.inputs import (
    PhDeploymentClientCreateInput,
    PhDeploymentClientRotateInput,
    PhDeploymentClientWhereUniqueInput,
    PhDeploymentCreateInput,
    PhDeploymentUpdateInput,
    PhDeploymentWhereUniqueInput,
)
from schema.queries import present, visible_deployment
from schema.types import PhDeployment, PhDeploymentClientCreateResponse

log = logging.getLogger(__name__)

KIND = "phdeployments.primehub.io"
START_LOCK = "start"


def check_start(context: Context, *, deployment_id: str, group_id: str | None,
                predictors: Iterable[Predictor], already_running: bool) -> None:
    """Every rule a (re)started deployment must satisfy, against the caches: each predictor's
    instance type, references and size are checked (a canary counts like the primary)."""
    services = context.services
    store = services.store
    rules.licence_valid(expires=services.settings.license_expires, now=services.clock())
    group = rules.usable_group(store.groups.get(group_id) if group_id else None)
    for predictor in predictors:
        instance_type = predictor.instance_type
        found = rules.usable_instance_type(group, instance_type,
                                           store.instance_types.get(instance_type))
        rules.references_allowed(group, predictor, services.settings.sources)
        rules.within_quota(group, found)
        autoscaling.within_quota(group, found, predictor.autoscaling)
    if not already_running:
        rules.room_to_start(group, store.deployments.values(), deployment_id=deployment_id,
                            licence_limit=services.settings.license_max_deploy)


async def write_spec(context: Context, deployment_id: str,
                     change: Callable[[DeploymentView], DeploymentSpec | None]) -> DeploymentView:
    services = context.services
    with kube_errors(what=KIND, name=deployment_id):
        written = await phdeployments.change_spec(services.kube, namespace=services.namespace,
                                                  name=deployment_id, change=change)
    await caught_up(services.store.deployments, written.name, written.resource_version)
    return written


async def forget_client(context: Context, deployment_id: str, client: str) -> None:
    services = context.services
    with kube_errors(what=KIND, name=deployment_id):
        await clientsecrets.remove_client(services.kube, namespace=services.namespace,
                                          deployment_id=deployment_id, client=client)


async def _clients_usable(context: Context, written: DeploymentView) -> None:
    """After a switch to private: wait until the clients' stored hashes are published."""
    services = context.services
    with kube_errors(what=KIND, name=written.name):
        stored = await clientsecrets.hashes(services.kube, namespace=services.namespace,
                                            deployment_id=written.name)
    try:
        await usable(context, written, {name: stored[name]
                                        for name in written.spec.endpoint.clients
                                        if name in stored})
    except NotConfirmed as error:
        raise Unavailable(f"the deployment is now private and the change is saved, but its "
                          f"clients' tokens could not be confirmed usable: {error.reason}; "
                          "they work once the controller publishes them") from error


StoredClient = tuple[str, clientsecrets.ClientDetails | None]


async def _stored_client(context: Context, deployment_id: str,
                         name: str) -> StoredClient | None:
    """A client's current hash and details, to put back if its replacement is not confirmed."""
    services = context.services
    with kube_errors(what=KIND, name=deployment_id):
        stored = await clientsecrets.hashes(services.kube, namespace=services.namespace,
                                            deployment_id=deployment_id)
    if name not in stored:
        return None
    details = services.store.client_details.get(clientsecrets.secret_name(deployment_id))
    return stored[name], (details or {}).get(name)


async def _undo_client(context: Context, written: DeploymentView, name: str, *,
                       replaced: StoredClient | None) -> None:
    """Take back a client whose token the data plane did not confirm."""
    services = context.services
    if replaced is None:
        await write_spec(context, written.name, lambda fresh: specs.without_client(
            fresh.spec, name) if name in fresh.spec.endpoint.clients else None)
        await forget_client(context, written.name, name)
        return
    old_hash, old_details = replaced
    with kube_errors(what=KIND, name=written.name):
        await clientsecrets.put_client(services.kube, deployment=written, client=name,
                                       hash_=old_hash, details=old_details)


def now_text(context: Context) -> str:
    return phdeployments.timestamp(context.services.clock())


@strawberry.type
class DeploymentMutations:
    @strawberry.mutation
    async def create_ph_deployment(self, info: Info,
                                   data: PhDeploymentCreateInput) -> PhDeployment:
        context = info.context
        services = context.services
        deployment_id = validation.deployment_id(data.id)
        if not data.group_id:
            raise BadUserInput("groupId", "must name a group")
        principal = permissions.require_member(context, data.group_id)
        group = services.store.groups.get(data.group_id)
        spec = specs.created(data, group=rules.usable_group(group), user=principal.username,
                             now=now_text(context), settings=services.settings)
        async with services.locks.hold(START_LOCK):
            check_start(context, deployment_id=deployment_id, group_id=data.group_id,
                        predictors=spec.predictors, already_running=False)
            try:
                with kube_errors(what=KIND, name=deployment_id):
                    created = await phdeployments.create(
                        services.kube, namespace=services.namespace, name=deployment_id,
                        spec=spec)
            except AlreadyExists as error:
                raise BadUserInput("id", f'"{deployment_id}" is already taken') from error
            await caught_up(services.store.deployments, created.name, created.resource_version)
        return present(context, created)

    @strawberry.mutation
    async def update_ph_deployment(self, info: Info, where: PhDeploymentWhereUniqueInput,
                                   data: PhDeploymentUpdateInput) -> PhDeployment:
        context = info.context
        current = visible_deployment(context, where.id)
        principal = permissions.require_member(context, current.spec.group_id)
        change = specs.changes(data, settings=context.services.settings)
        now = now_text(context)
        preview = specs.updated(current.spec, change, user=principal.username, now=now)
        async with context.services.locks.hold(START_LOCK):
            check_start(context, deployment_id=current.name, group_id=current.spec.group_id,
                        predictors=preview.predictors,
                        already_running=not current.spec.stop)
            before: list[str] = []
            was_public: list[bool] = []

            def apply(fresh: DeploymentView) -> DeploymentSpec:
                before[:] = fresh.spec.endpoint.clients
                was_public[:] = [fresh.spec.endpoint.access_type == "public"]
                return specs.updated(fresh.spec, change, user=principal.username, now=now)

            written = await write_spec(context, current.name, apply)
        for client in specs.dropped_clients(before, written.spec):
            await forget_client(context, written.name, client)
        if was_public == [True] and written.spec.endpoint.clients:
            await _clients_usable(context, written)
        return present(context, written)

    @strawberry.mutation
    async def deploy_ph_deployment(self, info: Info,
                                   where: PhDeploymentWhereUniqueInput) -> PhDeployment:
        context = info.context
        current = visible_deployment(context, where.id)
        principal = permissions.require_member(context, current.spec.group_id)
        now = now_text(context)
        async with context.services.locks.hold(START_LOCK):
            check_start(context, deployment_id=current.name, group_id=current.spec.group_id,
                        predictors=current.spec.predictors,
                        already_running=not current.spec.stop)
            written = await write_spec(context, current.name, lambda fresh: specs.started(
                fresh.spec, user=principal.username, now=now))
        return present(context, written)

    @strawberry.mutation
    async def stop_ph_deployment(self, info: Info,
                                 where: PhDeploymentWhereUniqueInput) -> PhDeployment:
        context = info.context
        current = visible_deployment(context, where.id)
        principal = permissions.require_member(context, current.spec.group_id)
        now = now_text(context)
        written = await write_spec(context, current.name, lambda fresh: specs.stopped(
            fresh.spec, user=principal.username, now=now))
        return present(context, written)

    @strawberry.mutation
    async def delete_ph_deployment(self, info: Info,
                                   where: PhDeploymentWhereUniqueInput) -> PhDeployment:
        context = info.context
        services = context.services
        current = visible_deployment(context, where.id)
        permissions.require_member(context, current.spec.group_id)
        with kube_errors(what=KIND, name=current.name):
            await phdeployments.delete(services.kube, namespace=services.namespace,
                                       name=current.name)
        await caught_up(services.store.deployments, current.name, None)
        return PhDeployment.gone(current.name)

    @strawberry.mutation
    async def create_ph_deployment_client(
            self, info: Info,
            data: PhDeploymentClientCreateInput) -> PhDeploymentClientCreateResponse:
        context = info.context
        services = context.services
        current = visible_deployment(context, data.deployment_id or "")
        principal = permissions.require_member(context, current.spec.group_id)
        name = validation.client_name(data.name)
        now = services.clock()
        expires = validation.future_time(data.expires_at, now)
        details = clientsecrets.ClientDetails(
            created_at=phdeployments.timestamp(now), created_by=principal.username,
            expires_at=None if expires is None else expires.astimezone(UTC).isoformat())
        token = new_client_token()
        hash_ = await asyncio.to_thread(services.hashing.hash, token)
        added = name not in current.spec.endpoint.clients
        replaced = None if added else await _stored_client(context, current.name, name)
        with kube_errors(what=KIND, name=current.name):
            secret = await clientsecrets.put_client(services.kube, deployment=current,
                                                    client=name, hash_=hash_, details=details)
        await caught_up(services.store.client_details, secret["metadata"]["name"],
                        secret["metadata"]["resourceVersion"])
        try:
            written = await write_spec(context, current.name,
                                       lambda fresh: specs.with_client(fresh.spec, name))
        except BaseException:
            if added:  # do not leave a hash behind for a name the spec never listed
                await forget_client(context, current.name, name)
            raise
        try:
            await usable(context, written, {name: hash_})
        except NotConfirmed as error:
            await _undo_client(context, written, name, replaced=replaced)
            raise Unavailable(f"the token of client {name!r} could not be confirmed usable: "
                              f"{error.reason}; nothing was changed, try again") from error
        return PhDeploymentClientCreateResponse(name=name, plain_text_token=token)

    @strawberry.mutation
    async def rotate_ph_deployment_client(
            self, info: Info,
            data: PhDeploymentClientRotateInput) -> PhDeploymentClientCreateResponse:
        """A new token for an existing client, shown once; the replaced one keeps working
        for ``overlapSeconds``, then is refused."""
        context = info.context
        services = context.services
        current = visible_deployment(context, data.deployment_id)
        permissions.require_member(context, current.spec.group_id)
        if data.name not in current.spec.endpoint.clients:
            raise BadUserInput("name", f'deployment has no client "{data.name[:80]}"')
        overlap = validation.overlap_seconds(data.overlap_seconds)
        now = services.clock()
        token = new_client_token()
        hash_ = await asyncio.to_thread(services.hashing.hash, token)
        try:
            with kube_errors(what=KIND, name=current.name):
                secret = await clientsecrets.rotate_client(
                    services.kube, namespace=services.namespace, deployment_id=current.name,
                    client=data.name, hash_=hash_, rotated_at=phdeployments.timestamp(now),
                    overlap_ends=(now + timedelta(seconds=overlap)).astimezone(UTC).isoformat())
        except clientsecrets.NoSuchClient as error:
            raise BadUserInput("name", f'client "{data.name}" has no token to rotate') from error
        await caught_up(services.store.client_details, secret["metadata"]["name"],
                        secret["metadata"]["resourceVersion"])
        try:
            await usable(context, current, {data.name: hash_})
        except NotConfirmed as error:
            raise Unavailable(f"the new token of client {data.name!r} is stored but could not "
                              f"be confirmed usable: {error.reason}; the old token keeps working "
                              "through the overlap, rotate again") from error
        return PhDeploymentClientCreateResponse(name=data.name, plain_text_token=token)

    @strawberry.mutation
    async def delete_ph_deployment_client(
            self, info: Info, where: PhDeploymentClientWhereUniqueInput,
            reason: Annotated[str | None, strawberry.argument(description=(
                "Why (one line, at most 256 characters); logged with the deletion."))] = None,
            ) -> PhDeployment | None:
        context = info.context
        current = visible_deployment(context, where.deployment_id)
        principal = permissions.require_member(context, current.spec.group_id)
        why = validation.line(reason, field="reason")
        written = await write_spec(context, current.name,
                                   lambda fresh: specs.without_client(fresh.spec, where.name))
        await forget_client(context, current.name, where.name)
        log.info("deleted client %s of deployment %s", where.name, current.name,
                 extra={"fields": {"deployment": current.name, "client": where.name,
                                   "actor": principal.username, "reason": why,
                                   "request_id": context.request_id}})
        return present(context, written)
