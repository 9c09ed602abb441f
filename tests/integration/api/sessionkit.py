"""Test kit for the console's side of the API: signing in the way the console does, and
requests that carry the session cookie (set by hand: the test server's public URL is https,
so the cookie is ``Secure`` and a cookie jar would not send it over plain HTTP)."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import aiohttp
from apikit import Api

CSRF = {"X-Model-Gateway-CSRF": "1"}
COOKIE = "mg_session"


def session_cookie(response: aiohttp.ClientResponse) -> SimpleCookie:
    """The ``mg_session`` cookie the response set (its attributes included)."""
    cookies: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        cookies.load(header)
    assert COOKIE in cookies, f"no session cookie in {response.headers}"
    return cookies


async def sign_in(api: Api, token: str) -> str:
    """Sign in with an API token as the console does; the session token (cookie value)."""
    async with api.session.post(f"{api.url}/auth/session", json={"token": token},
                                headers=CSRF) as response:
        assert response.status == 200, await response.text()
        return session_cookie(response)[COOKIE].value


def with_session(session: str, *, csrf: bool = True) -> dict[str, str]:
    """Headers of a console request carrying the session cookie."""
    return {"Cookie": f"{COOKIE}={session}", **(CSRF if csrf else {})}


async def post_as(api: Api, session: str, query: str, variables: dict[str, Any] | None = None,
                  ) -> dict[str, Any]:
    """A GraphQL POST authenticated by the session cookie; the JSON body."""
    return await api.post(query, variables, token=None, headers=with_session(session))
