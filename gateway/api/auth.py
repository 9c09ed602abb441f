"""Who is calling: API tokens, the bootstrap admin token, and trusted single sign-on headers.

Order of trust for one request:

1. Trusted headers, only when ``API_TRUSTED_HEADER_SECRET`` is set *and* the request carries
   that exact value in the configured header (compared in constant time): ``X-Forwarded-User``
   names the user and ``X-Forwarded-Groups`` (comma separated) their groups. Without the
   secret these headers are ignored, whoever sent them.
2. ``Authorization: Bearer <token>``: an API token (``mga_<id>_...``: its Secret is found by
   id in the watch cache and its hash must match, or the hash the last rotation replaced
   while its overlap lasts), else the bootstrap admin token (a plain value compared in
   constant time, or a passlib hash). A genuine API token past its expiry is
   :class:`Refused` with the reason, so the API can answer ``UNAUTHENTICATED`` saying so;
   a wrong token learns nothing.
3. The console's session cookie (``mg_session``, see :mod:`gateway.api.signin`): a session
   token stored like an API token, valid while it has not expired and the credential it was
   exchanged for is still valid (an unrevoked, unexpired API token, or the configured
   bootstrap token). Ambient credentials (this cookie, trusted headers) need the CSRF check
   of :mod:`gateway.api.csrf` on anything but reads.

Every :class:`Principal` carries the id of the API token it acts through (``token_id``: the
token itself, the one a console session was exchanged for, ``bootstrap``; none for single
sign-on) and that token's scopes (:mod:`gateway.scopes`), so whatever records or limits a
request (the scope check of every mutation, the audit trail) reads them in one place.

Anything else is anonymous (``None``); resolvers answer ``NOT_AUTH``. Token hashes are checked
through the :class:`~gateway.api.verifying.VerifiedCache`; a revoked token's entries are
evicted the moment the watch cache sees its Secret go.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from gateway.api import tokenusage
from gateway.api.settings import ApiSettings
from gateway.api.store import Store
from gateway.api.tokens import api_token_id, session_token_id
from gateway.api.verifying import VerifiedCache
from gateway.kube.apitokens import ApiToken, secret_name
from gateway.scopes import ADMIN
from gateway.scopes import default as default_scopes
from proxy.usage import UsageRecorder

USER_HEADER = "X-Forwarded-User"
GROUPS_HEADER = "X-Forwarded-Groups"
SESSION_COOKIE: Final = "mg_session"
BOOTSTRAP: Final = "bootstrap"  # the credential name of the bootstrap admin token

Via = Literal["bearer", "session", "sso"]
EXPIRED: Final = "the API token has expired"


@dataclass(frozen=True)
class Refused:
    """A presented credential that is genuine (its hash matched) but no longer works."""

    reason: str


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``groups`` is set only when a trusted header named them;
    otherwise a user's groups are the group resources listing them as a member.

    ``via`` says how the caller proved who they are; ``credential`` names what they
    presented: an API token's id (``bootstrap`` for the bootstrap token) or a session's id.
    ``token_id`` is the API token acting (for a session, the one it was exchanged for; none
    for single sign-on) and ``scopes`` what that token may do; ``None``: the user's full
    rights (:func:`gateway.scopes.default`), read through :attr:`granted`. ``until`` is when
    the value presented stops working although its token lives on: the end of a rotation's
    overlap, for the value that rotation replaced.
    """

    username: str
    admin: bool = False
    groups: frozenset[str] | None = None
    via: Via = "bearer"
    credential: str | None = None
    token_id: str | None = None
    scopes: frozenset[str] | None = None
    until: datetime | None = None

    @property
    def granted(self) -> frozenset[str]:
        """The scopes the caller acts with."""
        return self.scopes if self.scopes is not None else default_scopes(admin=self.admin)


def cookie(headers: Mapping[str, str], name: str) -> str | None:
    """The value of cookie ``name`` in the request's ``Cookie`` header, if sent once."""
    found = [value.strip() for key, _, value in
             (part.strip().partition("=") for part in headers.get("Cookie", "").split(";"))
             if key == name]
    return found[0] if len(found) == 1 else None


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if one was sent."""
    scheme, _, token = headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _now() -> datetime:
    return datetime.now(UTC)


def credential_valid(store: Store, settings: ApiSettings, credential: str | None, *,
                     now: datetime) -> bool:
    """Whether an API token (by id, or ``bootstrap``) still works: not revoked, not expired."""
    if credential == BOOTSTRAP:
        return settings.bootstrap_token is not None
    source = store.tokens.get(secret_name(credential)) if credential else None
    return source is not None and not source.session and not source.expired(now)


def still_signed_in(principal: Principal, store: Store, settings: ApiSettings, *,
                    now: datetime) -> bool:
    """Whether what ``principal`` presented still works, for connections that outlive the
    moment they were authenticated (subscriptions): a revoked or expired token or session,
    or a session whose token went, ends them."""
    if principal.via == "sso" or principal.credential is None:
        return True
    if principal.until is not None and now >= principal.until:
        return False  # the value a rotation replaced, past its overlap
    if principal.via == "bearer":
        return credential_valid(store, settings, principal.credential, now=now)
    session = store.tokens.get(secret_name(principal.credential))
    return session is not None and session.session and not session.expired(now) and \
        credential_valid(store, settings, session.session_of, now=now)


class Authenticator:
    """Turns request headers into a :class:`Principal` (or ``None``)."""

    def __init__(self, *, store: Store, verified: VerifiedCache, settings: ApiSettings,
                 usage: UsageRecorder | None = None,
                 clock: Callable[[], datetime] = _now) -> None:
        self._store = store
        self._usage = usage
        self._verified = verified
        self._settings = settings
        self._clock = clock
        store.tokens.listen(self._on_token)

    def _on_token(self, name: str, new: ApiToken | None, _old: ApiToken | None) -> None:
        if new is None:  # revoked (Secret deleted, or no longer a valid token Secret)
            self._verified.evict(name)

    async def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        """The caller, or ``None`` for anonymous and refused requests alike."""
        found = await self.identify(headers)
        return found if isinstance(found, Principal) else None

    def _used(self, token_id: str | None) -> None:
        """Note a use of an API token for its ``lastUsedAt`` (:mod:`gateway.api.tokenusage`)."""
        if self._usage is not None and token_id is not None and token_id != BOOTSTRAP:
            self._usage.record(tokenusage.KIND, token_id)

    async def identify(self, headers: Mapping[str, str]) -> Principal | Refused | None:
        """The caller; :class:`Refused` for a genuine API token that no longer works (so the
        API can say why), ``None`` for anything else that does not authenticate."""
        trusted = self._trusted(headers)
        if trusted is not None:
            return trusted
        token = bearer(headers)
        if token is not None:
            found = await self._api_token(token)
            if found is not None:
                return found
            return await self._bootstrap(token)
        session = cookie(headers, SESSION_COOKIE)
        return None if session is None else await self._session(session)

    def _trusted(self, headers: Mapping[str, str]) -> Principal | None:
        secret = self._settings.trusted_header_secret
        presented = headers.get(self._settings.trusted_header_name)
        if secret is None or presented is None:
            return None
        if not hmac.compare_digest(presented.encode(), secret.encode()):
            return None
        username = headers.get(USER_HEADER, "").strip()
        if not username:
            return None
        groups = frozenset(part.strip() for part in headers.get(GROUPS_HEADER, "").split(",")
                           if part.strip())
        admin_group = self._settings.trusted_admin_group
        return Principal(username=username, groups=groups, via="sso",
                         admin=admin_group is not None and admin_group in groups)

    async def _api_token(self, token: str) -> Principal | Refused | None:
        token_id = api_token_id(token)
        if token_id is None:
            return None
        found = await self._matching(token_id, token, session=False)
        if found is None:
            return None
        stored, replaced = found
        if stored.expired(self._clock()):
            return Refused(EXPIRED)
        self._used(stored.id)
        return Principal(username=stored.username, admin=stored.admin, credential=stored.id,
                         token_id=stored.id, scopes=stored.granted,
                         until=stored.previous_expires if replaced else None)

    async def _session(self, token: str) -> Principal | None:
        session_id = session_token_id(token)
        if session_id is None:
            return None
        found = await self._matching(session_id, token, session=True)
        stored = None if found is None else found[0]
        if stored is None or stored.expired(self._clock()) or \
                not self.credential_valid(stored.session_of):
            return None
        self._used(stored.session_of)
        return Principal(username=stored.username, admin=stored.admin, via="session",
                         credential=stored.id, token_id=stored.session_of,
                         scopes=stored.granted)

    def credential_valid(self, credential: str | None) -> bool:
        """Whether the credential a session was exchanged for still works."""
        return credential_valid(self._store, self._settings, credential, now=self._clock())

    async def _matching(self, token_id: str, token: str, *,
                        session: bool) -> tuple[ApiToken, bool] | None:
        """The stored token ``token`` is (expired or not), and whether it is the value the
        last rotation replaced (accepted until that rotation's overlap ends)."""
        name = secret_name(token_id)
        stored = self._store.tokens.get(name)
        if stored is None or stored.session != session:
            return None
        if await self._verified.verify(scope=name, token=token, hash_=stored.hash):
            return stored, False
        if stored.previous_valid(self._clock()) and await self._verified.verify(
                scope=name, token=token, hash_=stored.previous_hash):
            return stored, True
        return None

    async def _bootstrap(self, token: str) -> Principal | None:
        expected = self._settings.bootstrap_token
        if expected is None:
            return None
        if expected.startswith("$"):
            matched = await self._verified.verify(scope=BOOTSTRAP, token=token,
                                                  hash_=expected)
        else:
            matched = hmac.compare_digest(token.encode(), expected.encode())
        return Principal(username=self._settings.bootstrap_username, admin=True,
                         credential=BOOTSTRAP, token_id=BOOTSTRAP,
                         scopes=frozenset({ADMIN})) if matched else None
