"""The README quickstart, run exactly as documented against ``model-gateway dev``.

The steps are read from README.md (each ``<!-- step: name -->`` followed by a ``sh`` block)
and typed into one long-lived bash, the way a person pastes them into a terminal, so the
README cannot drift from what works. Between steps, dev mode is restarted to prove that
deployments and client tokens survive it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from devkit import DevMode

README = Path(__file__).resolve().parents[2] / "README.md"
STEP = re.compile(r"<!-- step: (?P<name>[\w-]+) -->\s*```sh\n(?P<body>.*?)```", re.DOTALL)
DONE = "__quickstart_step_done__"
STEP_TIMEOUT = 60  # seconds one README block may take

pytestmark = pytest.mark.timeout(240)


def quickstart_steps() -> dict[str, str]:
    steps = {match["name"]: match["body"] for match in STEP.finditer(README.read_text())}
    assert list(steps)[:2] == ["setup", "create"], "README quickstart steps not found"
    return steps


def test_quickstart_waits_end() -> None:
    """Every wait in the quickstart stops on Failed and gives up after a timeout: no bare
    until/while loops, and the one helper has both exits."""
    steps = quickstart_steps()
    for name, body in steps.items():
        assert not re.search(r"^\s*(until|while)\b", body, re.MULTILINE), name
    helper = steps["setup"]
    assert "wait_for()" in helper
    assert '"Failed"' in helper
    assert "gave up" in helper


class Shell:
    """One interactive bash; :meth:`run` types a block and returns what it printed."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def run(self, block: str) -> str:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{block}\necho {DONE} $?\n".encode())
        await self.process.stdin.drain()
        output = []
        async with asyncio.timeout(STEP_TIMEOUT):
            while True:
                line = (await self.process.stdout.readline()).decode()
                assert line, "bash exited"
                printed, marker, status = line.partition(DONE)
                output.append(printed)
                if marker:  # output without a final newline shares the marker's line
                    assert status.split() == ["0"], f"exit {status}:\n{''.join(output)}"
                    return "".join(output)


@pytest.fixture
async def shell(tmp_path: Path) -> AsyncIterator[Shell]:
    """A bash in the same directory, as the second terminal of the quickstart."""
    process = await asyncio.create_subprocess_exec(
        "bash", "--noprofile", "--norc", cwd=tmp_path, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    yield Shell(process)
    process.kill()
    await process.wait()


def graphql(output: str) -> dict[str, object]:
    """The last JSON document a step printed, with no GraphQL errors in it."""
    document: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    assert "errors" not in document, document
    return document


async def open_console(url: str) -> str:
    """Open dev mode's one-time link as a browser does; who it signed in. A second use of
    the link is refused."""
    async with aiohttp.ClientSession() as browser:
        async with browser.get(url, allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/"
            session = response.cookies["mg_session"]
            assert session["httponly"]
            assert session["samesite"] == "Strict"
        base = url.split("/auth/")[0]
        async with browser.get(f"{base}/auth/session",
                               headers={"Cookie": f"mg_session={session.value}"}) as response:
            signed_in: str = (await response.json())["username"]
        async with browser.get(url, allow_redirects=False) as response:
            assert response.status == 400
    return signed_in


async def test_readme_quickstart(dev: DevMode, shell: Shell, tmp_path: Path) -> None:
    """Every quickstart step does what the README says, and dev mode restarts keep state."""
    steps = quickstart_steps()
    assert dev.ready_seconds < 10
    info = json.loads((tmp_path / ".model-gateway" / "dev.json").read_text())
    assert set(info) == {"api", "proxy", "proxyMetrics", "kube", "redis", "adminToken",
                         "namespace", "consoleUrl"}
    assert (tmp_path / ".model-gateway" / "dev.json").stat().st_mode & 0o777 == 0o600
    metrics = await shell.run(f"curl -sf {info['proxyMetrics']} | grep -c '^# HELP'")
    assert int(metrics.strip()) > 0
    assert await open_console(info["consoleUrl"]) == "admin"

    await shell.run(steps["setup"])
    created = graphql(await shell.run(steps["create"]))
    assert created == {"data": {"createPhDeployment": {
        "id": "iris-demo", "status": "Deploying",
        "endpoint": f"{info['proxy']}/deployment/iris-demo/api/v1.0/predictions"}}}
    waited = graphql(await shell.run(steps["wait"]))
    assert waited["data"] == {"phDeployment": {
        "status": "Deployed", "message": "Deployment is deployed and available now",
        "availableReplicas": 1,
        "endpoint": f"{info['proxy']}/deployment/iris-demo/api/v1.0/predictions"}}
    await shell.run(steps["client"])
    assert (await shell.run('echo "${CLIENT_TOKEN:0:4}"')).strip() == "mgc_"

    predicted = json.loads(await shell.run(steps["predict"]))
    assert predicted["data"]["ndarray"] == [[5.1, 3.5, 1.4, 0.2]]
    assert predicted["meta"]["tags"] == {"shape": [1, 4], "x-forwarded-user": "my-app"}
    assert (await shell.run(steps["wrong-token"])).strip() == "401"
    logs = await shell.run(steps["logs"])
    assert "POST /api/v1.0/predictions 200 user=my-app shape=[1, 4]" in logs

    assert await dev.stop() == 0
    await dev.start()
    restarted = json.loads((tmp_path / ".model-gateway" / "dev.json").read_text())
    assert restarted["consoleUrl"] != info["consoleUrl"]  # a fresh one-time link each start
    assert await open_console(restarted["consoleUrl"]) == "admin"
    again = json.loads(await shell.run(steps["predict"]))
    assert again["meta"]["tags"]["x-forwarded-user"] == "my-app"

    await shell.run(steps["stop"])
    pods = graphql(await shell.run(
        'gql \'{"query": "{ phDeployment(where: {id: \\"iris-demo\\"}) { pods { name } } }"}\''))
    assert pods["data"] == {"phDeployment": {"pods": []}}
    await shell.run(steps["start"])
    history = graphql(await shell.run(steps["update"]))
    entries = history["data"]["phDeployment"]["history"]  # type: ignore[index]
    assert entries[0]["deployment"] == {"modelImage": "infuseai/sklearn-prepackaged:v0.2.0",
                                        "updateMessage": "new model"}
    assert len(entries) >= 2

    failing = [json.loads(line) for line in (await shell.run(steps["fails"])).splitlines()
               if line.strip()]
    assert failing[0]["data"]["createPhDeployment"]["id"] == "iris-typo"
    failed = failing[1]["data"]["phDeployment"]
    assert failed["status"] == "Failed"
    assert failed["message"].startswith("Failed because of wrong image settings. Pod deploy-")
    assert "ErrImagePull" in failed["message"] or "ImagePullBackOff" in failed["message"]
    assert "infuseai/sklearn-prepackged:v0.1.0" in failed["message"]
    assert failing[2] == {"data": {"deletePhDeployment": {"id": "iris-typo"}}}

    deleted = graphql(await shell.run(steps["delete"]))
    assert deleted["data"] == {"deletePhDeployment": {"id": "iris-demo"}}
    gone = await shell.run(
        "sleep 1; curl -s -o /dev/null -w '%{http_code}\\n' "
        "$PROXY/deployment/iris-demo/api/v1.0/predictions -d '{}'")
    assert gone.strip() == "404"
