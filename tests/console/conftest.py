"""Fixtures for the console's browser tests.

One ``model-gateway dev`` per test session (a child process on free ports with a temporary
state directory), signed in once through the one-time link it writes to ``dev.json`` as
``consoleUrl``; each test gets a fresh browser context carrying that session cookie. The
browser is Debian's Chromium driven by Playwright (no browser download). Every page records
the browser console: a test fails if the console logged an error or the page threw.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browserkit import DevStack, open_page
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "gateway" / "console_dist" / "index.html"
CHROMIUM = Path(os.environ.get("MODEL_GATEWAY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-quic", "--no-first-run", "--disable-sync"]
READY_TIMEOUT = 90.0  # seconds dev mode may take to start on a loaded machine

expect.set_options(timeout=20_000)  # generous: the machine is shared and slow at times


def _drain(process: subprocess.Popen[bytes], lines: list[str]) -> None:
    assert process.stdout is not None
    for raw in process.stdout:
        lines.append(raw.decode(errors="replace"))


@pytest.fixture(scope="session")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    """``model-gateway dev`` on free loopback ports in a fresh directory, for the session."""
    assert BUILT.exists(), ("the console is not built: `pip install -e .` builds it "
                            "(or `cd console && npm ci && npm run build`)")
    directory = tmp_path_factory.mktemp("console-dev")
    api, proxy, kube = (str(free_port()) for _ in range(3))
    process = subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
        [sys.executable, "-m", "gateway.cli", "--log-level", "WARNING", "dev", "--api-port", api,
         "--proxy-port", proxy, "--kube-port", kube], cwd=directory,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[str] = []
    drainer = threading.Thread(target=_drain, args=(process, output), daemon=True)
    drainer.start()
    deadline = time.monotonic() + READY_TIMEOUT
    while not any("is ready" in line for line in output):
        assert process.poll() is None, "dev mode exited:\n" + "".join(output)
        assert time.monotonic() < deadline, "dev mode did not start:\n" + "".join(output)
        time.sleep(0.1)
    info = json.loads((directory / ".model-gateway" / "dev.json").read_text())
    try:
        yield DevStack(process=process, directory=directory, info=info, output=output)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        drainer.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


# Playwright's sync API runs an event loop in this thread while it is open, so it is opened
# per module: async tests elsewhere in the run (and in this folder) need the thread's loop free.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium (never a downloaded one)."""
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def session_state(dev_stack: DevStack) -> dict[str, Any]:
    """Browser state holding a session cookie for the dev admin, signed in by pasting the
    admin token as the sign-in page does (the one-time link is test_console_signin's)."""
    return dev_stack.signed_in_state()


@pytest.fixture
def page(browser: Browser, dev_stack: DevStack, session_state: dict[str, Any]) -> Iterator[Page]:
    """A signed-in page at the console's origin; fails the test on any console error."""
    opened, log = open_page(browser, base=dev_stack.base, state=session_state)
    yield opened
    opened.context.close()
    assert log.errors == [], "the browser console logged errors"
