"""The deployment form: availability as you type, and the API's errors beside their fields."""

from __future__ import annotations

import pytest
from browserkit import DevStack, record_page
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(120)


def test_deployment_id_availability_is_shown_as_you_type(page: Page, dev_stack: DevStack) -> None:
    """Typing an id in use says so; a free one is available; a malformed one is explained."""
    dev_stack.create("taken-id", wait=False)
    page.goto("/create")
    field = page.get_by_label("Deployment ID")
    field.fill("taken-id")
    expect(page.get_by_text("Deployment ID is already in use.")).to_be_visible()
    field.fill("free-id-1")
    expect(page.get_by_text("Deployment ID is available.")).to_be_visible()
    field.fill("Bad_Id")
    expect(page.get_by_text("Use 3 to 56 lowercase letters")).to_be_visible()


def test_api_errors_appear_next_to_the_field_they_name(page: Page, dev_stack: DevStack) -> None:
    """An image the API rejects is reported under `Model Image`, which is marked invalid."""
    page.goto("/create")
    page.get_by_label("Deployment Name").fill("bad image")
    page.get_by_label("Model Image").fill("not an image")
    page.get_by_role("button", name="Deploy").click()
    image = page.get_by_label("Model Image")
    expect(image).to_have_attribute("aria-invalid", "true")
    error = page.locator("#modelImage-error")
    expect(error).to_contain_text("must be an image reference")
    described = image.get_attribute("aria-describedby") or ""
    assert "modelImage-error" in described.split()
    expect(image).to_be_focused()
    record_page(page, "11-form-field-error")


def test_required_fields_are_checked_before_sending(page: Page) -> None:
    """Deploying an empty form names each missing field beside it and sends nothing."""
    page.goto("/create")
    page.get_by_role("button", name="Deploy").click()
    expect(page.locator("#name-error")).to_have_text("Enter a Deployment Name.")
    expect(page.locator("#modelImage-error")).to_have_text("Enter a Model Image.")
    expect(page.get_by_label("Deployment Name")).to_be_focused()
