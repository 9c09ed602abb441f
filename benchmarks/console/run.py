"""Benchmark: the console's first load, its size on the wire, and the Deployments page with
1,000 deployments, in headless Chromium against ``model-gateway dev`` on loopback.

Starts ``model-gateway dev`` as a child process (free ports, a temporary state directory),
signs in through its one-time ``consoleUrl``, and creates two groups through the API: one
with ``--deployments`` deployments (default 1,000) and a peer with ``--peer`` (default 60, one
page of cards, so both draw the same cards and the difference is what the other 940 cost;
``replicas: 0``, so no model pods run and the machine measures the console, not the model).
Then, in Debian's Chromium driven by Playwright:

1. **First load** (``--loads`` times, each in a fresh browser context, so nothing is cached):
   from navigation start until the Deployments page shows its cards, and until the ``load``
   event; the peer is a navigation to ``/healthz`` (a tiny text response from the same
   server), so the ratio says what the console adds to the cost of any page.
2. **Size**: the bytes the browser received for the page and everything it loaded (Resource
   Timing's ``encodedBodySize``: compressed when the server compressed), plus the gzip size
   of the built files as a cross-check.
3. **List responsiveness** with 1,000 deployments against the peer group: time until the
   list is shown; a search keystroke until the next paint (``--keys`` times); and a status
   change made through the API until the card shows it (``--changes`` times; the browser
   and this process read the same clock).

Writes Markdown to ``--output`` when given::

    .venv/bin/python benchmarks/console/run.py --output benchmarks/console/RESULTS.md
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "gateway" / "console_dist"
CHROMIUM = os.environ.get("MODEL_GATEWAY_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"]
ASSET = re.compile(r'"/assets/([^"]+)"')
GROUP_KEY = "model-gateway.group"  # where the console remembers the selected group
# Records, from the first script on, when the list first shows its cards (or says it is
# empty), and when each card's status text changes.
PROBE = """
window.__probe = { shown: null, changes: {} };
new MutationObserver(() => {
  if (window.__probe.shown === null && document.querySelector('.cards, .muted[role=status]'))
    window.__probe.shown = performance.now();
  for (const badge of document.querySelectorAll('.deployment-card .status')) {
    const card = badge.closest('li').querySelector('h2').textContent;
    const seen = window.__probe.changes[card];
    if (seen === undefined) window.__probe.changes[card] = {text: badge.textContent, at: null};
    else if (seen.text !== badge.textContent && seen.at === null) {
      seen.text = badge.textContent; seen.at = Date.now();
    }
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""
# One keystroke's worth of work: set the search text, then wait for the frame after the
# re-render to be painted (two animation frames).
KEYSTROKE = """async (text) => {
  const input = document.getElementById('search');
  const start = performance.now();
  input.value = text;
  input.dispatchEvent(new Event('input', {bubbles: true}));
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return performance.now() - start;
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def dev_mode() -> Iterator[dict[str, Any]]:
    """``model-gateway dev`` in a temporary directory; yields its dev.json."""
    with tempfile.TemporaryDirectory() as directory:
        ports = [str(free_port()) for _ in range(3)]
        process = subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
            [sys.executable, "-m", "gateway.cli", "--log-level", "WARNING", "dev",
             "--api-port", ports[0], "--proxy-port", ports[1], "--kube-port", ports[2]],
            cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        lines: list[str] = []

        def drain() -> None:
            assert process.stdout is not None
            lines.extend(raw.decode(errors="replace") for raw in process.stdout)

        drainer = threading.Thread(target=drain, daemon=True)
        drainer.start()
        deadline = time.monotonic() + 120
        while not any("is ready" in line for line in lines):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dev mode did not start:\n" + "".join(lines))
            time.sleep(0.1)
        try:
            yield json.loads((Path(directory) / ".model-gateway" / "dev.json").read_text())
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
            drainer.join(timeout=10)
            assert process.stdout is not None
            process.stdout.close()


def gql(info: dict[str, Any], query: str, variables: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        info["api"], data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Authorization": f"Bearer {info['adminToken']}",
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
        result = json.load(response)
    if result.get("errors"):
        raise RuntimeError(f"benchmark request failed: {result['errors']}")
    return result["data"]


def kube(info: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    """One request to dev mode's local Kubernetes API."""
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{info['kube']}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
        return json.load(response)


def seed(info: dict[str, Any], group: str, count: int) -> float:
    """A group with ``count`` deployments (no pods); returns the seconds until the API's cache
    held them all. The first is created through the API; the others are copies of its custom
    resource written straight to the cluster, as the console would see them after months."""
    started = time.monotonic()
    gql(info, "mutation ($data: GroupCreateInput!) { createGroup(data: $data) { id } }",
        {"data": {"name": group, "members": ["admin"], "enabledDeployment": True,
                  "instanceTypes": ["cpu-1"]}})
    gql(info, "mutation ($data: PhDeploymentCreateInput!) { createPhDeployment(data: $data) "
              "{ id } }", {"data": {
                  "id": f"{group}-0000", "name": f"{group} model 0", "groupId": group,
                  "instanceType": "cpu-1", "modelImage": "infuseai/sklearn-prepackaged:v0.1.0",
                  "replicas": 0, "description": "benchmark deployment"}})
    collection = f"/apis/primehub.io/v1alpha1/namespaces/{info['namespace']}/phdeployments"
    template = kube(info, "GET", f"{collection}/{group}-0000")

    def one(index: int) -> None:
        body = {"apiVersion": template["apiVersion"], "kind": template["kind"],
                "metadata": {"name": f"{group}-{index:04d}",
                             "labels": template["metadata"].get("labels", {})},
                "spec": {**template["spec"], "displayName": f"{group} model {index}"}}
        kube(info, "POST", collection, body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(1, count)))
    listed = "query ($where: PhDeploymentWhereInput) { phDeployments(where: $where) { id } }"
    while len(gql(info, listed, {"where": {"groupId_in": [group]}})["phDeployments"]) < count:
        time.sleep(0.5)
    return time.monotonic() - started


def signed_in_state(browser: Browser, info: dict[str, Any]) -> dict[str, Any]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(info["consoleUrl"])
    page.get_by_role("heading", name="Deployments").wait_for()
    state: dict[str, Any] = dict(context.storage_state())
    context.close()
    return state


def with_group(state: dict[str, Any], base: str, group: str) -> dict[str, Any]:
    """The signed-in state with ``group`` remembered as the selected one."""
    return {**state, "origins": [{"origin": base, "localStorage": [
        {"name": GROUP_KEY, "value": group}]}]}


def fresh_page(browser: Browser, base: str, state: dict[str, Any]) -> Page:
    # bypass_csp: Playwright's wait_for_function polls with eval, which the page's CSP forbids
    context = browser.new_context(base_url=base, storage_state=state,  # type: ignore[arg-type]
                                  viewport={"width": 1280, "height": 860}, bypass_csp=True)
    context.add_init_script(PROBE)
    return context.new_page()


def first_load(browser: Browser, base: str, state: dict[str, Any]) -> dict[str, float]:
    """One cold load of the Deployments page: when the cards show, the load event, bytes."""
    page = fresh_page(browser, base, state)
    page.goto("/", wait_until="load")
    page.wait_for_function("window.__probe.shown !== null", polling=10)
    timing = page.evaluate("""() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const resources = performance.getEntriesByType('resource')
        .filter((entry) => new URL(entry.name).pathname.startsWith('/assets/'));
      const total = (key) => nav[key] + resources.reduce((sum, entry) => sum + entry[key], 0);
      return {shown: window.__probe.shown, load: nav.loadEventEnd,
              bytes: total('encodedBodySize'), decoded: total('decodedBodySize')};
    }""")
    page.context.close()
    return {key: float(value) for key, value in timing.items()}


def peer_load(browser: Browser, base: str) -> float:
    """A navigation to /healthz (a few bytes of text): the cost of any page at all."""
    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.goto("/healthz", wait_until="load")
    load = float(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
    context.close()
    return load


def list_page(browser: Browser, base: str, state: dict[str, Any], group: str, *, keys: int,
              changes: int, info: dict[str, Any]) -> dict[str, list[float]]:
    """The list of one group: time until shown, keystroke-to-paint, change-to-card latency."""
    page = fresh_page(browser, base, with_group(state, base, group))
    page.goto("/", wait_until="load")
    page.wait_for_function("document.querySelector('.cards') !== null", polling=10)
    shown = [float(page.evaluate("window.__probe.shown"))]
    texts = [f"model {index}" if index % 2 == 0 else "" for index in range(keys)]
    typing = [float(page.evaluate(KEYSTROKE, text)) for text in texts]
    latencies = []
    for index in range(changes):
        deployment = f"{group}-{index:04d}"
        name = f"{group} model {index}"
        page.wait_for_function(f"window.__probe.changes[{json.dumps(name)}] !== undefined",
                               polling=10)
        sent = time.time() * 1000
        gql(info, "mutation ($id: ID!) { stopPhDeployment(where: {id: $id}) { id } }",
            {"id": deployment})
        page.wait_for_function(f"window.__probe.changes[{json.dumps(name)}].at !== null",
                               polling=10, timeout=30_000)
        seen = float(page.evaluate(f"window.__probe.changes[{json.dumps(name)}].at"))
        latencies.append(seen - sent)
    page.context.close()
    return {"shown": shown, "typing": typing, "change": latencies}


def built_gzip_size() -> int:
    """The gzip size (level 6) of index.html and the assets it loads (GraphiQL's are not the
    console's: they load only on its own page)."""
    page = (DIST / "index.html").read_text()
    files = [DIST / "index.html",
             *(DIST / "assets" / name for name in sorted(set(ASSET.findall(page))))]
    return sum(len(gzip.compress(path.read_bytes(), compresslevel=6)) for path in files)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=1000)
    parser.add_argument("--peer", type=int, default=60)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--keys", type=int, default=20)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    if not (DIST / "index.html").exists():
        raise SystemExit("the console is not built: cd console && npm ci && npm run build")

    with dev_mode() as info, sync_playwright() as driver:
        base = info["api"].removesuffix("/graphql")
        seeded = seed(info, "bench-big", args.deployments)
        seed(info, "bench-small", args.peer)
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        state = signed_in_state(browser, info)
        first_load(browser, base, with_group(state, base, "bench-small"))  # warm the server
        loads = [first_load(browser, base, with_group(state, base, "bench-small"))
                 for _ in range(args.loads)]
        peers = [peer_load(browser, base) for _ in range(args.loads)]
        small = list_page(browser, base, state, "bench-small", keys=args.keys,
                          changes=min(args.changes, 10), info=info)
        big = list_page(browser, base, state, "bench-big", keys=args.keys,
                        changes=args.changes, info=info)
        version = browser.version
        browser.close()

    load = os.getloadavg()[0]
    shown = [one["shown"] for one in loads]
    load_events = [one["load"] for one in loads]
    wire = loads[0]["bytes"]
    lines = [
        "# Console benchmark: results", "",
        "Command: `python benchmarks/console/run.py --output benchmarks/console/RESULTS.md`", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, Chromium {version} (headless, Debian's), "
        f"{platform.system()} {platform.release()}; load average {load:.1f} when it ended "
        "(the machine is shared). `model-gateway dev` and the browser run on the same "
        "machine and talk over loopback.", "",
        "## First load", "",
        f"{args.loads} cold loads of `/` (a new browser context each: empty cache), signed in, "
        f"in a group of {args.peer} deployments. \"Cards shown\" is from navigation start until "
        "the Deployments page has drawn its cards (after the session check, `me` and the list "
        "query); the peer is a navigation to `/healthz`.", "",
        "| what | median | p95 |", "|---|---|---|",
        f"| console: cards shown | {ms(statistics.median(shown))} | {ms(p95(shown))} |",
        f"| console: `load` event | {ms(statistics.median(load_events))} | "
        f"{ms(p95(load_events))} |",
        f"| peer: `/healthz` `load` event | {ms(statistics.median(peers))} | "
        f"{ms(p95(peers))} |",
        f"| ratio, cards shown / peer | {statistics.median(shown) / statistics.median(peers):.1f}"
        f" | |", "",
        "## Size", "",
        f"- On the wire (page + assets, as received): **{wire / 1024:.1f} KB** "
        f"({loads[0]['decoded'] / 1024:.1f} KB uncompressed).",
        f"- Built files gzipped (level 6), as a cross-check: {built_gzip_size() / 1024:.1f} KB.",
        "",
        "## Deployments page with many deployments", "",
        f"{args.deployments} deployments (in the API's cache after {seeded:.1f} s) against a "
        f"peer group of {args.peer} (one page of cards: both pages draw the same cards). "
        "Keystroke: a `Search by name` input event until the next painted "
        f"frame ({args.keys} keystrokes, alternating a search and clearing it, which redraws "
        "the first 60 cards). Status change: `stopPhDeployment` sent through the API until the "
        f"card's status text changes on the open page ({args.changes} changes; the "
        "subscription pushes it, nothing polls).", "",
        f"| measure | {args.peer} deployments | {args.deployments:,} deployments | ratio |",
        "|---|---|---|---|",
    ]
    for label, key in (("list shown after navigation", "shown"),
                       ("keystroke to paint, median", "typing"),
                       ("status change to card, median", "change")):
        a, b = statistics.median(small[key]), statistics.median(big[key])
        lines.append(f"| {label} | {ms(a)} | {ms(b)} | {b / a:.1f} |")
    lines.append(f"| keystroke to paint, p95 | {ms(p95(small['typing']))} | "
                 f"{ms(p95(big['typing']))} | {p95(big['typing']) / p95(small['typing']):.1f} |")
    lines.append(f"| status change to card, max | {ms(max(small['change']))} | "
                 f"{ms(max(big['change']))} | |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
