"""Parsing Basic credentials: exactly client:token, everything else malformed."""

from __future__ import annotations

from base64 import b64encode

import pytest

from proxy.credentials import MAX_HEADER_LENGTH, BasicCredentials, MalformedCredentials, parse_basic


def basic(raw: bytes) -> str:
    return "Basic " + b64encode(raw).decode()


def test_missing_header_is_none() -> None:
    """No header means no credentials, which is not an error."""
    assert parse_basic(None) is None


def test_client_and_token_are_split_at_the_first_colon() -> None:
    """Tokens may contain colons; client names may not."""
    assert parse_basic(basic(b"app:tok:with:colons")) == BasicCredentials("app", "tok:with:colons")


def test_scheme_is_case_insensitive() -> None:
    """'basic' and 'BASIC' are the same scheme."""
    assert parse_basic("bAsIc " + b64encode(b"a:b").decode()) == BasicCredentials("a", "b")


def test_token_is_not_in_repr() -> None:
    """A logged credentials object does not show the token."""
    assert "s3cret" not in repr(BasicCredentials("app", "s3cret"))


@pytest.mark.parametrize("header", [
    "Bearer abc",
    "Basic !!!not-base64!!!",
    basic(b"no-colon"),
    basic(b":token-without-client"),
    basic(b"client-without-token:"),
    basic(b"caf\xe9:latin1-not-utf8"),
    basic(b"evil\r\nX-Forwarded-User: admin:token"),
    "Basic " + "A" * MAX_HEADER_LENGTH,
])
def test_malformed_headers_are_rejected(header: str) -> None:
    """Wrong scheme, bad base64, no colon, empty parts, bad UTF-8, CR/LF, oversize: malformed."""
    with pytest.raises(MalformedCredentials):
        parse_basic(header)
