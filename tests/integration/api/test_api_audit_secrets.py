"""No audit record ever holds a token, a hash or an env value: every mutation of the schema,
called with secrets planted in every free-text and env input, as a member and as an admin.

A mutation added to the schema is covered without touching this test: its inputs are built
from the schema itself.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pytest
from apikit import BOOTSTRAP, Api, World
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from redis.asyncio import Redis

from gateway.api.tokens import new_client_token
from gateway.kube import clientsecrets
from gateway.kube.client import SECRETS, Kube
from gateway.kube.errors import NotFound
from proxy.records import AUDIT_STREAM_KEY
from schema import build_schema
from schema.auditing import kind_of

SECRET: Final = "planted-" + secrets.token_hex(8)
ENV_SECRET: Final = "env-value-" + secrets.token_hex(8)
# A reason is kept (it is what the caller wants on record), except what looks like a token.
REASON: Final = f"rotated after {new_client_token()} leaked"
DEPLOYMENT: Final = "iris-secrets"
GROUP: Final = "group-secrets"
INSTANCE_TYPE: Final = "it-secrets"
# Inputs whose format is checked, given valid values so the mutations get past validation;
# every other string is a planted secret.
FORMATTED: Final[dict[str, Any]] = {
    "deploymentId": DEPLOYMENT, "groupId": "team-a", "instanceType": "cpu-1",
    "instanceTypes": ["cpu-1"], "members": ["alice"], "username": "dave",
    "modelImage": "infuseai/sklearn-prepackaged:v0.1.0", "endpointAccessType": "private",
    "replicas": 1, "overlapSeconds": 1, "cpuLimit": 1, "memoryLimit": 1, "scopes": ["read"],
    "reason": REASON,
    "expiresAt": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
}
IDS: Final = {"deployment": DEPLOYMENT, "group": GROUP, "instanceType": INSTANCE_TYPE,
              "client": "app"}
TOKEN_SHAPED: Final = re.compile(r"mg[acs]_[A-Za-z0-9_-]{20,}")
HASH_SHAPED: Final = re.compile(r"\$(pbkdf2|apr1|2b|argon2|bcrypt)")


def value(name: str, kind: str, of: GraphQLInputType, *, revoke: str) -> Any:
    """A value for input ``name`` of type ``of`` in a mutation on ``kind``."""
    if isinstance(of, GraphQLNonNull):
        return value(name, kind, of.of_type, revoke=revoke)
    if name in FORMATTED:
        return FORMATTED[name]
    if isinstance(of, GraphQLList):
        return [value(name, kind, of.of_type, revoke=revoke)]
    if isinstance(of, GraphQLInputObjectType):
        return {field: value(field, kind, item.type, revoke=revoke)
                for field, item in of.fields.items() if _wanted(field, item.type)}
    if isinstance(of, GraphQLEnumType):
        return next(iter(of.values))
    if name == "id" or (name == "name" and kind in ("group", "instanceType", "client")):
        return revoke if kind == "apiToken" else IDS.get(kind, SECRET)
    return _scalar(name, of)


def _scalar(name: str, of: GraphQLInputType) -> Any:
    scalar = get_named_type(of)
    assert isinstance(scalar, GraphQLScalarType), scalar
    if scalar.name == "JSON":
        if name == "env":
            return [{"name": "PLANTED_ENV", "value": ENV_SECRET}]
        return {"note": SECRET} if name != "nodeSelector" else {"disk": "ssd"}
    return {"Int": 1, "Float": 1.0, "Boolean": False}.get(scalar.name, SECRET)


def _wanted(name: str, of: GraphQLInputType) -> bool:
    """Required fields, formatted ones, and every optional field that can carry a secret."""
    if isinstance(of, GraphQLNonNull) or name in FORMATTED:
        return True
    named = get_named_type(of)
    return isinstance(named, GraphQLScalarType) and named.name in ("String", "JSON") and \
        name not in ("modelURI", "imagePullSecret", "modelURISecret", "historyId")


def document(name: str, field: GraphQLField, *, revoke: str) -> tuple[str, dict[str, Any]]:
    """A mutation document calling ``name`` with every argument, and its variables."""
    kind = kind_of(name)
    variables = {argument: value(argument, kind, item.type, revoke=revoke)
                 for argument, item in field.args.items()}
    declared = ", ".join(f"${argument}: {item.type}" for argument, item in field.args.items())
    passed = ", ".join(f"{argument}: ${argument}" for argument in field.args)
    returned = get_named_type(field.type)
    selection = ""
    if isinstance(returned, GraphQLObjectType):
        tokens = [item for item in returned.fields if "oken" in item and isinstance(
            get_named_type(returned.fields[item].type), GraphQLScalarType)]
        selection = "{ __typename " + " ".join(tokens) + " }"
    return (f"mutation ({declared}) {{ {name}({passed}) {selection} }}", variables)


async def stored_hashes(kube: Kube) -> set[str]:
    """The client hashes stored for the deployment now (none once it is gone)."""
    try:
        stored = await kube.get(SECRETS, namespace="default",
                                name=clientsecrets.secret_name(DEPLOYMENT))
    except NotFound:
        return set()
    return set(clientsecrets.parse(stored).hashes.values())


def order(name: str) -> int:
    """Creations first, removals last (a deployment's after its clients'), so most calls
    find what they act on."""
    if name.startswith("create"):
        return 0
    if name == "deletePhDeployment":
        return 3
    return 2 if name.startswith(("delete", "revoke")) else 1


async def test_no_record_holds_a_token_a_hash_or_an_env_value(
        data_plane: str, api: Api, world: World, kubeclient: Kube, redis: Redis,
        caplog: pytest.LogCaptureFixture) -> None:
    """Every mutation, called by a member and by an admin with secrets in every free-text,
    env and reason input, writes one record each, and no record or audit log line holds a
    planted value, a token presented or returned, or a stored hash."""
    caplog.set_level(logging.INFO, logger="model_gateway.audit")
    mutations = build_schema()._schema.mutation_type
    assert mutations is not None
    revoke = (await api.data("""mutation { createApiToken(data: {username: "eve"}) {
        apiToken { id } } }"""))["createApiToken"]["apiToken"]["id"]
    seen = caplog.text
    responses: list[dict[str, Any]] = []
    hashes: set[str] = set()
    for caller in (world.alice, BOOTSTRAP):
        for name in sorted(mutations.fields, key=order):
            query, variables = document(name, mutations.fields[name], revoke=revoke)
            responses.append(await api.post(query, variables, token=caller))
            hashes |= await stored_hashes(kubeclient)
    text = caplog.text[len(seen):]
    lines = [record for record in caplog.records if record.name == "model_gateway.audit"]
    assert len(lines) == len(responses) + 1
    succeeded = [response for response in responses if not response.get("errors")]
    assert len(succeeded) >= len(responses) // 2, json.dumps(responses, indent=1)
    stream = json.dumps(await redis.xrange(AUDIT_STREAM_KEY))
    returned = set(TOKEN_SHAPED.findall(json.dumps(responses)))
    assert len(returned) >= 3, "the mutations returned too few tokens to look for"
    assert hashes, "no client hash was stored: the test plants none to look for"
    planted = [SECRET, ENV_SECRET, REASON.split()[2], world.alice, BOOTSTRAP, *returned,
               *hashes]
    for where in (text, stream):
        assert [where[max(0, where.index(item) - 300):where.index(item) + 50]
                for item in planted if item in where] == []
        assert not TOKEN_SHAPED.search(where)
        assert not HASH_SHAPED.search(where)
