"""How client tokens are hashed at rest: one passlib ``CryptContext`` for proxy and controller.

Default scheme: ``pbkdf2_sha256`` (passlib's default 29,000 rounds, about 7 ms here).

- Strength: new tokens carry 256 bits of entropy, so no work factor is what protects them;
  the work factor matters for the ~56-bit tokens migrated from PrimeHub, which keep their low
  entropy after their ``$apr1$`` hash is upgraded. 29,000 PBKDF2-SHA256 rounds make an offline
  search of 2**56 candidates impractical.
- Cold path: the hash runs in C (``hashlib``) and releases the GIL, so a verification off the
  event loop costs one short thread hop and needs no native package beyond the standard
  library. bcrypt and argon2 are built to cost a large fraction of a second at their default
  settings, which would make every cache miss a visible pause and add a compiled dependency
  for no gain on high-entropy tokens.

``bcrypt`` and ``argon2`` stay selectable (they need the ``bcrypt`` / ``argon2-cffi`` packages).
Every scheme other than the configured default, and PrimeHub's ``apr_md5_crypt``, is accepted
and marked deprecated, so ``verify_and_update`` returns a replacement hash on first success.
"""

from __future__ import annotations

from typing import Final

from passlib.context import CryptContext

SUPPORTED_SCHEMES: Final = ("pbkdf2_sha256", "bcrypt", "argon2")
LEGACY_SCHEMES: Final = ("apr_md5_crypt",)
DEFAULT_SCHEME: Final = "pbkdf2_sha256"


def make_context(default_scheme: str = DEFAULT_SCHEME) -> CryptContext:
    """A context hashing with ``default_scheme`` and accepting (and upgrading) the others."""
    if default_scheme not in SUPPORTED_SCHEMES:
        raise ValueError(f"unsupported hash scheme {default_scheme!r}")
    others = [scheme for scheme in (*SUPPORTED_SCHEMES, *LEGACY_SCHEMES)
              if scheme != default_scheme]
    return CryptContext(schemes=[default_scheme, *others], default=default_scheme,
                        deprecated=others)
