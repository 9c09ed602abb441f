"""Benchmark: the console's first load, its size on the wire, and the Deployments page with
1,000 deployments, in headless Chromium against ``model-gateway dev`` on loopback.

Starts ``model-gateway dev`` as a child process (free ports, a temporary state directory),
signs in with the admin token, and creates two groups: one with ``--deployments`` deployments
(default 1,000) and one with ``--peer`` (default 60, one page of cards); ``replicas: 0``, so no
model pods run; every other deployment is someone else's, so ``Deployed By Me`` halves the
list. Then it waits until the controller has made every deployment's children (it works
through a thousand new deployments for a while, and a page load measured meanwhile measures
that backlog, not the console). Then, in Debian's Chromium driven by Playwright:

1. **First load** (``--loads`` times): what issue 13 calls the first page load, navigation
   start until the Deployments page has painted its cards, with an empty cache (a new
   browser context each time) but a running browser (the context's page is open on
   ``about:blank`` first, so starting a renderer is not counted). The peer, in the same run
   and the same way, alternating with the console's loads: a navigation to ``/healthz`` (a
   few bytes of text from the same server) until its ``load`` event. The ratio of medians
   says what the console costs over the cheapest page the machine can load.
2. **Size**: the bytes the browser received for the page and everything it loaded (Resource
   Timing's ``encodedBodySize``: compressed when the server compressed; the page carries its
   first data), plus the gzip size of the built files as a cross-check.
3. **The list with 1,000 deployments** against the group of 60: cards painted after
   navigation; a ``Search by name`` keystroke until the next painted frame; a ``Deployed By
   Me`` toggle until the next painted frame (``--keys`` times each); long tasks (over 50 ms,
   Long Tasks API) during the load and during the interactions; and a status change made
   through the API until the card shows it (``--changes`` times; the browser and this process
   read the same clock).

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
GROUP_COOKIE = "mg_group"  # where the console remembers the selected group
# Records, from the first script on: when the list first shows its cards (or says it is
# empty) and when the frame holding them is painted (the next animation frame), each long
# task, and when each card's status text changes.
PROBE = """
window.__probe = { shown: null, painted: null, changes: {}, longTasks: [] };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    window.__probe.longTasks.push({start: entry.startTime, duration: entry.duration});
}).observe({type: 'longtask', buffered: true});
new MutationObserver(() => {
  if (window.__probe.shown === null && document.querySelector('.cards, .muted[role=status]')) {
    window.__probe.shown = performance.now();
    requestAnimationFrame(() => { window.__probe.painted = performance.now(); });
  }
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
# One click on `Deployed By Me`, until the frame after the re-render is painted.
TOGGLE = """async () => {
  const box = [...document.querySelectorAll('input[type=checkbox]')]
    .find((input) => input.closest('label').textContent.includes('Deployed By Me'));
  const start = performance.now();
  box.click();
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return performance.now() - start;
}"""
LONG_TASKS = """(since) => window.__probe.longTasks.filter((task) => task.start >= since)
  .map((task) => task.duration)"""


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
        owner = "admin" if index % 2 == 0 else "someone-else"
        body = {"apiVersion": template["apiVersion"], "kind": template["kind"],
                "metadata": {"name": f"{group}-{index:04d}",
                             "labels": template["metadata"].get("labels", {})},
                "spec": {**template["spec"], "displayName": f"{group} model {index}",
                         "userId": owner, "userName": owner}}
        kube(info, "POST", collection, body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(1, count)))
    listed = "query ($where: PhDeploymentWhereInput) { phDeployments(where: $where) { id } }"
    while len(gql(info, listed, {"where": {"groupId_in": [group]}})["phDeployments"]) < count:
        time.sleep(0.5)
    return time.monotonic() - started


def settle(info: dict[str, Any], *, timeout: float = 600) -> float:
    """Wait until the controller has made a Deployment and a Service for every deployment,
    then a little longer for their status; returns the seconds waited."""
    started = time.monotonic()
    namespace = info["namespace"]

    def count(path: str) -> int:
        found = kube(info, "GET", f"{path}?limit=1")
        return len(found["items"]) + int(found["metadata"].get("remainingItemCount") or 0)

    wanted = count(f"/apis/primehub.io/v1alpha1/namespaces/{namespace}/phdeployments")
    while min(count(f"/apis/apps/v1/namespaces/{namespace}/deployments"),
              count(f"/api/v1/namespaces/{namespace}/services")) < wanted:
        if time.monotonic() - started > timeout:
            raise RuntimeError("the controller did not catch up with the seeded deployments")
        time.sleep(1)
    time.sleep(3)
    return time.monotonic() - started


def signed_in_state(browser: Browser, base: str, info: dict[str, Any]) -> dict[str, Any]:
    """A browser state holding a console session (the admin token pasted into sign-in)."""
    context = browser.new_context(base_url=base)
    answer = context.request.post("/auth/session", data=json.dumps({"token": info["adminToken"]}),
                                  headers={"Content-Type": "application/json",
                                           "X-Model-Gateway-CSRF": "1"})
    if not answer.ok:
        raise RuntimeError(f"sign-in failed: {answer.status} {answer.text()}")
    state: dict[str, Any] = dict(context.storage_state())
    context.close()
    return state


def with_group(state: dict[str, Any], base: str, group: str) -> dict[str, Any]:
    """The signed-in state with ``group`` remembered as the selected one (the console's
    ``mg_group`` cookie)."""
    cookie = {"name": GROUP_COOKIE, "value": group, "url": base, "sameSite": "Strict"}
    return {**state, "cookies": [*state["cookies"], cookie]}


def fresh_page(browser: Browser, base: str, state: dict[str, Any] | None) -> Page:
    """A page in a new context (empty cache), its renderer started on about:blank."""
    # bypass_csp: Playwright's wait_for_function polls with eval, which the page's CSP forbids
    context = browser.new_context(base_url=base, storage_state=state,  # type: ignore[arg-type]
                                  viewport={"width": 1280, "height": 860}, bypass_csp=True)
    context.add_init_script(PROBE)
    page = context.new_page()
    page.goto("about:blank")
    return page


def first_load(browser: Browser, base: str, state: dict[str, Any]) -> dict[str, float]:
    """One cold load of the Deployments page: cards shown and painted, the load event, the
    server's answer for the page, bytes."""
    page = fresh_page(browser, base, state)
    page.goto("/", wait_until="load")
    page.wait_for_function("window.__probe.painted !== null", polling=10)
    timing = page.evaluate("""() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const resources = performance.getEntriesByType('resource')
        .filter((entry) => new URL(entry.name).pathname.startsWith('/assets/'));
      const total = (key) => nav[key] + resources.reduce((sum, entry) => sum + entry[key], 0);
      return {shown: window.__probe.shown, painted: window.__probe.painted,
              load: nav.loadEventEnd, server: nav.responseStart - nav.requestStart,
              requests: performance.getEntriesByType('resource')
                .filter((entry) => entry.startTime < window.__probe.shown
                        && !new URL(entry.name).pathname.startsWith('/assets/')).length,
              bytes: total('encodedBodySize'), decoded: total('decodedBodySize')};
    }""")
    page.context.close()
    return {key: float(value) for key, value in timing.items()}


def peer_load(browser: Browser, base: str) -> float:
    """A navigation to /healthz (a few bytes of text), made the same way: the cost of any
    page at all."""
    page = fresh_page(browser, base, None)
    page.goto("/healthz", wait_until="load")
    load = float(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
    page.context.close()
    return load


def list_page(browser: Browser, base: str, state: dict[str, Any], group: str, *, loads: int,
              keys: int, changes: int, info: dict[str, Any]) -> dict[str, list[float]]:
    """The list of one group: cards painted, keystroke and toggle to paint, long tasks while
    loading and while interacting, change-to-card latency."""
    shown = []
    for _ in range(loads):
        page = fresh_page(browser, base, with_group(state, base, group))
        page.goto("/", wait_until="load")
        page.wait_for_function("window.__probe.painted !== null", polling=10)
        shown.append(float(page.evaluate("window.__probe.painted")))
        page.context.close()
    page = fresh_page(browser, base, with_group(state, base, group))
    page.goto("/", wait_until="load")
    page.wait_for_function("window.__probe.painted !== null", polling=10)
    page.wait_for_timeout(2000)  # the list is read again once its subscription is live
    loading = [float(value) for value in page.evaluate(LONG_TASKS, 0)]
    since = float(page.evaluate("performance.now()"))
    texts = [f"model {index}" if index % 2 == 0 else "" for index in range(keys)]
    typing = [float(page.evaluate(KEYSTROKE, text)) for text in texts]
    toggling = [float(page.evaluate(TOGGLE)) for _ in range(keys)]
    interacting = [float(value) for value in page.evaluate(LONG_TASKS, since)]
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
    return {"shown": shown, "typing": typing, "toggling": toggling, "change": latencies,
            "loading_long": loading, "interacting_long": interacting}


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


def row(label: str, values: list[float]) -> str:
    return f"| {label} | {ms(statistics.median(values))} | {ms(p95(values))} |"


def long_tasks(values: list[float]) -> str:
    return f"{len(values)}, longest {ms(max(values))}" if values else "none"


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
        settled = settle(info)
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        state = with_group(signed_in_state(browser, base, info), base, "bench-small")
        first_load(browser, base, state)  # warm the server
        peer_load(browser, base)
        load_before = os.getloadavg()[0]
        loads, peers = [], []
        for _ in range(args.loads):  # alternating, so the machine's load weighs on both alike
            loads.append(first_load(browser, base, state))
            peers.append(peer_load(browser, base))
        plain = signed_in_state(browser, base, info)
        small = list_page(browser, base, plain, "bench-small", loads=5, keys=args.keys,
                          changes=min(args.changes, 10), info=info)
        big = list_page(browser, base, plain, "bench-big", loads=5, keys=args.keys,
                        changes=args.changes, info=info)
        version = browser.version
        browser.close()

    load_after = os.getloadavg()[0]
    painted = [one["painted"] for one in loads]
    lines = [
        "# Console benchmark: results", "",
        "Command: `python benchmarks/console/run.py --output benchmarks/console/RESULTS.md`", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, Chromium {version} (headless, Debian's), "
        f"{platform.system()} {platform.release()}; load average {load_before:.1f} before the "
        f"first loads and {load_after:.1f} at the end (the machine is shared). "
        "`model-gateway dev` and the browser run on the same machine and talk over loopback. "
        f"The controller had made every seeded deployment's children {settled:.0f} s after "
        "seeding; nothing was measured before.", "",
        "## First load", "",
        f"{args.loads} loads of `/` signed in, in a group of {args.peer} deployments, each in "
        "a new browser context (empty cache) whose page was open on `about:blank`, from "
        "navigation start until the frame holding the deployment cards was painted. The peer, "
        "loaded the same way and alternating with the console: `/healthz` until its `load` "
        "event.", "",
        "| what | median | p95 |", "|---|---|---|",
        row("**console: cards painted**", painted),
        row("console: cards in the page", [one["shown"] for one in loads]),
        row("console: `load` event", [one["load"] for one in loads]),
        row("console: server's answer for the page (request to first byte)",
            [one["server"] for one in loads]),
        row("peer: `/healthz` `load` event", peers),
        f"| ratio, cards painted / peer (medians) | "
        f"{statistics.median(painted) / statistics.median(peers):.2f} | |", "",
        f"Requests other than the page and its assets before the cards were in the page: "
        f"{max(one['requests'] for one in loads):.0f} (the page carries its first data).", "",
        "## Size", "",
        f"- On the wire (the page with its first data for {args.peer} deployments, and its "
        f"assets, as received): **{loads[0]['bytes'] / 1024:.1f} KB** "
        f"({loads[0]['decoded'] / 1024:.1f} KB uncompressed).",
        f"- Built files gzipped (level 6), as a cross-check: {built_gzip_size() / 1024:.1f} KB.",
        "",
        "## Deployments page with many deployments", "",
        f"{args.deployments} deployments (in the API's cache after {seeded:.1f} s; half of them "
        f"someone else's) against a group of {args.peer}. Cards painted: a cold load as above. "
        "Keystroke: a `Search by name` input event until the next painted frame (alternating a "
        "search and clearing it); toggle: a click on `Deployed By Me` until the next painted "
        f"frame ({args.keys} of each). Long tasks: over 50 ms on the page's main thread. Status "
        "change: `stopPhDeployment` sent through the API until the card's status text changes "
        f"on the open page ({args.changes} changes; the subscription pushes it).", "",
        f"| measure | {args.peer} deployments | {args.deployments:,} deployments | ratio |",
        "|---|---|---|---|",
    ]
    for label, key, pick in (("cards painted after navigation, median of 5", "shown",
                              statistics.median),
                             ("keystroke to paint, median", "typing", statistics.median),
                             ("keystroke to paint, p95", "typing", p95),
                             ("`Deployed By Me` to paint, median", "toggling", statistics.median),
                             ("`Deployed By Me` to paint, p95", "toggling", p95),
                             ("status change to card, median", "change", statistics.median)):
        a, b = pick(small[key]), pick(big[key])
        lines.append(f"| {label} | {ms(a)} | {ms(b)} | {b / a:.1f} |")
    lines.append(f"| status change to card, max | {ms(max(small['change']))} | "
                 f"{ms(max(big['change']))} | |")
    lines.append(f"| long tasks while loading | {long_tasks(small['loading_long'])} | "
                 f"{long_tasks(big['loading_long'])} | |")
    lines.append(f"| long tasks while typing and toggling | "
                 f"{long_tasks(small['interacting_long'])} | "
                 f"{long_tasks(big['interacting_long'])} | |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
