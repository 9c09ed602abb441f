"""A failed deployment says what broke and what to do, on its card and its page."""

from __future__ import annotations

import pytest
from browserkit import DevStack, mark_no_reload, record_page, reloaded
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(120)

BROKEN_IMAGE = "example.com/team/does-not-exist:1.0"  # dev mode's cluster cannot pull it


def test_failure_is_explained_live(page: Page, dev_stack: DevStack) -> None:
    """An unpullable image turns the open page to Failed with the reason and the remedy."""
    dev_stack.create("broken-one", wait=False, modelImage=BROKEN_IMAGE)
    page.goto("/deployments/broken-one")
    mark_no_reload(page)
    expect(page.locator(".page-head .status")).to_have_text("Failed")
    alert = page.get_by_role("alert").filter(has_text="Failed:")
    expect(alert).to_contain_text(BROKEN_IMAGE)
    expect(alert).to_contain_text("pull secret")
    assert not reloaded(page)
    record_page(page, "17-detail-failed")
    page.goto("/")
    card = page.get_by_role("listitem").filter(
        has=page.get_by_role("heading", name="broken-one", exact=True))
    expect(card.locator(".status")).to_have_text("Failed")
    expect(card).to_contain_text(BROKEN_IMAGE)
