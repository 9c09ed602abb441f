"""API tokens through GraphQL: issue, list, rotate and revoke (additive to PrimeHub's contract).

Who may do what (scopes: :mod:`gateway.scopes`; the scope each mutation needs is checked once
for all, in :mod:`schema.scoping`, and these need ``deployments:write``):

- an admin token (an admin user's token with the ``admin`` scope) manages every token;
- any other token manages its own user's tokens: it issues them for its own username, never
  ``admin: true``, with scopes no wider than its own, and lists, rotates and revokes them
  (somebody else's token is "not found", as if it did not exist);
- ``apiTokens`` lists every token to an admin user, their own to everybody else.

So a token never grants more than its issuer has: another user's name or ``admin: true``
without an admin token, or scopes wider than the issuing token's, are ``FORBIDDEN`` naming the
field; the ``admin`` scope on a token whose user is not an admin is ``BAD_USER_INPUT``.

Plain tokens are returned once (``createApiToken``, ``rotateApiToken``); only hashes are
stored. A rotation keeps the token's id (so the audit trail's actor token id stays the same)
and writes the new hash, and the replaced one with the end of its overlap, in one conditional
Secret update; the old token works until then. Revoking deletes the Secret, which ends the
console sessions signed in with it too; the reason is logged with who revoked it, and the
audit trail records the mutation with it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Annotated

import strawberry

from gateway import scopes
from gateway.api.auth import Principal
from gateway.api.readback import caught_up
from gateway.api.tokens import new_api_token
from gateway.kube import apitokens
from gateway.kube.apitokens import ApiToken as TokenView
from schema import permissions, validation
from schema.context import Context, Info
from schema.errors import BadUserInput, Forbidden, ResourceNotFound, kube_errors
from schema.inputs import ApiTokenCreateInput, ApiTokenRotateInput, WhereIdInput
from schema.types import ApiToken, ApiTokenCreateResponse

log = logging.getLogger(__name__)

WHAT = "api token"


def issued_scopes(issuer: Principal, *, username: str, admin: bool,
                  wanted: list[str] | None) -> frozenset[str]:
    """The scopes of a token ``issuer`` asks for, checked against what the issuer has."""
    full = permissions.admin_token(issuer)
    if username != issuer.username and not full:
        raise Forbidden("username: only an admin token issues tokens for another user",
                        field="username")
    if admin and not full:
        raise Forbidden("admin: only an admin token issues admin tokens", field="admin")
    if wanted is None:
        return scopes.default(admin=admin)
    try:
        granted = scopes.parse(wanted)
    except scopes.UnknownScope as error:
        raise BadUserInput("scopes", str(error)) from error
    if not granted:
        raise BadUserInput("scopes", "must name at least one scope, or be null")
    if scopes.rank(granted) > scopes.rank(issuer.granted):
        raise Forbidden(f"scopes: {', '.join(scopes.listed(granted))} is more than the "
                        f"issuing token has ({', '.join(scopes.listed(issuer.granted))})",
                        field="scopes")
    if scopes.ADMIN in granted and not admin:
        raise BadUserInput("scopes", "admin is only for a token whose user is an admin "
                           "(admin: true)")
    return granted


def _managed(context: Context, principal: Principal, token_id: str) -> TokenView:
    """A token the caller may rotate or revoke; anyone else's is not found."""
    found = context.services.store.tokens.get(apitokens.secret_name(token_id))
    if found is None or found.session or (
            found.username != principal.username and not permissions.admin_token(principal)):
        raise ResourceNotFound(f'{WHAT} "{token_id[:80]}" not found')
    return found


def _listed(info: Info) -> list[ApiToken]:
    principal = permissions.caller(info.context)
    services = info.context.services
    found = [view for view in services.store.tokens.values() if not view.session and (
        principal.admin or view.username == principal.username)]
    now = services.clock()
    return [ApiToken.from_view(view, now=now)
            for view in sorted(found, key=lambda view: (view.username, view.created))]


async def _create(info: Info, data: ApiTokenCreateInput) -> ApiTokenCreateResponse:
    context = info.context
    principal = permissions.caller(context)
    services = context.services
    now = services.clock()
    username = validation.username(data.username)
    granted = issued_scopes(principal, username=username, admin=data.admin,
                            wanted=data.scopes)
    token_id, token = new_api_token()
    view = TokenView(id=token_id, username=username, admin=data.admin, created=now,
                     expires=validation.future_time(data.expires_at, now),
                     description=validation.line(data.description, field="description"),
                     hash=await asyncio.to_thread(services.hashing.hash, token),
                     scopes=granted, created_by=principal.username)
    with kube_errors(what=WHAT, name=token_id):
        created = await apitokens.create(services.kube, namespace=services.namespace,
                                         token=view)
    await caught_up(services.store.tokens, apitokens.secret_name(token_id),
                    created.resource_version)
    return ApiTokenCreateResponse(token=token,
                                  api_token=ApiToken.from_view(created, now=now))


async def _rotate(info: Info, data: ApiTokenRotateInput) -> ApiTokenCreateResponse:
    context = info.context
    principal = permissions.caller(context)
    services = context.services
    current = _managed(context, principal, data.id)
    overlap = validation.overlap_seconds(data.overlap_seconds)
    now = services.clock()
    if current.expired(now):
        raise BadUserInput("id", "the token has expired; issue a new one")
    _, token = new_api_token(current.id)
    rotated = replace(current, hash=await asyncio.to_thread(services.hashing.hash, token),
                      rotated=now, previous_hash=current.hash if overlap else "",
                      previous_expires=now + timedelta(seconds=overlap) if overlap
                      else None)
    with kube_errors(what=WHAT, name=current.id):
        written = await apitokens.replace(services.kube, namespace=services.namespace,
                                          token=rotated)
    await caught_up(services.store.tokens, apitokens.secret_name(current.id),
                    written.resource_version)
    return ApiTokenCreateResponse(token=token,
                                  api_token=ApiToken.from_view(written, now=now))


async def _revoke(info: Info, where: WhereIdInput,
                  reason: Annotated[str | None, strawberry.argument(description=(
                      "Why (one line, at most 256 characters); logged with the revocation "
                      "and kept by the audit trail."))] = None) -> ApiToken:
    context = info.context
    principal = permissions.caller(context)
    services = context.services
    current = _managed(context, principal, where.id)
    why = validation.line(reason, field="reason")
    with kube_errors(what=WHAT, name=current.id):
        await apitokens.delete(services.kube, namespace=services.namespace,
                               token_id=current.id)
    await caught_up(services.store.tokens, apitokens.secret_name(current.id), None)
    log.info("revoked API token %s of %s", current.id, current.username,
             extra={"fields": {"token": current.id, "username": current.username,
                               "actor": principal.username,
                               "actor_token": principal.token_id, "reason": why,
                               "request_id": context.request_id}})
    return ApiToken.from_view(current, now=services.clock())


@strawberry.type
class TokenQueries:
    api_tokens: list[ApiToken] = strawberry.field(
        resolver=_listed, description="Issued API tokens, by user and age: every token for "
        "an admin, the caller's own for anyone else. Console sessions are not listed.")


@strawberry.type
class TokenMutations:
    create_api_token: ApiTokenCreateResponse = strawberry.mutation(
        resolver=_create, description="Issue an API token; its plain value is returned this "
        "once. Never more than the issuing token has (see the input).")
    rotate_api_token: ApiTokenCreateResponse = strawberry.mutation(
        resolver=_rotate, description="A new value for an API token (same id, scopes and "
        "expiry), returned this once; the replaced value keeps working for "
        "overlapSeconds, then is refused.")
    revoke_api_token: ApiToken = strawberry.mutation(
        resolver=_revoke, description="Revoke an API token: refused from now on, and the "
        "console sessions signed in with it end.")
