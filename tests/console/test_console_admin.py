"""The admin pages: groups, instance types and API tokens."""

from __future__ import annotations

import pytest
from browserkit import DevStack, record_page
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(120)


def test_groups_enable_deployment_and_set_limits(page: Page, dev_stack: DevStack) -> None:
    """An admin adds a group with deployment enabled, a maximum and quotas, then edits it."""
    page.goto("/admin/groups")
    page.get_by_role("button", name="+ Add Group").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("science")
    dialog.get_by_label("Display Name").fill("Science")
    dialog.get_by_label("Maximum Deployments").fill("3")
    dialog.get_by_label("CPU Quota").fill("8")
    dialog.get_by_label("Memory Quota (GB)").fill("16")
    dialog.get_by_label("CPU 1 (cpu-1)").check()
    record_page(page, "12-admin-group-dialog")
    dialog.get_by_role("button", name="Save").click()
    row = page.get_by_role("row").filter(has_text="science")
    expect(row).to_contain_text("Enabled")
    expect(row).to_contain_text("0 of 3")
    expect(row).to_contain_text("cpu-1")
    page.get_by_role("button", name="Edit group science").click()
    page.get_by_role("dialog").get_by_label("Enable Model Deployment").uncheck()
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(row).to_contain_text("Disabled")
    record_page(page, "13-admin-groups")
    group = dev_stack.gql(
        """{ group(where: {id: "science"}) { enabledDeployment maxDeploy quotaCpu } }""")
    assert group["group"] == {"enabledDeployment": False, "maxDeploy": 3, "quotaCpu": 8.0}


def test_group_errors_appear_beside_the_field(page: Page) -> None:
    """A group name the API rejects is reported under `Name`."""
    page.goto("/admin/groups")
    page.get_by_role("button", name="+ Add Group").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("Not A Name!")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.locator("#name-error")).to_be_visible()
    expect(dialog.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")


def test_instance_types_are_created_and_deleted(page: Page, dev_stack: DevStack) -> None:
    """An admin adds an instance type and deletes it again."""
    page.goto("/admin/instance-types")
    expect(page.get_by_role("row").filter(has_text="gpu-1")).to_have_count(1)
    page.get_by_role("button", name="+ Add Instance Type").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("cpu-tiny")
    dialog.get_by_label("Display Name").fill("Tiny")
    dialog.get_by_label("CPU Limit").fill("0.5")
    dialog.get_by_label("Memory Limit (GB)").fill("0.5")
    dialog.get_by_role("button", name="Save").click()
    row = page.get_by_role("row").filter(has_text="cpu-tiny")
    expect(row).to_contain_text("Tiny")
    record_page(page, "14-admin-instance-types")
    page.get_by_role("button", name="Delete instance type cpu-tiny").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    names = [item["name"] for item in dev_stack.gql("{ instanceTypes { name } }")["instanceTypes"]]
    assert "cpu-tiny" not in names


def test_api_tokens_are_issued_once_and_revoked(page: Page, dev_stack: DevStack) -> None:
    """An issued token is shown once, works with an expiry, and stops working when revoked."""
    page.goto("/admin/api-tokens")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Expires (UTC, end of day)").fill("2099-12-31")
    page.get_by_label("Description").fill("for the notebook")
    page.get_by_role("button", name="Issue token").click()
    shown = page.get_by_label("API token for carol")
    expect(shown).to_be_visible()
    token = shown.inner_text().strip()
    assert dev_stack.gql("{ me { username } }", token=token)["me"]["username"] == "carol"
    row = page.get_by_role("row").filter(has_text="for the notebook")
    expect(row).to_contain_text("2099-12-31 23:59:59 UTC")
    record_page(page, "15-admin-api-tokens")
    page.get_by_role("button", name="I have saved it").click()
    expect(page.get_by_text(token)).to_have_count(0)
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(row).to_have_count(0)
    with pytest.raises(AssertionError):
        dev_stack.gql("{ me { username } }", token=token)
