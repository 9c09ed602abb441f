"""The shared CryptContext: default scheme, legacy APR1 accepted and upgraded."""

from __future__ import annotations

import secrets

import pytest

from proxy.hashing import DEFAULT_SCHEME, make_context


def token() -> str:
    return f"mgc_{secrets.token_urlsafe(32)}"


def test_new_hashes_use_the_default_scheme_and_need_no_upgrade() -> None:
    """A fresh hash verifies and verify_and_update proposes no replacement."""
    context = make_context()
    plain = token()
    hashed = context.hash(plain)
    assert context.identify(hashed) == DEFAULT_SCHEME
    assert context.verify_and_update(plain, hashed) == (True, None)
    assert context.verify_and_update(token(), hashed) == (False, None)


def test_legacy_apr1_hashes_verify_and_are_upgraded() -> None:
    """A PrimeHub $apr1$ hash is accepted once and replaced by a default-scheme hash."""
    context = make_context()
    plain = token()
    legacy = context.handler("apr_md5_crypt").hash(plain)
    assert legacy.startswith("$apr1$")
    ok, replacement = context.verify_and_update(plain, legacy)
    assert ok
    assert replacement is not None
    assert context.identify(replacement) == DEFAULT_SCHEME
    assert context.verify(plain, replacement)


def test_unsupported_default_scheme_is_refused() -> None:
    """Only the documented schemes can be the default."""
    with pytest.raises(ValueError, match="unsupported"):
        make_context("md5_crypt")
