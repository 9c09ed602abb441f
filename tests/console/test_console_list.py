"""The Deployments page: cards, search, `Deployed By Me`, live changes, Start/Stop, groups."""

from __future__ import annotations

import pytest
from browserkit import DevStack, mark_no_reload, record_page, reloaded
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.timeout(180)

CREATE_GROUP = """mutation ($data: GroupCreateInput!) { createGroup(data: $data) { id } }"""
UPDATE = """mutation ($id: ID!, $data: PhDeploymentUpdateInput!) {
  updatePhDeployment(where: {id: $id}, data: $data) { id } }"""


def card(page: Page, name: str) -> Locator:
    heading = page.get_by_role("heading", name=name, exact=True)
    return page.get_by_role("listitem").filter(has=heading)


def test_cards_show_name_endpoint_last_update_and_status(page: Page, dev_stack: DevStack) -> None:
    """A card shows the deployment's name, endpoint, who updated it last and its status."""
    dev_stack.create("card-one")
    page.goto("/")
    one = card(page, "card-one")
    expect(one).to_contain_text("/deployment/card-one/api/v1.0/predictions")
    expect(one).to_contain_text("by admin")
    expect(one).to_contain_text("UTC")
    expect(one.locator(".status")).to_have_text("Deployed")
    record_page(page, "01-list")


def test_list_follows_changes_without_reloading(page: Page, dev_stack: DevStack) -> None:
    """A deployment created, stopped or deleted elsewhere shows on the open list by itself."""
    page.goto("/")
    expect(page.get_by_role("heading", name="Deployments")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="deployment")).to_be_visible()
    mark_no_reload(page)
    dev_stack.create("live-one", wait=False)
    expect(card(page, "live-one").locator(".status")).to_have_text("Deployed")
    dev_stack.gql("""mutation { stopPhDeployment(where: {id: "live-one"}) { id } }""")
    expect(card(page, "live-one").locator(".status")).to_have_text("Stopped")
    dev_stack.gql("""mutation { deletePhDeployment(where: {id: "live-one"}) { id } }""")
    expect(card(page, "live-one")).to_have_count(0)
    assert not reloaded(page)


def test_start_and_stop_on_a_card(page: Page, dev_stack: DevStack) -> None:
    """Stop and Start on a card toggle the deployment, and the card follows."""
    dev_stack.create("toggle-one")
    page.goto("/")
    page.get_by_role("button", name="Stop toggle-one").click()
    expect(card(page, "toggle-one").locator(".status")).to_have_text("Stopped")
    page.get_by_role("button", name="Start toggle-one").click()
    expect(card(page, "toggle-one").locator(".status")).to_have_text("Deployed")


def test_search_by_name_and_deployed_by_me(page: Page, dev_stack: DevStack) -> None:
    """`Search by name` narrows the cards; `Deployed By Me` keeps those the user last changed."""
    dev_stack.create("alpha-search", wait=False)
    dev_stack.create("beta-search", wait=False, token=dev_stack.user_token("bea"))
    page.goto("/")
    expect(card(page, "beta-search")).to_have_count(1)
    page.get_by_label("Search by name").fill("ALPHA-S")
    expect(card(page, "alpha-search")).to_have_count(1)
    expect(card(page, "beta-search")).to_have_count(0)
    page.get_by_label("Search by name").fill("")
    page.get_by_label("Deployed By Me").check()
    expect(card(page, "alpha-search")).to_have_count(1)
    expect(card(page, "beta-search")).to_have_count(0)
    page.get_by_role("button", name="Refresh").click()
    expect(card(page, "alpha-search")).to_have_count(1)


def test_group_switcher_and_feature_not_available(page: Page, dev_stack: DevStack) -> None:
    """Switching to a group with deployment disabled says "Feature not available"."""
    dev_stack.gql(CREATE_GROUP, {"data": {"name": "no-deploy", "displayName": "No Deploy",
                                          "members": ["admin"], "enabledDeployment": False}})
    page.goto("/")
    page.get_by_label("Group:").select_option(label="No Deploy")
    expect(page.get_by_text("Feature not available")).to_be_visible()
    expect(page.get_by_text("Model Deployment is not enabled for this group.")).to_be_visible()
    expect(page.get_by_role("button", name="+ Create Deployment")).to_have_count(0)
    record_page(page, "10-feature-not-available")
    page.get_by_label("Group:").select_option(label="Demo")
    expect(page.get_by_role("button", name="+ Create Deployment")).to_be_visible()


def test_keyboard_reaches_the_create_form_and_the_tabs(page: Page, dev_stack: DevStack) -> None:
    """Tab and Enter reach every page, and arrow keys move between a deployment's tabs."""
    dev_stack.create("keys-one", wait=False)
    page.goto("/")
    expect(card(page, "keys-one")).to_have_count(1)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "+ Create Deployment":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Create Deployment")).to_be_visible()
    page.goto("/deployments/keys-one")
    page.get_by_role("tab", name="Information").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Logs")).to_be_focused()
    expect(page.get_by_role("tab", name="Logs")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("End")
    expect(page.get_by_role("tab", name="History")).to_be_focused()
