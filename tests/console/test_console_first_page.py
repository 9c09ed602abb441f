"""The first page a signed-in browser gets carries its first data: the cards show without a
request to the API, for the group the user last chose, and the page is theirs alone."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from browserkit import DevStack, record_page
from playwright.sync_api import Locator, Page, Route, expect

pytestmark = pytest.mark.timeout(180)

CREATE_GROUP = """mutation ($data: GroupCreateInput!) { createGroup(data: $data) { id } }"""
FIRST = re.compile(r'<script type="application/json" id="mg-first">(.*?)</script>', re.S)


def card(page: Page, name: str) -> Locator:
    heading = page.get_by_role("heading", name=name, exact=True)
    return page.get_by_role("listitem").filter(has=heading)


class Held:
    """Requests to the API's session check and GraphQL, held unanswered until released."""

    def __init__(self, page: Page) -> None:
        self.routes: list[Route] = []
        self.page = page
        page.route("**/auth/session", self.hold)
        page.route("**/graphql", self.hold)

    def hold(self, route: Route) -> None:
        self.routes.append(route)

    def release(self) -> None:
        for route in self.routes:
            route.continue_()
        self.page.unroute("**/auth/session")
        self.page.unroute("**/graphql")


@pytest.fixture
def held(page: Page) -> Iterator[Held]:
    holding = Held(page)
    yield holding
    holding.release()


def get_page(dev_stack: DevStack, cookies: str | None) -> tuple[str, dict[str, str]]:
    request = urllib.request.Request(f"{dev_stack.base}/",  # noqa: S310 (loopback)
                                     headers={"Cookie": cookies} if cookies else {})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        return response.read().decode(), dict(response.headers)


def session_cookie(session_state: dict[str, Any]) -> str:
    return "; ".join(f"{cookie['name']}={cookie['value']}" for cookie in session_state["cookies"])


def test_cards_show_before_any_request_to_the_api(page: Page, dev_stack: DevStack,
                                                  held: Held) -> None:
    """A signed-in load draws the group's cards while every API request is held."""
    dev_stack.create("first-one", wait=False)
    page.goto("/")
    expect(card(page, "first-one")).to_have_count(1)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert not [route for route in held.routes if "/auth/session" in route.request.url]
    asked = [json.loads(route.request.post_data or "{}").get("operationName")
             for route in held.routes]
    assert "Me" not in asked
    assert "License" not in asked


def test_the_chosen_group_is_the_one_served_first(page: Page, dev_stack: DevStack) -> None:
    """The group picked in `Group:` is remembered, and the next load shows its cards at once."""
    dev_stack.gql(CREATE_GROUP, {"data": {"name": "first-group", "displayName": "First Group",
                                          "members": ["admin"], "enabledDeployment": True,
                                          "instanceTypes": ["cpu-1"]}})
    dev_stack.create("in-first-group", wait=False, groupId="first-group")
    page.goto("/")
    page.get_by_label("Group:").select_option(label="First Group")
    expect(card(page, "in-first-group")).to_have_count(1)
    holding = Held(page)
    page.reload()
    expect(page.get_by_label("Group:")).to_have_value("first-group")
    expect(card(page, "in-first-group")).to_have_count(1)
    expect(card(page, "first-one")).to_have_count(0)
    record_page(page, "11-list-first-group")
    holding.release()


def test_the_first_page_is_the_callers_alone(dev_stack: DevStack,
                                             session_state: dict[str, Any]) -> None:
    """Signed out, the page has no data; signed in, it holds the caller's and is never cached."""
    dev_stack.create("mine-only", wait=False)
    plain, headers = get_page(dev_stack, None)
    assert FIRST.search(plain) is None
    assert "no-store" not in headers["Cache-Control"]
    personal, headers = get_page(dev_stack, session_cookie(session_state))
    assert headers["Cache-Control"] == "no-store"
    found = FIRST.search(personal)
    assert found is not None
    first = json.loads(found[1])
    assert first["session"]["username"] == "admin"
    answers = {answer["name"]: answer for answer in first["queries"]}
    assert set(answers) == {"Me", "Deployments", "License"}
    assert answers["Deployments"]["variables"] == {"where": {"groupId_in": ["demo"]}}
    assert "mine-only" in {card["id"] for card in answers["Deployments"]["data"]["phDeployments"]}


def test_an_unknown_group_cookie_falls_back_to_the_first_group(
        dev_stack: DevStack, session_state: dict[str, Any]) -> None:
    """A remembered group that is not the user's is ignored, as the console ignores it."""
    page, _ = get_page(dev_stack, session_cookie(session_state) + "; mg_group=not-mine")
    found = FIRST.search(page)
    assert found is not None
    first = json.loads(found[1])
    answers = {answer["name"]: answer for answer in first["queries"]}
    groups = answers["Me"]["data"]["me"]["effectiveGroups"]
    assert answers["Deployments"]["variables"] == {"where": {"groupId_in": [groups[0]["id"]]}}
