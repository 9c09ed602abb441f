"""API tokens and identities: issue, list, rotate, revoke, expiry, last use, bootstrap admin,
trusted headers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sdkdocs
from apikit import BOOTSTRAP, CREATE_TOKEN, Api, StartApi, World, deployment, eventually, seed

from gateway.dev.redisserver import RedisServer
from gateway.kube import apitokens
from gateway.kube.client import SECRETS, Kube
from proxy.hashing import make_context

ME = "{ me { username isAdmin effectiveGroups { id } } }"
SECRET = "a-shared-secret-of-sso-proxy"


async def test_issued_tokens_authenticate_their_user(api: Api, world: World,
                                                     kubeclient: Kube) -> None:
    """A token acts as its user; only its hash is stored, in one labelled Secret."""
    made = (await api.data(CREATE_TOKEN, {"data": {"username": "dave", "admin": False,
                                                   "description": "ci"}}))["createApiToken"]
    token, token_id = made["token"], made["apiToken"]["id"]
    assert token.startswith(f"mga_{token_id}_")
    me = (await api.data(ME, token=token))["me"]
    assert me == {"username": "dave", "isAdmin": False, "effectiveGroups": []}

    secret = await kubeclient.get(SECRETS, namespace="default",
                                  name=apitokens.secret_name(token_id))
    stored = apitokens.parse(secret)
    assert (stored.username, stored.admin, stored.description) == ("dave", False, "ci")
    assert make_context().verify(token, stored.hash)
    assert token not in str(secret)

    listed = (await api.data("{ apiTokens { id username admin description expiresAt } }"))
    assert {"id": token_id, "username": "dave", "admin": False, "description": "ci",
            "expiresAt": None} in listed["apiTokens"]


async def test_revoked_tokens_stop_working_at_once(api: Api, world: World) -> None:
    """After revokeApiToken returns, the token is refused (its cached verification too)."""
    made = (await api.data(CREATE_TOKEN, {"data": {"username": "erin"}}))["createApiToken"]
    assert (await api.data(ME, token=made["token"]))["me"]["username"] == "erin"
    revoked = await api.data("""mutation ($where: WhereIdInput!) {
        revokeApiToken(where: $where) { id username } }""",
                             {"where": {"id": made["apiToken"]["id"]}})
    assert revoked["revokeApiToken"]["username"] == "erin"
    error = await api.error(ME, token=made["token"])
    assert error["extensions"]["code"] == "NOT_AUTH"
    error = await api.error("""mutation { revokeApiToken(where: {id: "000000000000"}) {
        id } }""")
    assert error["extensions"]["code"] == "RESOURCE_NOT_FOUND"


async def test_tokens_expire(api: Api, world: World) -> None:
    """A token with an expiry works until then and is refused after, saying it expired
    (UNAUTHENTICATED); a wrong token is still plain NOT_AUTH."""
    expires = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    made = (await api.data(CREATE_TOKEN, {"data": {"username": "fred",
                                                   "expiresAt": expires}}))["createApiToken"]
    assert (await api.data(ME, token=made["token"]))["me"]["username"] == "fred"

    async def refused() -> None:
        result = await api.post(ME, token=made["token"])
        assert result.get("errors"), "still accepted"
        assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert result["errors"][0]["message"] == "the API token has expired"

    await eventually(refused, within=5)
    wrong = made["token"][:-4] + ("AAAA" if not made["token"].endswith("AAAA") else "BBBB")
    error = await api.error(ME, token=wrong)
    assert error["extensions"]["code"] == "NOT_AUTH"
    error = await api.error(CREATE_TOKEN, {"data": {"username": "fred",
                                                    "expiresAt": "2001-01-01T00:00:00Z"}})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "expiresAt"}


async def test_admin_tokens_are_admins(api: Api, world: World) -> None:
    """A token issued with admin: true may use admin operations and sees every group."""
    me = (await api.data(ME, token=world.root))["me"]
    assert me["isAdmin"] is True
    assert [group["id"] for group in me["effectiveGroups"]] == ["team-a", "team-b", "team-off"]
    await api.data("{ groups { id } }", token=world.root)


async def test_the_bootstrap_token_may_be_given_as_a_hash(start_api: StartApi) -> None:
    """A bootstrap setting starting with ``$`` is a passlib hash of the token."""
    api = await start_api(bootstrap_token=make_context().hash("the-real-bootstrap"),
                          bootstrap_username="boss")
    me = (await api.data(ME, token="the-real-bootstrap"))["me"]
    assert (me["username"], me["isAdmin"]) == ("boss", True)
    error = await api.error(ME, token=BOOTSTRAP)
    assert error["extensions"]["code"] == "NOT_AUTH"


async def test_trusted_headers_need_the_shared_secret(start_api: StartApi) -> None:
    """X-Forwarded-User/-Groups count only with the configured secret header."""
    api = await start_api(trusted_header_secret=SECRET, trusted_admin_group="admins")
    world = await seed(api)
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00001")}, token=world.alice)
    headers = {"X-Forwarded-User": "gina", "X-Forwarded-Groups": "team-a, team-x",
               "X-Model-Gateway-CSRF": "1"}  # ambient credentials: see test_api_signin
    for sent in (headers, {**headers, "X-Model-Gateway-Proxy-Secret": "not-the-secret"}):
        ignored = await api.post(ME, token=None, headers=sent)
        assert ignored["errors"][0]["extensions"]["code"] == "NOT_AUTH"
    trusted = {**headers, "X-Model-Gateway-Proxy-Secret": SECRET}
    me = await api.post(ME, token=None, headers=trusted)
    assert me["data"]["me"] == {"username": "gina", "isAdmin": False,
                                "effectiveGroups": [{"id": "team-a"}]}
    got = await api.post(sdkdocs.GET, {"where": {"id": "iris-00001"}}, token=None,
                         headers=trusted)
    assert got["data"]["phDeployment"]["id"] == "iris-00001"
    admin = await api.post(ME, token=None, headers={
        "X-Forwarded-User": "hank", "X-Forwarded-Groups": "admins",
        "X-Model-Gateway-Proxy-Secret": SECRET, "X-Model-Gateway-CSRF": "1"})
    assert admin["data"]["me"]["isAdmin"] is True


ROTATE = """mutation ($data: ApiTokenRotateInput!) {
  rotateApiToken(data: $data) { token apiToken { id rotatedAt previousExpiresAt scopes } } }"""


async def test_a_rotation_keeps_the_old_token_through_its_overlap(
        api: Api, world: World, kubeclient: Kube) -> None:
    """rotateApiToken returns a new token under the same id, working at once; the old one
    works until the overlap ends and is refused after; neither is stored in plain."""
    made = (await api.data(CREATE_TOKEN, {"data": {"username": "alice", "scopes": ["read"]}},
                           token=world.alice))["createApiToken"]
    old, token_id = made["token"], made["apiToken"]["id"]
    rotated = (await api.data(ROTATE, {"data": {"id": token_id, "overlapSeconds": 2}},
                              token=world.alice))["rotateApiToken"]
    new = rotated["token"]
    assert new.startswith(f"mga_{token_id}_")
    assert new != old
    assert rotated["apiToken"]["id"] == token_id
    assert rotated["apiToken"]["scopes"] == ["read"]
    assert rotated["apiToken"]["rotatedAt"] is not None
    assert rotated["apiToken"]["previousExpiresAt"] is not None
    for token in (old, new):
        assert (await api.data(ME, token=token))["me"]["username"] == "alice"
    secret = await kubeclient.get(SECRETS, namespace="default",
                                  name=apitokens.secret_name(token_id))
    assert old not in str(secret)
    assert new not in str(secret)

    async def old_refused() -> None:
        error = await api.error(ME, token=old)
        assert error["extensions"]["code"] == "NOT_AUTH"

    await eventually(old_refused, within=10)
    assert (await api.data(ME, token=new))["me"]["username"] == "alice"
    again = (await api.data(ROTATE, {"data": {"id": token_id}}, token=world.alice))[
        "rotateApiToken"]
    assert again["apiToken"]["previousExpiresAt"] is None
    error = await api.error(ME, token=new)  # no overlap: refused at once
    assert error["extensions"]["code"] == "NOT_AUTH"
    error = await api.error(ROTATE, {"data": {"id": token_id, "overlapSeconds": -1}},
                            token=world.alice)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "overlapSeconds"}
    error = await api.error(ROTATE, {"data": {"id": token_id}}, token=world.bob)
    assert error["extensions"]["code"] == "RESOURCE_NOT_FOUND"
    assert (await api.data(ME, token=again["token"]))["me"]["username"] == "alice"


async def test_a_revocation_logs_its_reason_and_actor(
        api: Api, world: World, caplog: pytest.LogCaptureFixture) -> None:
    """revokeApiToken takes an optional one-line reason, logged with who revoked which token;
    a reason with a line break is refused and the token keeps working."""
    made = (await api.data(CREATE_TOKEN, {"data": {"username": "alice"}},
                           token=world.alice))["createApiToken"]
    revoke = """mutation ($id: ID!, $reason: String) {
        revokeApiToken(where: {id: $id}, reason: $reason) { id } }"""
    token_id = made["apiToken"]["id"]
    error = await api.error(revoke, {"id": token_id, "reason": "leaked\nin CI"},
                            token=world.root)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "reason"}
    assert (await api.data(ME, token=made["token"]))["me"]["username"] == "alice"
    caplog.set_level(logging.INFO, logger="schema.apitokens")
    await api.data(revoke, {"id": token_id, "reason": "leaked in CI"}, token=world.root)
    [record] = [r for r in caplog.records if r.name == "schema.apitokens"]
    fields = record.fields  # type: ignore[attr-defined]
    assert (fields["token"], fields["username"], fields["actor"], fields["reason"]) == (
        token_id, "alice", "root", "leaked in CI")
    assert fields["actor_token"] == world.root.split("_")[1]
    assert made["token"] not in caplog.text
    assert (await api.error(ME, token=made["token"]))["extensions"]["code"] == "NOT_AUTH"


async def test_last_use_is_written_to_redis_at_the_usage_interval(
        start_api: StartApi, redis_server: RedisServer) -> None:
    """apiTokens { lastUsedAt } is null before any use, the time of the last accepted request
    after the next usage write, and null (not an error) while Redis cannot be reached."""
    api = await start_api(redis_url=redis_server.url, token_usage_interval=0.05)
    world = await seed(api)
    listing = "{ apiTokens { username lastUsedAt } }"

    def last_used(found: dict[str, Any], username: str) -> str | None:
        value: str | None = next(token["lastUsedAt"] for token in found["apiTokens"]
                                 if token["username"] == username)
        return value

    assert last_used(await api.data(listing), "bob") is None
    before = datetime.now(UTC)
    await api.data(ME, token=world.alice)

    async def written() -> None:
        found = last_used(await api.data(listing), "alice")
        assert found is not None
        assert before - timedelta(seconds=1) <= datetime.fromisoformat(found) <= \
            datetime.now(UTC)

    await eventually(written)
    assert last_used(await api.data(listing), "bob") is None
    redis_server.stop()
    assert last_used(await api.data(listing), "alice") is None
