"""The admin pages: groups, instance types and API tokens (scopes, use, rotation, revoke)."""

from __future__ import annotations

import time

import pytest
from browserkit import DevStack, record_page
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(120)

OWN_TOKEN = """mutation { createApiToken(data: {username: "dave"}) { token } }"""
TOKENS = """{ apiTokens { description lastUsedAt } }"""
AUDIT = """query ($where: AuditEventWhereInput) {
  auditEvents(where: $where, first: 50) { edges { node { reason } } } }"""


def last_used(dev_stack: DevStack, description: str) -> str | None:
    found: str | None = next(token["lastUsedAt"] for token in dev_stack.gql(TOKENS)["apiTokens"]
                             if token["description"] == description)
    return found


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


def test_api_token_scope_use_rotation_and_revoke_reason(page: Page, dev_stack: DevStack) -> None:
    """A read-scoped token is issued and listed with its scope and last use; `Rotate` shows a
    new value once while the old one keeps working; `Revoke` keeps its reason for the audit."""
    page.goto("/admin/api-tokens")
    page.get_by_label("Username").fill("dave")
    page.get_by_label("Scope").select_option("read")
    page.get_by_label("Description").fill("dave reads")
    page.get_by_role("button", name="Issue token").click()
    token = page.get_by_label("API token for dave").inner_text().strip()
    row = page.get_by_role("row").filter(has_text="dave reads")
    expect(row).to_contain_text("read")
    expect(row).to_contain_text("by admin")
    expect(row.locator("td").nth(5)).to_have_text("Never")
    with pytest.raises(AssertionError, match="FORBIDDEN"):
        dev_stack.gql(OWN_TOKEN, token=token)  # a deployments:write token of dave's could
    deadline = time.monotonic() + 60  # the API records use every few seconds
    while last_used(dev_stack, "dave reads") is None:
        assert time.monotonic() < deadline, "the token's use was never recorded"
        dev_stack.gql("{ me { username } }", token=token)
        time.sleep(1)
    page.reload()
    row = page.get_by_role("row").filter(has_text="dave reads")
    expect(row.locator("td").nth(5)).to_contain_text("UTC")

    row.get_by_role("button", name="Rotate").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Overlap (seconds)").fill("600")
    dialog.get_by_role("button", name="Rotate").click()
    new = page.get_by_label("New API token value for dave").inner_text().strip()
    assert new != token
    expect(row).to_contain_text("old value until")
    record_page(page, "21-admin-api-tokens-rotated")
    assert dev_stack.gql("{ me { username } }", token=new)["me"]["username"] == "dave"
    assert dev_stack.gql("{ me { username } }", token=token)["me"]["username"] == "dave"

    row.get_by_role("button", name="Revoke").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason (optional)").fill("dave left the team")
    dialog.get_by_role("button", name="Revoke").click()
    expect(row).to_have_count(0)
    events = dev_stack.gql(AUDIT, {"where": {"action": "revokeApiToken"}})["auditEvents"]["edges"]
    assert "dave left the team" in [edge["node"]["reason"] for edge in events]
