"""The admin Audit page (issue 14): audit events newest first, filtered, a page at a time."""

from __future__ import annotations

import pytest
from browserkit import DevStack, record_page
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(240)

DELETE = """mutation ($id: ID!) { deletePhDeployment(where: {id: $id}) { id } }"""


def refused_delete(dev_stack: DevStack, deployment_id: str) -> None:
    """A delete of a deployment that does not exist: refused, changes nothing, audited."""
    try:
        dev_stack.gql(DELETE, {"id": deployment_id})
    except AssertionError:
        return
    raise AssertionError(f"{deployment_id} existed")


def test_audit_events_are_filtered_and_paged(page: Page, dev_stack: DevStack) -> None:
    """Filters narrow the events; `Older` and `Newer` page through them, newest first."""
    dev_stack.create("audited-one", wait=False)
    for index in range(55):
        refused_delete(dev_stack, f"audit-none-{index:02d}")
    page.goto("/admin/audit")
    expect(page.get_by_role("heading", name="Audit")).to_be_visible()
    table = page.get_by_role("table", name="Audit events")
    expect(table).to_contain_text("deployment/audit-none-54")

    page.get_by_label("Target").fill("deployment/audited-one")
    page.get_by_role("button", name="Filter").click()
    expect(table.get_by_role("row").filter(has_text="createPhDeployment")).to_have_count(1)
    expect(table).not_to_contain_text("audit-none")
    record_page(page, "18-admin-audit")

    page.get_by_label("Target").fill("")
    page.get_by_label("Action").fill("deletePhDeployment")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("status")).to_contain_text("Page 1: 50 events")
    expect(table).to_contain_text("deployment/audit-none-54")
    expect(table.get_by_role("row").filter(has_text="NOT_FOUND").first).to_be_visible()
    expect(table).not_to_contain_text("deployment/audit-none-04")
    page.get_by_role("button", name="Older").click()
    expect(page.get_by_role("status")).to_contain_text("Page 2")
    expect(table).to_contain_text("deployment/audit-none-04")
    expect(table).not_to_contain_text("deployment/audit-none-54")
    page.get_by_role("button", name="Newer").click()
    expect(page.get_by_role("status")).to_contain_text("Page 1")
    expect(table).to_contain_text("deployment/audit-none-54")


def test_a_filter_that_matches_nothing_says_so(page: Page) -> None:
    """An action no event has: the page says nothing matches, and offers no older page."""
    page.goto("/admin/audit")
    page.get_by_label("Action").fill("noSuchAction")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("status")).to_have_text("No audit events match.")
    expect(page.get_by_role("button", name="Older")).to_be_disabled()
