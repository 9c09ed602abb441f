"""Unexpected errors are masked for the client and logged with the request id; expected pass."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest

from gateway.api.auth import Principal
from schema import build_schema
from schema.context import Context, Services


class Broken:
    """Services whose store is missing: any resolver touching it fails unexpectedly."""

    store = None


def context(principal: Principal | None) -> Context:
    return Context(services=cast(Services, Broken()), principal=principal, request_id="rid-42")


async def test_unexpected_errors_are_masked_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """An internal failure reaches the client as "Unexpected error." with the request id."""
    caplog.set_level(logging.ERROR, logger="model_gateway.api.errors")
    result = await build_schema().execute('{ phDeploymentAvail(where: {id: "abc"}) }',
                                          context_value=context(Principal("alice")))
    assert result.errors is not None
    error: Any = result.errors[0].formatted
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "rid-42"}
    assert "NoneType" not in str(error)
    [record] = caplog.records
    assert "rid-42" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[0] is AttributeError


async def test_expected_errors_pass_unchanged_and_quietly(
        caplog: pytest.LogCaptureFixture) -> None:
    """An ApiError (here NOT_AUTH) keeps its message and code and is not logged as an error."""
    caplog.set_level(logging.ERROR, logger="model_gateway.api.errors")
    result = await build_schema().execute("{ me { id } }", context_value=context(None))
    assert result.errors is not None
    assert result.errors[0].formatted["message"] == "user not auth"
    assert result.errors[0].formatted["extensions"] == {"code": "NOT_AUTH"}
    assert caplog.records == []


async def test_request_errors_are_not_masked() -> None:
    """Syntax and validation errors are the client's own: their messages are kept."""
    result = await build_schema().execute("{ me { nope } }",
                                          context_value=context(Principal("alice")))
    assert result.errors is not None
    assert "Cannot query field 'nope'" in result.errors[0].message
