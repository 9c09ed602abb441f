"""The audit trail of management mutations: one record per call, its log line first, queryable
through ``auditEvents`` for the window, by admins (everything) and members (their groups')."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sdkdocs
from apikit import BOOTSTRAP, CREATE_TOKEN, Api, StartApi, World, deployment, eventually, seed
from redis.asyncio import Redis
from redis_server import RedisServer
from sessionkit import CSRF

from proxy.audit import AuditSettings
from proxy.records import AUDIT_STREAM_KEY

EVENTS = """query ($where: AuditEventWhereInput, $first: Int, $after: String) {
  auditEvents(where: $where, first: $first, after: $after) {
    edges { cursor node { id time component actor actorTokenId action target group outcome
                          reason requestId sourceAddress } }
    pageInfo { hasNextPage endCursor } } }"""
DELETE = """mutation ($id: ID!) { deletePhDeployment(where: {id: $id}) { id } }"""
STOP = """mutation ($id: ID!) { stopPhDeployment(where: {id: $id}) { id } }"""
DELETE_CLIENT = """mutation ($where: PhDeploymentClientWhereUniqueInput!, $reason: String) {
  deletePhDeploymentClient(where: $where, reason: $reason) { id } }"""
CLIENT = """mutation ($data: PhDeploymentClientCreateInput!) {
  createPhDeploymentClient(data: $data) { plainTextToken } }"""


@pytest.fixture
async def audited(start_api: StartApi, redis_server: RedisServer) -> Api:
    """An API whose audit trail goes to a real Redis (no controller)."""
    return await start_api(redis_url=redis_server.url)


async def events(api: Api, token: str = BOOTSTRAP, **where: Any) -> list[dict[str, Any]]:
    """Every event ``where`` selects that the token's user sees, newest first."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await api.data(EVENTS, {"where": where or None, "first": 500, "after": after},
                               token=token))["auditEvents"]
        found.extend(edge["node"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def token_id(token: str) -> str:
    return token.split("_")[1]


async def test_every_mutation_writes_one_record_with_who_what_and_where(
        audited: Api) -> None:
    """Seeding (instance types, groups, tokens) and a deployment's life are one record each,
    with actor, token id, action, target, group, outcome, request id and address."""
    world = await seed(audited)
    await audited.post(sdkdocs.CREATE, {"data": deployment("iris-audit")}, token=world.alice,
                       headers={"X-Request-Id": "req-create-1"})
    await audited.data(STOP, {"id": "iris-audit"}, token=world.alice)
    await audited.data(DELETE, {"id": "iris-audit"}, token=world.alice)

    async def all_recorded() -> list[dict[str, Any]]:
        found = await events(audited)
        assert len(found) == 2 + 3 + 4 + 3, [event["action"] for event in found]
        return found

    found = await eventually(all_recorded)
    actions = [event["action"] for event in reversed(found)]
    assert sorted(actions[:9]) == sorted(["createInstanceType"] * 2 + ["createGroup"] * 3 +
                                         ["createApiToken"] * 4)
    assert actions[9:] == ["createPhDeployment", "stopPhDeployment", "deletePhDeployment"]
    created = found[2]
    assert created == created | {
        "component": "api", "actor": "alice", "actorTokenId": token_id(world.alice),
        "target": "deployment/iris-audit", "group": "team-a", "outcome": "success",
        "reason": None, "requestId": "req-create-1", "sourceAddress": "127.0.0.1"}
    assert found[0]["target"] == "deployment/iris-audit"
    assert found[0]["group"] == "team-a"  # known though the deployment is gone
    seeded = {event["target"] for event in found[3:]}
    assert {"group/team-a", "group/team-b", "group/team-off", "instanceType/cpu-1",
            "instanceType/gpu-1"} <= seeded
    tokens = [event for event in found if event["action"] == "createApiToken"]
    assert {event["actor"] for event in tokens} == {"admin"}
    assert {event["actorTokenId"] for event in tokens} == {"bootstrap"}
    assert all(event["target"].startswith("apiToken/") and len(event["target"]) == 21
               for event in tokens)
    assert len({event["id"] for event in found}) == len(found)
    at = datetime.fromisoformat(created["time"])
    assert abs(at - datetime.now(UTC)) < timedelta(minutes=1)


async def test_refused_mutations_are_recorded_with_their_code(audited: Api) -> None:
    """Not being a member, not being an admin, anonymity and bad input are recorded outcomes."""
    world = await seed(audited)
    await audited.data(sdkdocs.CREATE, {"data": deployment("iris-refused")}, token=world.alice)
    assert (await audited.error(DELETE, {"id": "iris-refused"}, token=world.bob)
            )["extensions"]["code"] == "NOT_AUTH"
    assert (await audited.error('mutation { createGroup(data: {name: "x"}) { id } }',
                                token=None))["extensions"]["code"] == "NOT_AUTH"
    assert (await audited.error('mutation { createGroup(data: {name: "x"}) { id } }',
                                token=world.alice))["extensions"]["code"] == "NOT_AUTH"
    assert (await audited.error(STOP, {"id": "Not An Id"}, token=world.alice)
            )["extensions"]["code"] == "RESOURCE_NOT_FOUND"

    async def recorded() -> None:
        refused = [event for event in await events(audited) if event["outcome"] != "success"]
        assert [(event["actor"], event["action"], event["target"], event["outcome"])
                for event in refused] == [
            ("alice", "stopPhDeployment", "deployment/?", "RESOURCE_NOT_FOUND"),
            ("alice", "createGroup", "group/x", "NOT_AUTH"),
            ("", "createGroup", "group/x", "NOT_AUTH"),
            ("bob", "deletePhDeployment", "deployment/iris-refused", "NOT_AUTH")]
        assert refused[2]["actorTokenId"] is None

    await eventually(recorded)


async def test_members_see_their_groups_deployments_records_only(audited: Api) -> None:
    """alice sees team-a's deployment records (whoever acted), bob nothing of them; neither
    sees the admin's group, instance type or token records; anonymous callers get NOT_AUTH."""
    world = await seed(audited)
    await audited.data(sdkdocs.CREATE, {"data": deployment("iris-seen")}, token=world.alice)
    await audited.data(STOP, {"id": "iris-seen"}, token=world.root)
    await audited.error(DELETE, {"id": "iris-seen"}, token=world.bob)

    async def recorded() -> None:
        assert len(await events(audited)) == 9 + 3

    await eventually(recorded)
    seen = await events(audited, world.alice)
    assert [(event["actor"], event["action"]) for event in seen] == [
        ("bob", "deletePhDeployment"), ("root", "stopPhDeployment"),
        ("alice", "createPhDeployment")]
    assert await events(audited, world.bob) == []
    assert (await audited.error(EVENTS, token=None))["extensions"]["code"] == "NOT_AUTH"


async def test_filters_and_cursor_pages(audited: Api) -> None:
    """target (and below it), actor, action, since and until select; first/after page
    through newest first without repeats or gaps."""
    world = await seed(audited)
    for number in range(3):
        await audited.data(sdkdocs.CREATE, {"data": deployment(f"page-{number}")},
                           token=world.alice)
        await audited.data(STOP, {"id": f"page-{number}"}, token=world.alice)

    async def recorded() -> list[dict[str, Any]]:
        found = await events(audited)
        assert len(found) == 9 + 6
        return found

    everything = await eventually(recorded)
    assert [event["target"] for event in await events(audited, target="deployment/page-1")
            ] == ["deployment/page-1"] * 2
    assert len(await events(audited, actor="alice")) == 6
    assert len(await events(audited, action="stopPhDeployment", actor="alice")) == 3
    assert await events(audited, actor="nobody") == []
    middle = everything[3]["time"]
    newer = await events(audited, since=middle)
    older = await events(audited, until=middle)
    assert newer[-1]["time"] >= middle
    assert older[0]["time"] <= middle
    assert {event["id"] for event in newer} | {event["id"] for event in older} == \
        {event["id"] for event in everything}
    assert await events(audited, since="2999-01-01T00:00:00") == []

    paged: list[str] = []
    after = None
    while True:
        page = (await audited.data(EVENTS, {"first": 4, "after": after}))["auditEvents"]
        assert len(page["edges"]) <= 4
        paged.extend(edge["node"]["id"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
        after = page["pageInfo"]["endCursor"]
    assert paged == [event["id"] for event in everything]


@pytest.mark.parametrize(("arguments", "field"), [
    ({"first": 0}, "first"), ({"first": 501}, "first"), ({"after": "x"}, "after"),
    ({"after": "1-1\n"}, "after"), ({"where": {"since": "yesterday"}}, "since"),
    ({"where": {"target": "a\nb"}}, "target")])
async def test_bad_arguments_are_named(audited: Api, arguments: dict[str, Any],
                                       field: str) -> None:
    """A bad page size, cursor, time or filter is BAD_USER_INPUT naming the argument."""
    error = await audited.error(EVENTS, arguments)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_the_log_line_is_the_record_and_redis_only_its_window(
        audited: Api, redis_server: RedisServer, redis: Redis,
        caplog: pytest.LogCaptureFixture) -> None:
    """With Redis down a mutation still works and its record is logged at once; the query
    says the window is unavailable; once Redis is back the record reaches the window."""
    caplog.set_level(logging.INFO, logger="model_gateway.audit")
    world = await seed(audited)
    redis_server.stop()
    await audited.data(sdkdocs.CREATE, {"data": deployment("iris-down")}, token=world.alice,
                       form=True)
    lines = [record for record in caplog.records if record.name == "model_gateway.audit"]
    logged = [record.fields for record in lines  # type: ignore[attr-defined]
              if record.fields["action"] == "createPhDeployment"]  # type: ignore[attr-defined]
    assert len(logged) == 1
    assert logged[0] | {"audit_id": "", "at": "", "request_id": ""} == {
        "audit_id": "", "at": "", "component": "api", "actor": "alice",
        "token_id": token_id(world.alice), "action": "createPhDeployment",
        "target": "deployment/iris-down", "outcome": "success", "request_id": "",
        "address": "127.0.0.1", "group": "team-a", "reason": None}
    error = await audited.error(EVENTS)
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"

    redis_server.start()

    async def arrived() -> None:
        found = await events(audited, action="createPhDeployment")
        assert [event["id"] for event in found] == [logged[0]["audit_id"]]

    await eventually(arrived, within=15)


async def test_the_window_is_trimmed_to_its_length_and_cap(
        start_api: StartApi, redis_server: RedisServer, redis: Redis) -> None:
    """Records older than the window, or unreadable, are not returned (Redis drops old ones
    by whole stream nodes); the stream stays near its cap however many records arrive."""
    stale = json.dumps({"v": 1, "id": "old", "time": 1.0, "component": "api", "actor": "x",
                        "token_id": None, "action": "createGroup", "target": "group/x",
                        "outcome": "success", "request_id": "r", "address": "a",
                        "group": None, "reason": None})
    await redis.xadd(AUDIT_STREAM_KEY, {"r": stale}, id="1000-0")
    await redis.xadd(AUDIT_STREAM_KEY, {"r": "not json"})
    api = await start_api(redis_url=redis_server.url, audit=AuditSettings(cap=100))
    for _ in range(3):
        await api.data("""mutation { a: createGroup(data: {name: "g"}) { id }
                                     b: deleteGroup(where: {id: "g"}) { id } }""")

    async def recorded() -> None:
        found = await events(api)
        assert [event["action"] for event in found] == ["deleteGroup", "createGroup"] * 3

    await eventually(recorded)
    for number in range(300):
        await api.post('mutation ($id: ID!) { deleteGroup(where: {id: $id}) { id } }',
                       {"id": f"none-{number}"}, token=None)

    async def capped() -> None:
        found = await api.data(EVENTS, {"first": 1})
        assert found["auditEvents"]["edges"][0]["node"]["target"] == "group/none-299"
        assert 100 <= await redis.xlen(AUDIT_STREAM_KEY) < 300

    await eventually(capped)


async def test_a_client_deletion_keeps_its_reason_and_client_target(
        data_plane: str, api: Api, world: World) -> None:
    """Client mutations target deployment/<id>/client/<name>; a deletion's reason is kept,
    with anything token-shaped in it redacted."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-why", endpointAccessType="private")},
                   token=world.alice)
    token = (await api.data(CLIENT, {"data": {"deploymentId": "iris-why", "name": "app"}},
                            token=world.alice))["createPhDeploymentClient"]["plainTextToken"]
    await api.data(DELETE_CLIENT, {"where": {"deploymentId": "iris-why", "name": "app"},
                                   "reason": f"leaked as {token} in a ticket"},
                   token=world.alice)

    async def recorded() -> None:
        found = await events(api, target="deployment/iris-why")
        assert [(event["action"], event["target"], event["reason"]) for event in found] == [
            ("deletePhDeploymentClient", "deployment/iris-why/client/app",
             "leaked as [redacted] in a ticket"),
            ("createPhDeploymentClient", "deployment/iris-why/client/app", None),
            ("createPhDeployment", "deployment/iris-why", None)]

    await eventually(recorded)


async def test_refused_api_tokens_are_one_record_per_streak(audited: Api) -> None:
    """Revoked, wrong, foreign and expired Bearer tokens: each (token, address) streak is one
    refusedApiToken record with why, the token id and whom it names; never the token."""
    world = await seed(audited)
    revoked = token_id(world.bob)
    await audited.data('mutation ($id: ID!) { revokeApiToken(where: {id: $id}) { id } }',
                       {"id": revoked})
    expiring = (await audited.data(CREATE_TOKEN, {"data": {
        "username": "carol", "expiresAt": (datetime.now(UTC) + timedelta(seconds=1.5)
                                           ).isoformat()}}))["createApiToken"]["token"]
    wrong = world.alice[:-6] + ("AAAAAA" if not world.alice.endswith("AAAAAA") else "BBBBBB")
    presented = [world.bob, wrong, "not-a-token-at-all"]
    for token in presented * 3:
        await audited.post("{ me { username } }", token=token)

    async def expired() -> None:
        error = await audited.error("{ me { username } }", token=expiring)
        assert error["extensions"]["code"] == "UNAUTHENTICATED"

    await eventually(expired, within=10)
    await audited.post("{ me { username } }", token=expiring)

    async def recorded() -> list[dict[str, Any]]:
        found = await events(audited, action="refusedApiToken")
        assert len(found) == 4
        return found

    found = await eventually(recorded)
    assert {(event["actor"], event["actorTokenId"], event["target"], event["outcome"])
            for event in found} == {
        ("", revoked, f"apiToken/{revoked}", "UNKNOWN_TOKEN"),
        ("alice", token_id(world.alice), f"apiToken/{token_id(world.alice)}",
         "INVALID_TOKEN"),
        ("", None, "apiToken/?", "INVALID_TOKEN"),
        ("carol", token_id(expiring), f"apiToken/{token_id(expiring)}", "EXPIRED")}
    assert {event["sourceAddress"] for event in found} == {"127.0.0.1"}
    assert not [token for token in [*presented, expiring] if token in json.dumps(found)]


async def test_a_read_scoped_tokens_mutations_are_refused_and_audited(audited: Api) -> None:
    """A read token may query; its mutations are FORBIDDEN, change nothing, and are each
    recorded with the token's id; revoking it keeps the reason given."""
    world = await seed(audited)
    made = (await audited.data(CREATE_TOKEN, {"data": {"username": "alice",
                                                       "scopes": ["read"]}}))
    reader = made["createApiToken"]["token"]
    reader_id = made["createApiToken"]["apiToken"]["id"]
    assert (await audited.data("{ me { username } }", token=reader))["me"]["username"] == \
        "alice"
    error = await audited.error(sdkdocs.CREATE, {"data": deployment("iris-read")},
                                token=reader)
    assert error["extensions"]["code"] == "FORBIDDEN"
    await audited.data(sdkdocs.CREATE, {"data": deployment("iris-kept")}, token=world.alice)
    error = await audited.error(DELETE, {"id": "iris-kept"}, token=reader)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert (await audited.data('{ phDeployment(where: {id: "iris-kept"}) { id } }',
                               token=reader))["phDeployment"]["id"] == "iris-kept"
    assert (await audited.data('{ phDeploymentAvail(where: {id: "iris-read"}) }'))[
        "phDeploymentAvail"] is True
    await audited.data("""mutation ($id: ID!, $why: String) {
        revokeApiToken(where: {id: $id}, reason: $why) { id } }""",
                       {"id": reader_id, "why": "read access no longer needed"})

    async def recorded() -> None:
        found = await events(audited, actor="alice")
        assert [(event["action"], event["target"], event["outcome"], event["actorTokenId"])
                for event in found] == [
            ("deletePhDeployment", "deployment/iris-kept", "FORBIDDEN", reader_id),
            ("createPhDeployment", "deployment/iris-kept", "success", token_id(world.alice)),
            ("createPhDeployment", "deployment/iris-read", "FORBIDDEN", reader_id)]
        (revoked,) = await events(audited, action="revokeApiToken")
        assert revoked["target"] == f"apiToken/{reader_id}"
        assert revoked["reason"] == "read access no longer needed"

    await eventually(recorded)


async def test_the_source_address_believes_only_trusted_hops(
        start_api: StartApi, redis_server: RedisServer) -> None:
    """Behind API_TRUSTED_HOPS proxies of ours the address is what the outermost one saw;
    without them a caller's X-Forwarded-For is ignored."""
    spoofed = {"X-Forwarded-For": "192.0.2.66"}
    direct = await start_api(redis_url=redis_server.url)
    behind = await start_api(redis_url=redis_server.url, trusted_hops=1)
    create = 'mutation ($name: String!) { createGroup(data: {name: $name}) { id } }'
    await direct.post(create, {"name": "direct"}, headers=spoofed)
    await behind.post(create, {"name": "behind"},
                      headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.1"})

    async def recorded() -> None:
        found = {event["target"]: event["sourceAddress"] for event in await events(direct)}
        assert found == {"group/direct": "127.0.0.1", "group/behind": "203.0.113.1"}

    await eventually(recorded)


async def test_tokens_refused_at_sign_in_are_audited_too(audited: Api) -> None:
    """Pasting a wrong token into the console's sign-in, again and again, is one
    refusedApiToken streak record, like a Bearer token's."""
    world = await seed(audited)
    wrong = world.carol[:-6] + ("AAAAAA" if not world.carol.endswith("AAAAAA") else "BBBBBB")
    for _ in range(3):
        async with audited.session.post(f"{audited.url}/auth/session", json={"token": wrong},
                                        headers=CSRF) as response:
            assert response.status == 401

    async def recorded() -> None:
        found = await events(audited, action="refusedApiToken")
        assert [(event["actor"], event["actorTokenId"], event["outcome"]) for event in found
                ] == [("carol", token_id(world.carol), "INVALID_TOKEN")]

    await eventually(recorded)
