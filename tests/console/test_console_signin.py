"""Signing in: dev mode's one-time link, pasting an API token, signing out."""

from __future__ import annotations

import pytest
from browserkit import DevStack, open_page, record_page
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.timeout(120)


def test_the_one_time_link_signs_in_once(browser: Browser, dev_stack: DevStack) -> None:
    """dev.json's consoleUrl signs the admin in with an HttpOnly cookie, and only once."""
    page, log = open_page(browser, base=dev_stack.base, state=None)
    page.goto(dev_stack.info["consoleUrl"])
    expect(page.get_by_role("heading", name="Deployments")).to_be_visible()
    assert "code=" not in page.url
    assert all(cookie["httpOnly"] for cookie in page.context.cookies())
    page.context.close()
    assert log.errors == []
    assert dev_stack.status_of(dev_stack.info["consoleUrl"]) == 400


def test_sign_in_with_a_pasted_token_and_sign_out(browser: Browser, dev_stack: DevStack) -> None:
    """A pasted API token becomes a session cookie, never stored by the page; sign-out ends it."""
    page, log = open_page(browser, base=dev_stack.base, state=None)
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    record_page(page, "00-sign-in")
    token = dev_stack.info["adminToken"]
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Deployments")).to_be_visible()
    stored = page.evaluate("JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert token not in stored
    assert token not in page.url
    cookies = page.context.cookies()
    assert cookies
    assert all(cookie["httpOnly"] and cookie["sameSite"] == "Strict" for cookie in cookies)
    assert all(token not in cookie["value"] for cookie in cookies)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.context.close()
    assert log.errors == []


def test_a_wrong_token_is_refused_beside_the_field(browser: Browser, dev_stack: DevStack) -> None:
    """A wrong token is refused with the API's reason under the token field."""
    page, log = open_page(browser, base=dev_stack.base, state=None)
    page.goto("/")
    page.get_by_label("API token").fill("mga_not_a_real_token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#api-token-error")).to_contain_text("not valid")
    expect(page.get_by_label("API token")).to_have_attribute("aria-invalid", "true")
    page.context.close()
    # the refusal itself is the one error the browser logs (a 401 answer)
    assert [error for error in log.errors if "401" not in error] == []
