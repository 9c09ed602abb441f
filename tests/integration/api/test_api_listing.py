"""Lists over HTTP: newest first, PrimeHub's filters, cursor paging with page numbers."""

from __future__ import annotations

from typing import Any

import sdkdocs
from apikit import Api, World, deployment

CONNECTION = """query ($where: PhDeploymentWhereInput, $first: Int, $last: Int, $after: String,
                      $before: String) {
  phDeploymentsConnection(where: $where, first: $first, last: $last, after: $after,
                          before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor currentPage totalPage }
    edges { cursor node { id } } } }"""
LIST = """query ($where: PhDeploymentWhereInput, $first: Int, $after: String) {
  phDeployments(where: $where, first: $first, after: $after) { id } }"""


async def make(api: Api, world: World) -> None:
    """Five deployments: created in this order, so listed newest first in reverse."""
    for deployment_id, name, token, group in (
            ("alpha-0001", "Iris Classifier", world.bob, "team-b"),
            ("bravo-0002", "wine", world.root, "team-b"),
            ("charlie-03", "IRIS-v2", world.bob, "team-b"),
            ("delta-0004", "mnist", world.root, "team-a"),
            ("echo-00005", "housing", world.bob, "team-b")):
        await api.data(sdkdocs.CREATE, {"data": deployment(deployment_id, group=group,
                                                           name=name)}, token=token)


async def ids(api: Api, token: str, **variables: Any) -> list[str]:
    found = await api.data(LIST, variables, token=token)
    return [item["id"] for item in found["phDeployments"]]


async def test_lists_are_newest_first_and_reorder_on_update(api: Api, world: World) -> None:
    """The most recently created or updated deployment comes first."""
    await make(api, world)
    assert await ids(api, world.root) == ["echo-00005", "delta-0004", "charlie-03",
                                          "bravo-0002", "alpha-0001"]
    await api.data(sdkdocs.STOP, {"where": {"id": "alpha-0001"}}, token=world.bob)
    assert (await ids(api, world.root))[0] == "alpha-0001"


async def test_filters(api: Api, world: World) -> None:
    """search (case-insensitive id/name), name_contains (case-sensitive), mine, id."""
    await make(api, world)
    assert await ids(api, world.bob, where={"search": "iris"}) == ["charlie-03", "alpha-0001"]
    assert await ids(api, world.bob, where={"search": "BRAVO"}) == ["bravo-0002"]
    assert await ids(api, world.bob, where={"name_contains": "Iris"}) == ["alpha-0001"]
    assert await ids(api, world.bob, where={"mine": True}) == ["echo-00005", "charlie-03",
                                                               "alpha-0001"]
    assert await ids(api, world.root, where={"mine": True, "groupId_in": ["team-a"]}) == [
        "delta-0004"]
    assert await ids(api, world.bob, where={"id": "delta-0004"}) == []


async def test_cursor_paging_forward_and_back(api: Api, world: World) -> None:
    """first/after page forward, last/before page back; page numbers follow ``first``."""
    await make(api, world)
    page = (await api.data(CONNECTION, {"first": 2}, token=world.root))[
        "phDeploymentsConnection"]
    assert [edge["cursor"] for edge in page["edges"]] == ["echo-00005", "delta-0004"]
    assert page["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False,
                                "startCursor": "echo-00005", "endCursor": "delta-0004",
                                "currentPage": 1, "totalPage": 3}
    page = (await api.data(CONNECTION, {"first": 2, "after": "delta-0004"},
                           token=world.root))["phDeploymentsConnection"]
    assert [edge["node"]["id"] for edge in page["edges"]] == ["charlie-03", "bravo-0002"]
    assert (page["pageInfo"]["currentPage"], page["pageInfo"]["hasPreviousPage"]) == (2, True)
    page = (await api.data(CONNECTION, {"last": 2, "before": "charlie-03"},
                           token=world.root))["phDeploymentsConnection"]
    assert [edge["cursor"] for edge in page["edges"]] == ["echo-00005", "delta-0004"]
    assert await ids(api, world.root, first=1, after="bravo-0002") == ["alpha-0001"]
