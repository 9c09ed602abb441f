"""Console sign-in: token for cookie, the cookie's guarantees, CSRF, sign-out, revocation,
dev mode's one-time link, and the session working for GraphQL and the log endpoint."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from apikit import BOOTSTRAP, CREATE_TOKEN, Api, StartApi, World, eventually, seed
from sessionkit import COOKIE, CSRF, post_as, session_cookie, sign_in, with_session
from test_api_logs import model_pod

from gateway.api.settings import SignInLink
from gateway.kube import apitokens
from gateway.kube.client import SECRETS, Kube
from gateway.kube.errors import NotFound
from gateway.localcluster import LocalCluster

ME = "{ me { username isAdmin } }"


async def assert_ended(api: Api, session: str) -> None:
    """The session no longer works: GraphQL answers 401, so the console signs in again."""
    async with api.session.post(f"{api.url}/graphql", json={"query": ME},
                                headers=with_session(session)) as response:
        assert response.status == 401
        assert "sign in again" in (await response.json())["errors"][0]["message"]


async def test_a_token_is_exchanged_for_a_strict_httponly_session_cookie(
        api: Api, world: World) -> None:
    """Signing in answers who you are and sets an HttpOnly, Secure, SameSite=Strict cookie
    that is not the token; the cookie then authenticates GraphQL."""
    async with api.session.post(f"{api.url}/auth/session", json={"token": world.alice},
                                headers=CSRF) as response:
        assert response.status == 200
        assert await response.json() == {"signedIn": True, "username": "alice", "admin": False,
                                         "groups": ["team-a"], "method": "session"}
        morsel = session_cookie(response)[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["secure"] is True  # the API's public URL is https
    assert morsel["samesite"] == "Strict"
    assert morsel["path"] == "/"
    assert int(morsel["max-age"]) == 8 * 3600
    assert morsel.value.startswith("mgs_")
    assert world.alice not in morsel.value
    assert (await post_as(api, morsel.value, ME))["data"]["me"] == {
        "username": "alice", "isAdmin": False}
    async with api.session.get(f"{api.url}/auth/session",
                               headers=with_session(morsel.value, csrf=False)) as response:
        assert (await response.json())["method"] == "session"


async def test_the_cookie_is_plain_http_when_the_api_is(start_api: StartApi) -> None:
    """Without https in front, the cookie is not marked Secure (it would never come back)."""
    api = await start_api(api_public_url="http://127.0.0.1:8080")
    async with api.session.post(f"{api.url}/auth/session", json={"token": BOOTSTRAP},
                                headers=CSRF) as response:
        assert response.status == 200
        assert not session_cookie(response)[COOKIE]["secure"]


@pytest.mark.parametrize(("body", "status"), [
    ({"token": "mga_000000000000_" + "x" * 43}, 401), ({"token": "nonsense"}, 401),
    ({"token": ""}, 400), ({"nothing": 1}, 400), (["token"], 400), ({"token": "x" * 600}, 400),
])
async def test_a_bad_sign_in_sets_no_cookie(api: Api, body: object, status: int) -> None:
    """A wrong, empty or malformed sign-in is refused with a message and no cookie."""
    async with api.session.post(f"{api.url}/auth/session", json=body,
                                headers=CSRF) as response:
        assert response.status == status
        assert (await response.json())["error"]
        assert "Set-Cookie" not in response.headers


async def test_sign_in_needs_the_csrf_header(api: Api) -> None:
    """No other site can sign a browser in: the sign-in POST needs the custom header."""
    async with api.session.post(f"{api.url}/auth/session",
                                json={"token": BOOTSTRAP}) as response:
        assert response.status == 403
        assert "X-Model-Gateway-CSRF" in (await response.json())["error"]
        assert "Set-Cookie" not in response.headers


async def test_cookie_requests_that_change_things_need_the_csrf_header(
        api: Api, world: World) -> None:
    """A POST with the cookie but without the custom header is refused before GraphQL runs;
    a Bearer request needs no such header."""
    session = await sign_in(api, world.alice)
    async with api.session.post(f"{api.url}/graphql", json={"query": ME},
                                headers=with_session(session, csrf=False)) as response:
        assert response.status == 403
    form = {"query": 'mutation { createApiToken(data: {username: "eve"}) { token } }'}
    async with api.session.post(f"{api.url}/graphql", data=form,
                                headers=with_session(session, csrf=False)) as response:
        assert response.status == 403
    assert (await api.data(ME, token=world.alice))["me"]["username"] == "alice"


async def test_sessions_and_api_tokens_are_not_interchangeable(api: Api, world: World) -> None:
    """A session is never a Bearer token, an API token never a cookie, and sessions are not
    listed as API tokens."""
    session = await sign_in(api, world.alice)
    assert (await api.error(ME, token=session))["extensions"]["code"] == "NOT_AUTH"
    await assert_ended(api, world.alice)
    listed = await api.data("{ apiTokens { username } }")
    assert sorted(item["username"] for item in listed["apiTokens"]) == [
        "alice", "bob", "carol", "root"]


async def test_signing_out_ends_the_session_everywhere(api: Api, world: World,
                                                      kubeclient: Kube) -> None:
    """Sign-out deletes the stored session and clears the cookie; the old cookie is dead."""
    session = await sign_in(api, world.alice)
    session_id = session.split("_")[1]
    await kubeclient.get(SECRETS, namespace="default", name=apitokens.secret_name(session_id))
    async with api.session.delete(f"{api.url}/auth/session",
                                  headers=with_session(session)) as response:
        assert response.status == 204
        cleared = session_cookie(response)[COOKIE]
        assert cleared.value == ""
        assert cleared["max-age"] == "0"
    with pytest.raises(NotFound):
        await kubeclient.get(SECRETS, namespace="default",
                             name=apitokens.secret_name(session_id))
    await assert_ended(api, session)
    async with api.session.get(f"{api.url}/auth/session",
                               headers=with_session(session)) as response:
        assert await response.json() == {"signedIn": False}


async def test_revoking_the_token_ends_its_sessions(api: Api) -> None:
    """A session lives no longer than the API token it was exchanged for."""
    made = (await api.data(CREATE_TOKEN, {"data": {"username": "dave"}}))["createApiToken"]
    session = await sign_in(api, made["token"])
    assert (await post_as(api, session, ME))["data"]["me"]["username"] == "dave"
    await api.data("mutation ($id: ID!) { revokeApiToken(where: {id: $id}) { id } }",
                   {"id": made["apiToken"]["id"]})
    await assert_ended(api, session)


async def test_the_session_reads_logs(api: Api, world: World, kubeclient: Kube,
                                      cluster: LocalCluster) -> None:
    """The log endpoint accepts the session cookie (a GET: no CSRF header needed), and
    passes ``timestamps`` through."""
    path = await model_pod(api, world, kubeclient)
    cluster.append_log("default", "deploy-iris-00001-7d4b9c-x2x9z", "hello", container="model")
    session = await sign_in(api, world.alice)
    async with api.session.get(f"{api.url}{path}",
                               headers=with_session(session, csrf=False)) as response:
        assert (response.status, await response.text()) == (200, "hello\n")
    async with api.session.get(f"{api.url}{path}", params={"timestamps": "true"},
                               headers=with_session(session)) as response:
        stamp, _, line = (await response.text()).partition(" ")
        assert line == "hello\n"
        assert stamp.endswith("Z")  # UTC, as the Logs tab shows it
    outsider = await sign_in(api, world.bob)
    async with api.session.get(f"{api.url}{path}", headers=with_session(outsider)) as response:
        assert response.status == 404


async def test_the_one_time_link_signs_in_once(start_api: StartApi) -> None:
    """Dev mode's link signs the admin in and redirects to the console; then it is spent."""
    code = secrets.token_urlsafe(32)
    api = await start_api(signin_link=SignInLink(code=code, token=BOOTSTRAP))
    wrong = ("y" if code.startswith("x") else "x") + code[1:]  # differs in its first character
    async with api.session.get(f"{api.url}/auth/link", params={"code": wrong},
                               allow_redirects=False) as response:
        assert response.status == 400  # a wrong code does not spend the right one
    async with api.session.get(f"{api.url}/auth/link", params={"code": code},
                               allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/"
        session = session_cookie(response)[COOKIE].value
    assert (await post_as(api, session, ME))["data"]["me"] == {"username": "admin",
                                                               "isAdmin": True}
    async with api.session.get(f"{api.url}/auth/link", params={"code": code},
                               allow_redirects=False) as response:
        assert response.status == 400
        assert "already been used" in await response.text()
        assert "Set-Cookie" not in response.headers


async def test_sso_requests_need_the_csrf_header_too(start_api: StartApi) -> None:
    """Trusted single sign-on headers are ambient credentials: a POST needs the header."""
    secret = "a-shared-secret-of-sso-proxy"
    api = await start_api(trusted_header_secret=secret)
    await seed(api)
    sso = {"X-Forwarded-User": "alice", "X-Model-Gateway-Proxy-Secret": secret}
    async with api.session.post(f"{api.url}/graphql", json={"query": ME},
                                headers=sso) as response:
        assert response.status == 403
    assert (await api.post(ME, token=None, headers={**sso, **CSRF}))["data"]["me"][
        "username"] == "alice"
    async with api.session.get(f"{api.url}/auth/session", headers=sso) as response:
        assert (await response.json())["method"] == "sso"


async def test_ended_sessions_are_swept_at_the_next_sign_in(api: Api, world: World,
                                                            kubeclient: Kube) -> None:
    """Sessions that expired are deleted when someone signs in, so they do not pile up."""
    past = datetime.now(UTC) - timedelta(hours=1)
    await apitokens.create(kubeclient, namespace="default", token=apitokens.ApiToken(
        id="0123456789ab", username="alice", admin=False, created=past - timedelta(hours=8),
        expires=past, hash="$pbkdf2-sha256$1$c2FsdA$aGFzaA", session_of="bootstrap"))

    async def swept() -> None:  # the API's cache may see the old session a moment later
        await sign_in(api, world.bob)
        try:
            await kubeclient.get(SECRETS, namespace="default",
                                 name=apitokens.secret_name("0123456789ab"))
        except NotFound:
            return
        raise AssertionError("the expired session is still stored")

    await eventually(swept)
