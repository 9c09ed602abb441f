"""The GraphQL schema: PrimeHub's model-deployment contract plus additive admin operations.

:func:`build_schema` assembles it with its guards: a query depth limit, a document size (token)
limit, and masking of unexpected errors. Every mutation field carries the audit trail's
extension and, inside it, the token scope check (:mod:`schema.scoping`). ``python -m schema``
prints the SDL; the committed copy is ``schema/schema.graphql`` and a test fails when the two
differ.
"""

from __future__ import annotations

import functools
from typing import Any

import strawberry
from graphql import ASTValidationRule, ValidationRule
from graphql.error import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import create_validator
from strawberry.types import ExecutionContext

from schema.admin import AdminMutations, AdminQueries
from schema.apitokens import TokenMutations, TokenQueries
from schema.assigned import SecretQueries
from schema.audit import AuditQueries
from schema.auditing import audited
from schema.licensing import LicenseQueries
from schema.masking import MaskUnexpected, log_unexpected
from schema.mutations import DeploymentMutations
from schema.queries import DeploymentQueries
from schema.scoping import scoped
from schema.subscriptions import Subscription
from schema.versions import VersionMutations


@strawberry.type
class Query(DeploymentQueries, LicenseQueries, SecretQueries, AdminQueries, AuditQueries,
            TokenQueries):
    pass


@audited  # every mutation, present and future, writes one audit record per call
@functools.partial(scoped, admin=AdminMutations)  # and needs its token scope (innermost)
@strawberry.type
class Mutation(DeploymentMutations, VersionMutations, AdminMutations, TokenMutations):
    pass


class Schema(strawberry.Schema):
    """Logs only unexpected errors (expected ones are the client's business)."""

    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        log_unexpected(errors, execution_context)


@functools.cache
def depth_rule(max_depth: int) -> type[ValidationRule]:
    """One rule class per limit, so validation results of equal documents can be cached."""
    return create_validator(max_depth, None)


def build_schema(*, max_depth: int = 12, max_tokens: int = 2000) -> Schema:
    """The schema with its guards and caches.

    Guards: a document size limit (tokens, checked while parsing) and a depth limit (a
    validation rule). Caches: parsed and validated documents, keyed by the query text (and
    the limits), because clients send the same few documents over and over; validation is
    half the cost of a small query otherwise. Unexpected errors are masked.
    """
    rules: list[type[ASTValidationRule]] = [depth_rule(max_depth)]
    extensions: list[Any] = [lambda: MaxTokensLimiter(max_token_count=max_tokens),
                             lambda: AddValidationRules(rules),
                             lambda: ParserCache(maxsize=256),
                             lambda: ValidationCache(maxsize=256),
                             MaskUnexpected]
    return Schema(query=Query, mutation=Mutation, subscription=Subscription,
                  extensions=extensions)


def sdl() -> str:
    """The schema in SDL, as committed in ``schema/schema.graphql``."""
    return build_schema().as_str() + "\n"
