"""The Clients tab (issue 14): expiry and last use of each client, an optional expiry on `Add
client`, and `Rotate` with an overlap, the new token shown once."""

from __future__ import annotations

import time
import urllib.error

import pytest
from browserkit import DevStack, record_page
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.timeout(240)

ADD = """mutation ($data: PhDeploymentClientCreateInput!) {
  createPhDeploymentClient(data: $data) { plainTextToken } }"""
CLIENTS = """query ($id: ID!) { phDeployment(where: {id: $id}) {
  endpointClients { name lastUsedAt rotatedAt } } }"""


def client_row(page: Page, name: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_text(name, exact=True))


def last_used(dev_stack: DevStack, deployment_id: str, name: str) -> str | None:
    clients = dev_stack.gql(CLIENTS, {"id": deployment_id})["phDeployment"]["endpointClients"]
    found: str | None = next(client["lastUsedAt"] for client in clients if client["name"] == name)
    return found


def test_a_client_shows_its_expiry_and_last_use(page: Page, dev_stack: DevStack) -> None:
    """A client added with an expiry shows it; once the proxy let it in, its last use shows."""
    dev_stack.create("clients-expiry", private=True)
    page.goto("/deployments/clients-expiry/clients")
    page.get_by_label("Client Name").fill("expiring-app")
    page.get_by_label("Expires (UTC, optional)").fill("2099-12-31T12:30")
    page.get_by_role("button", name="Add client").click()
    token = page.get_by_label("Client Token for expiring-app").inner_text().strip()
    row = client_row(page, "expiring-app")
    expect(row).to_contain_text("2099-12-31 12:30:00 UTC")
    expect(row).to_contain_text("by admin")
    expect(row.locator("td").nth(3)).to_have_text("Never")
    dev_stack.predict("clients-expiry", client="expiring-app", token=token)
    deadline = time.monotonic() + 60  # the proxies report usage every few seconds
    while last_used(dev_stack, "clients-expiry", "expiring-app") is None:
        assert time.monotonic() < deadline, "the client's use was never reported"
        time.sleep(0.5)
    page.reload()
    expect(client_row(page, "expiring-app").locator("td").nth(3)).to_contain_text("UTC")
    record_page(page, "16-detail-clients-expiry")


def test_an_expiry_in_the_past_is_refused_beside_the_field(page: Page,
                                                           dev_stack: DevStack) -> None:
    """The API's refusal of a past expiry appears under `Expires`, and no client is added."""
    dev_stack.create("clients-past", private=True, wait=False)
    page.goto("/deployments/clients-past/clients")
    page.get_by_label("Client Name").fill("late-app")
    page.get_by_label("Expires (UTC, optional)").fill("2001-01-01T00:00")
    page.get_by_role("button", name="Add client").click()
    expect(page.locator("#client-expires-error")).to_be_visible()
    expect(page.get_by_label("Expires (UTC, optional)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("No clients yet")).to_be_visible()


def test_rotate_shows_the_new_token_once_and_keeps_the_old_one_for_the_overlap(
        page: Page, dev_stack: DevStack) -> None:
    """`Rotate` with an overlap shows a new working token once; the old one still works."""
    dev_stack.create("clients-rotate", private=True)
    old = dev_stack.gql(ADD, {"data": {"deploymentId": "clients-rotate", "name": "steady-app"}})[
        "createPhDeploymentClient"]["plainTextToken"]
    page.goto("/deployments/clients-rotate/clients")
    page.get_by_role("button", name="Rotate client steady-app").click()
    dialog = page.get_by_role("dialog", name="Rotate client steady-app")
    dialog.get_by_label("Overlap (seconds)").fill("9999999")
    dialog.get_by_role("button", name="Rotate").click()
    expect(dialog.locator("#overlap-seconds-error")).to_contain_text("604800")
    dialog.get_by_label("Overlap (seconds)").fill("600")
    dialog.get_by_role("button", name="Rotate").click()
    shown = page.get_by_label("New Client Token for steady-app")
    expect(shown).to_be_visible()
    expect(page.get_by_text("This token is shown only once.")).to_be_visible()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    new = shown.inner_text().strip()
    assert new != old
    expect(client_row(page, "steady-app").locator("td").nth(4)).to_contain_text("UTC")
    record_page(page, "17-detail-clients-rotated")
    dev_stack.predict("clients-rotate", client="steady-app", token=new)
    dev_stack.predict("clients-rotate", client="steady-app", token=old)
    page.get_by_role("button", name="I have saved it").click()
    expect(page.get_by_text(new)).to_have_count(0)
    with pytest.raises(urllib.error.HTTPError):
        dev_stack.predict("clients-rotate", client="steady-app", token="not-" + new)
