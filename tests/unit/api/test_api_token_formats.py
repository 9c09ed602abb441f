"""Token formats: recognisable prefixes, 256 random bits, the API token's embedded id."""

from __future__ import annotations

import pytest

from gateway.api import tokens


def test_client_tokens_carry_their_prefix_and_256_bits() -> None:
    """A client token is ``mgc_`` and 43 URL-safe characters, never repeated."""
    made = {tokens.new_client_token() for _ in range(50)}
    assert len(made) == 50
    for token in made:
        assert token.startswith("mgc_")
        assert len(token) == 4 + 43


def test_api_tokens_embed_their_id() -> None:
    """An API token carries the id of the Secret holding its hash."""
    token_id, token = tokens.new_api_token()
    assert token.startswith(f"mga_{token_id}_")
    assert tokens.api_token_id(token) == token_id


@pytest.mark.parametrize("token", [
    "", "mga_", "mga_0123456789ab", "mga_0123456789ab_short", "mgc_" + "x" * 43,
    "mga_0123456789AB_" + "x" * 43, "mga_0123456789ab_" + "x" * 44,
])
def test_other_strings_have_no_api_token_id(token: str) -> None:
    """Anything but the exact API token format yields no id."""
    assert tokens.api_token_id(token) is None


def test_a_trailing_newline_is_not_an_api_token() -> None:
    """The format is matched in full: a token with a newline after it has no id."""
    _, token = tokens.new_api_token()
    assert tokens.api_token_id(token + "\n") is None


def test_session_tokens_embed_their_id_and_are_not_api_tokens() -> None:
    """A session token carries its id, and neither format is taken for the other."""
    session_id, session = tokens.new_session_token()
    assert session.startswith(f"mgs_{session_id}_")
    assert tokens.session_token_id(session) == session_id
    assert tokens.api_token_id(session) is None
    _, api_token = tokens.new_api_token()
    assert tokens.session_token_id(api_token) is None
    assert tokens.session_token_id(session + "\n") is None
