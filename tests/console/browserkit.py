"""Helpers for the console's browser tests: the dev stack they run against, the recorder of
the browser console, and screenshots. The fixtures that use them are in conftest.py."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Page

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CREATE = """mutation ($data: PhDeploymentCreateInput!) { createPhDeployment(data: $data) { id } }"""
STATUS = """query ($id: ID!) { phDeployment(where: {id: $id}) { status } }"""


@dataclass
class DevStack:
    """A running ``model-gateway dev`` and what its ``dev.json`` says."""

    process: subprocess.Popen[bytes]
    directory: Path
    info: dict[str, Any]
    output: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        """The API's (and the console's) base URL."""
        return str(self.info["api"]).removesuffix("/graphql")

    @property
    def proxy(self) -> str:
        return str(self.info["proxy"])

    def gql(self, query: str, variables: dict[str, Any] | None = None, *,
            token: str | None = None) -> dict[str, Any]:
        """One GraphQL request as the admin, or as ``token``'s user (test set-up and checks);
        raises on errors."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.info["api"], data=body, headers={  # noqa: S310
            "Authorization": f"Bearer {token or self.info['adminToken']}",
            "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            result: dict[str, Any] = json.load(response)
        assert not result.get("errors"), result["errors"]
        data: dict[str, Any] = result["data"]
        return data

    def create(self, deployment_id: str, *, private: bool = False, wait: bool = True,
               token: str | None = None, **extra: Any) -> None:
        """Create a deployment in the demo group (set-up), by default waiting until Deployed."""
        data = {"id": deployment_id, "name": deployment_id, "groupId": "demo",
                "instanceType": "cpu-1", "modelImage": "infuseai/sklearn-prepackaged:v0.1.0",
                "replicas": 1, "endpointAccessType": "private" if private else "public", **extra}
        self.gql(CREATE, {"data": data}, token=token)
        if wait:
            self.wait_status(deployment_id, "Deployed")

    def user_token(self, username: str) -> str:
        """An API token for a (non-admin) member of the demo group."""
        found = self.gql("""mutation ($data: ApiTokenCreateInput!) {
            createApiToken(data: $data) { token } }""", {"data": {"username": username}})
        members = self.gql("""{ group(where: {id: "demo"}) { members } }""")["group"]["members"]
        self.gql("""mutation ($members: [String!]) {
            updateGroup(where: {id: "demo"}, data: {members: $members}) { id } }""",
                 {"members": sorted({*members, username})})
        token: str = found["createApiToken"]["token"]
        return token

    def wait_status(self, deployment_id: str, status: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.gql(STATUS, {"id": deployment_id})["phDeployment"]["status"] != status:
            assert time.monotonic() < deadline, f"{deployment_id} never became {status}"
            time.sleep(0.2)

    def predict(self, deployment_id: str, *, client: str, token: str) -> dict[str, Any]:
        """Call a private deployment through the proxy as a client (basic auth)."""
        credentials = base64.b64encode(f"{client}:{token}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.proxy}/deployment/{deployment_id}/api/v1.0/predictions",
            data=json.dumps({"data": {"ndarray": [[5.1, 3.5, 1.4, 0.2]]}}).encode(),
            headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            result: dict[str, Any] = json.load(response)
        return result

    def wait_refused(self, deployment_id: str, *, client: str, token: str,
                     timeout: float = 30) -> None:
        """Wait until the proxy turns the client away (401), as it must once it is deleted."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.predict(deployment_id, client=client, token=token)
            except urllib.error.HTTPError as error:
                refused = error.code
            else:
                refused = None
            if refused is not None:
                assert refused == 401, refused
                return
            assert time.monotonic() < deadline, f"{client} was still let in"
            time.sleep(0.2)

    def signed_in_state(self) -> dict[str, Any]:
        """Playwright storage state with a session cookie, got by ``POST /auth/session``."""
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{self.base}/auth/session", method="POST",
            data=json.dumps({"token": self.info["adminToken"]}).encode(),
            headers={"Content-Type": "application/json", "X-Model-Gateway-CSRF": "1"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            cookie = SimpleCookie(response.headers["Set-Cookie"])
        return {"origins": [], "cookies": [{
            "name": name, "value": morsel.value, "domain": "127.0.0.1", "path": "/",
            "expires": -1, "httpOnly": True, "secure": False, "sameSite": "Strict"}
            for name, morsel in cookie.items()]}

    def status_of(self, url: str) -> int:
        """The HTTP status of a GET (no cookies, no token)."""
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback)
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)


class ConsoleLog:
    """What the browser console said on one page: errors fail the test that caused them."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")


def open_page(browser: Browser, *, base: str,
              state: dict[str, Any] | None) -> tuple[Page, ConsoleLog]:
    """A page in a new context (its own cookies), recording its console."""
    context = browser.new_context(base_url=base, storage_state=state,  # type: ignore[arg-type]
                                  viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()
    return page, ConsoleLog(page)


# Visible form controls without a visible, non-empty <label>, and visible buttons, links and
# tabs without a name (text or aria-label).
UNLABELLED = """() => {
  const visible = (el) => el.getClientRects().length > 0;
  const problems = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    const shown = [...(el.labels || [])].filter((l) => visible(l) && l.textContent.trim());
    if (shown.length === 0) problems.push(`${el.tagName.toLowerCase()}#${el.id}: no label`);
  }
  for (const el of document.querySelectorAll('button, a[href], [role=tab]')) {
    if (!visible(el)) continue;
    if (!(el.getAttribute('aria-label') || el.textContent || '').trim())
      problems.push(`${el.outerHTML.slice(0, 80)} has no name`);
  }
  return problems;
}"""


def screenshot(page: Page, name: str) -> None:
    """Save what the page shows (tests/console/screenshots/, git-ignored) for a person."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def record_page(page: Page, name: str) -> None:
    """A screenshot of one of the console's pages, and a check that every control on it has a
    visible label or a name."""
    screenshot(page, name)
    assert page.evaluate(UNLABELLED) == []


def mark_no_reload(page: Page) -> None:
    """Mark the loaded document, so :func:`reloaded` can tell whether it was replaced."""
    page.evaluate("window.__sameDocument = true")


def reloaded(page: Page) -> bool:
    return page.evaluate("window.__sameDocument !== true") is True
