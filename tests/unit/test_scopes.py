"""API token scopes: names, their order, and the default of a token that names none."""

from __future__ import annotations

import pytest

from gateway import scopes


@pytest.mark.parametrize(("held", "needed", "allowed"), [
    ({"read"}, "read", True),
    ({"read"}, "deployments:write", False),
    ({"deployments:write"}, "read", True),
    ({"deployments:write"}, "admin", False),
    ({"admin"}, "deployments:write", True),
    ({"read", "admin"}, "admin", True),
    (set(), "read", False),
])
def test_a_wider_scope_includes_the_narrower_ones(held: set[str], needed: str,
                                                  allowed: bool) -> None:
    """admin includes deployments:write, which includes read; no scope allows nothing."""
    assert scopes.covers(held, needed) is allowed


def test_unknown_scope_names_are_refused_by_name() -> None:
    """Only read, deployments:write and admin exist; the error names the stranger."""
    assert scopes.parse(["read", "read", "admin"]) == {"read", "admin"}
    with pytest.raises(scopes.UnknownScope, match="'write'") as raised:
        scopes.parse(["read", "write"])
    assert raised.value.scope == "write"


def test_scopes_are_listed_in_their_order_and_default_to_full_rights() -> None:
    """Listed narrow to wide; a token without scopes has its user's full rights."""
    assert scopes.listed({"admin", "read"}) == ["read", "admin"]
    assert scopes.default(admin=True) == {"admin"}
    assert scopes.default(admin=False) == {"deployments:write"}
