"""Unexpected errors: logged in full on the server, masked for the client.

An error is *expected* when it carries an :class:`~schema.errors.ApiError`, or when it arose
before execution (syntax, validation, variable coercion: the client's own request, with
graphql-core's message and no internals). Anything else raised while resolving a field is a
bug or an outage: the client gets ``Unexpected error.`` with code ``INTERNAL_SERVER_ERROR``
and the request id, and the log gets the traceback under that same id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from schema.context import Context
from schema.errors import ApiError

log = logging.getLogger("model_gateway.api.errors")
MESSAGE = "Unexpected error."


def expected(error: GraphQLError) -> bool:
    if isinstance(error.original_error, ApiError):
        return True
    return error.path is None and (error.original_error is None
                                   or isinstance(error.original_error, GraphQLError))


def request_id(execution_context: ExecutionContext | None) -> str:
    context = execution_context.context if execution_context is not None else None
    return context.request_id if isinstance(context, Context) else "-"


def log_unexpected(errors: list[GraphQLError],
                   execution_context: ExecutionContext | None) -> None:
    """Log every unexpected error with its traceback and the request id."""
    for error in errors:
        if not expected(error):
            log.error("request %s: %s at %s", request_id(execution_context), error.message,
                      ".".join(str(part) for part in error.path or ()),
                      exc_info=error.original_error)


class MaskUnexpected(SchemaExtension):
    """Replace unexpected errors by a generic one that names the request id."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        rid = request_id(self.execution_context)
        result.errors = [  # type: ignore[union-attr]  # has errors, checked above
            error if expected(error) else GraphQLError(
                MESSAGE, nodes=error.nodes, source=error.source, positions=error.positions,
                path=error.path,
                extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": rid})
            for error in errors]
