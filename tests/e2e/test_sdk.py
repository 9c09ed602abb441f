"""The real primehub-python-sdk (0.4.2, from PyPI) drives dev mode unchanged.

The SDK is synchronous (requests), so it runs in a child Python process, like a data
scientist's notebook would; the script prints one JSON line per step and the test checks
them. This is the contract test that matters most: the SDK's own GraphQL documents,
form-encoded posts, error parsing and log streaming, against our API.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import pytest
from devkit import DevMode

pytestmark = pytest.mark.timeout(240)

README = Path(__file__).resolve().parents[2] / "README.md"
SETUP = re.compile(r"<!-- sdk -->\s*```python\n(?P<body>.*?)```", re.DOTALL)

# Runs after the README's block, which defines ``ph`` (and prints the empty list first).
SCRIPT = r'''
from primehub.utils import ResourceNotFoundException

def report(step, value):
    print(json.dumps({"step": step, "value": value}), flush=True)

report("me", ph.me.me()["username"])
created = ph.deployments.create({
    "id": "sdk-demo", "name": "sdk demo", "modelImage": "infuseai/sklearn-prepackaged:v0.1.0",
    "instanceType": "cpu-1", "replicas": 1, "endpointAccessType": "private"})
report("create", created["status"])
report("wait", ph.deployments.wait("sdk-demo", timeout=30)["status"])
report("list", [d["id"] for d in ph.deployments.list()])
updated = ph.deployments.update("sdk-demo", {"modelImage": "infuseai/sklearn-prepackaged:v0.2.0"})
report("update", updated["status"])
ph.deployments.wait("sdk-demo", timeout=30)
report("history", [h["deployment"]["modelImage"] for h in ph.deployments.get_history("sdk-demo")])
report("logs", b"".join(ph.deployments.logs("sdk-demo", tail=20)).decode())
report("stop", ph.deployments.stop("sdk-demo")["stop"])
report("start", ph.deployments.start("sdk-demo")["stop"])
report("delete", ph.deployments.delete("sdk-demo")["id"])
try:
    ph.deployments.get("sdk-demo")
    report("missing", "found")
except ResourceNotFoundException as error:
    report("missing", str(error.args))
'''


async def test_primehub_sdk_lifecycle(dev: DevMode, tmp_path: Path) -> None:
    """create, wait, list, update, history, logs, stop, start, delete, not found: via the SDK."""
    found = SETUP.search(README.read_text())
    assert found is not None, "README has no <!-- sdk --> python block"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", found["body"] + SCRIPT, cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(180):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    printed, *reports = out.decode().splitlines()
    assert printed == "[]"  # the README block's own output: no deployments yet
    steps = {line["step"]: line["value"] for line in map(json.loads, reports)}
    assert steps["me"] == "admin"
    assert steps["create"] == "Deploying"
    assert steps["wait"] == "Deployed"
    assert steps["list"] == ["sdk-demo"]
    assert steps["update"] == "Deploying"
    assert steps["history"][:2] == ["infuseai/sklearn-prepackaged:v0.2.0",
                                    "infuseai/sklearn-prepackaged:v0.1.0"]
    assert "demo model listening" in steps["logs"]
    assert (steps["stop"], steps["start"]) == (True, False)
    assert steps["delete"] == "sdk-demo"
    assert steps["missing"] == str(("deployments", "sdk-demo", "id"))
