"""GraphiQL, built with the console, runs a query with the browser's session."""

from __future__ import annotations

import pytest
from browserkit import screenshot
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.timeout(120)


def test_graphiql_runs_a_query_signed_in_by_the_session(page: Page) -> None:
    """GET /graphql in a browser shows GraphiQL, which queries the API with the session cookie."""
    page.goto("/graphql")
    editor = page.locator(".graphiql-query-editor .monaco-editor").first
    expect(editor).to_be_visible()
    editor.click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("{ me { username isAdmin")  # the editor closes the braces itself
    expect(page.get_by_role("button", name="Execute query (Ctrl-Enter)")).to_be_visible()
    page.keyboard.press("Control+Enter")  # the editor's suggestions may cover the button
    expect(page.locator(".graphiql-response")).to_contain_text('"username": "admin"')
    screenshot(page, "16-graphiql")
