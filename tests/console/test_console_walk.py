"""A data scientist's whole journey through the console, in one browser, against dev mode."""

from __future__ import annotations

import re

import pytest
from browserkit import DevStack, mark_no_reload, record_page, reloaded
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.timeout(300)


def header_status(page: Page) -> Locator:
    return page.locator(".page-head .status")


def test_deployment_lifecycle_through_the_console(page: Page, dev_stack: DevStack) -> None:
    """Create through the form, see Deployed live, add a client and call the proxy with the
    shown token, read and follow logs, update, view history, stop, start and delete."""
    page.goto("/")
    expect(page.get_by_role("heading", name="Deployments")).to_be_visible()
    mark_no_reload(page)
    page.get_by_role("button", name="+ Create Deployment").click()
    expect(page.get_by_role("heading", name="Create Deployment")).to_be_visible()

    page.get_by_label("Deployment Name").fill("Iris Walk")
    deployment_id = page.get_by_label("Deployment ID").input_value()
    assert re.fullmatch(r"iris-walk-[a-z0-9]{5}", deployment_id)
    expect(page.get_by_text("Deployment ID is available.")).to_be_visible()
    page.get_by_role("button", name="Use infuseai/sklearn-prepackaged:v0.1.0").click()
    expect(page.get_by_label("Model Image")).to_have_value("infuseai/sklearn-prepackaged:v0.1.0")
    page.get_by_label("Descriptions").fill("iris classifier")
    page.get_by_role("button", name="+ Add Environment Variable").click()
    page.get_by_role("group", name="Environment Variables").get_by_label("Name").fill("THRESHOLD")
    page.get_by_role("group", name="Environment Variables").get_by_label("Value").fill("s3cr3t-0.5")
    page.get_by_role("button", name="+ Add Metadata").click()
    page.get_by_role("group", name="Metadata").get_by_label("Name").fill("team")
    page.get_by_role("group", name="Metadata").get_by_label("Value").fill("ds")
    page.get_by_label("Instance Type").select_option("cpu-1")
    page.get_by_label("Replicas").fill("1")
    page.get_by_label("Private Access").check()
    page.get_by_label("Update Message").fill("first version")
    record_page(page, "02-create-form")
    page.get_by_role("button", name="Deploy").click()

    expect(page).to_have_url(re.compile(f"/deployments/{deployment_id}$"))
    expect(header_status(page)).to_have_text("Deployed")
    assert not reloaded(page), "the page reloaded"
    expect(page.get_by_text("Deployment is deployed and available now")).to_be_visible()
    expect(page.get_by_text("s3cr3t-0.5")).to_have_count(0)
    page.get_by_role("button", name="Show value of THRESHOLD").click()
    expect(page.get_by_text("s3cr3t-0.5")).to_be_visible()
    sample = page.get_by_label("curl sample")
    expect(sample).to_contain_text(f"/deployment/{deployment_id}/api/v1.0/predictions")
    expect(sample).to_contain_text("-u <client-name>:<client-token>")
    record_page(page, "03-detail-information")

    page.get_by_role("tab", name="Clients").click()
    page.get_by_label("Client Name").fill("my-app")
    page.get_by_role("button", name="Add client").click()
    token_view = page.get_by_label("Client Token for my-app")
    expect(token_view).to_be_visible()
    expect(page.get_by_text("This token is shown only once.")).to_be_visible()
    record_page(page, "04-detail-clients-token")
    token = token_view.inner_text().strip()
    answer = dev_stack.predict(deployment_id, client="my-app", token=token)
    assert answer["meta"]["tags"]["x-forwarded-user"] == "my-app"
    page.get_by_role("button", name="I have saved it").click()
    expect(page.get_by_text(token)).to_have_count(0)

    page.get_by_role("tab", name="Logs").click()
    log = page.get_by_role("log")
    expect(log).to_contain_text("user=my-app")
    expect(log.locator("time").first).to_contain_text("UTC")
    dev_stack.predict(deployment_id, client="my-app", token=token)
    expect(log.get_by_text("user=my-app")).to_have_count(2)  # followed: the new line arrived
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    saved = download.value.path().read_text()
    assert saved.count("user=my-app") == 2
    page.get_by_role("button", name="Scroll to Bottom").click()
    record_page(page, "05-detail-logs")

    page.get_by_role("button", name="Update").click()
    expect(page.get_by_label("Deployment Name")).to_have_attribute("readonly", "")
    expect(page.get_by_label("Deployment ID")).to_have_attribute("readonly", "")
    expect(page.get_by_label("Group", exact=True)).to_have_attribute("readonly", "")
    page.get_by_label("Model Image").fill("infuseai/sklearn-prepackaged:v0.2.0")
    page.get_by_label("Update Message").fill("new model")
    record_page(page, "06-update-form")
    page.get_by_role("button", name="Update").click()
    expect(page).to_have_url(re.compile(f"/deployments/{deployment_id}$"))
    expect(page.get_by_text("infuseai/sklearn-prepackaged:v0.2.0")).to_be_visible()
    expect(header_status(page)).to_have_text("Deployed")

    page.get_by_role("tab", name="History").click()
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="new model")).to_have_count(1)
    expect(rows.filter(has_text="first version")).to_have_count(1)
    record_page(page, "07-detail-history")
    rows.filter(has_text="new model").get_by_role("button", name="View").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("infuseai/sklearn-prepackaged:v0.2.0")
    expect(dialog.get_by_role("definition").filter(has_text="my-app")).to_have_count(1)
    record_page(page, "08-history-view")
    dialog.get_by_role("button", name="Close").click()

    page.get_by_role("tab", name="Clients").click()
    page.get_by_role("button", name="Delete client my-app").click()
    page.get_by_role("dialog", name="Delete client").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No clients yet")).to_be_visible()
    dev_stack.wait_refused(deployment_id, client="my-app", token=token)

    page.get_by_role("button", name="Stop").click()
    expect(header_status(page)).to_have_text("Stopped")
    page.get_by_role("button", name="Start").click()
    expect(header_status(page)).to_have_text("Deployed")

    page.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog", name="Delete Deployment")
    expect(confirm.get_by_role("button", name="Delete")).to_be_disabled()
    confirm.get_by_label("Type Iris Walk to confirm").fill("Iris Walk")
    record_page(page, "09-delete-confirm")
    confirm.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name="Iris Walk")).to_have_count(0)
    assert not reloaded(page), "the page reloaded"
