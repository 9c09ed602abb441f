"""primehub-python-sdk's command line (0.4.2) against dev mode: ``primehub info`` and every
``primehub deployments`` subcommand, each run as a user would type it.

The CLI is configured the way its README says a user overrides the config file:
``--endpoint``, ``--token`` and ``--group`` (with ``--config`` pointing at no file, so the
test never reads or writes ``~/.primehub``). Definitions for ``create`` and ``update`` are
piped in (``cat deployment.json | primehub deployments create``): the CLI reads standard
input before ``--file`` whenever it is not a terminal.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from devkit import DevMode

pytestmark = pytest.mark.timeout(240)

PRIMEHUB = Path(sys.executable).parent / "primehub"
SUBCOMMANDS = {"create", "delete", "get", "get-history", "list", "logs", "start", "stop",
               "update", "wait"}


class Cli:
    """``primehub`` pointed at one dev instance; records which subcommands ran."""

    def __init__(self, dev: DevMode, directory: Path) -> None:
        info = dev.info
        self.directory = directory
        self.options = ["--config", str(directory / "no-config.json"), "--endpoint",
                        info["api"], "--token", info["adminToken"], "--group", "demo"]
        self.ran: set[str] = set()

    async def run(self, *words: str, piped: dict[str, Any] | None = None) -> str:
        """The command's standard output (``piped``: JSON on its standard input); it must
        exit 0."""
        if "deployments" in words:
            self.ran.add(words[words.index("deployments") + 1])
        process = await asyncio.create_subprocess_exec(
            str(PRIMEHUB), *self.options, *words, cwd=self.directory,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        async with asyncio.timeout(90):
            out, err = await process.communicate(
                json.dumps(piped).encode() if piped is not None else b"")
        assert process.returncode == 0, f"primehub {' '.join(words)}: {err.decode()}"
        assert b"Traceback" not in err, err.decode()
        return out.decode()

    async def json(self, *words: str, piped: dict[str, Any] | None = None) -> Any:
        return json.loads(await self.run("--json", *words, piped=piped))


async def test_primehub_cli_info_and_every_deployments_subcommand(dev: DevMode,
                                                                 tmp_path: Path) -> None:
    """info, then create, list, get, wait, update, get-history, logs, stop, start, delete."""
    cli = Cli(dev, tmp_path)
    info = await cli.run("info")
    assert "Username: admin" in info
    assert "Name: demo" in info
    assert "cpu-1" in info.split("InstanceTypes:")[1]
    created = await cli.json("deployments", "create", piped={
        "id": "cli-demo", "name": "cli demo", "modelImage": "infuseai/sklearn-prepackaged:v0.1.0",
        "instanceType": "cpu-1", "replicas": 1, "endpointAccessType": "private",
        "description": ""})
    assert (created["id"], created["status"]) == ("cli-demo", "Deploying")
    assert [item["id"] for item in await cli.json("deployments", "list")] == ["cli-demo"]
    assert (await cli.json("deployments", "get", "cli-demo"))["description"] == ""
    waited = await cli.json("deployments", "wait", "cli-demo", "--timeout", "60")
    assert waited["status"] == "Deployed"
    updated = await cli.json("deployments", "update", "cli-demo", piped={
        "modelImage": "infuseai/sklearn-prepackaged:v0.2.0"})
    assert updated["modelImage"] == "infuseai/sklearn-prepackaged:v0.2.0"
    await cli.json("deployments", "wait", "cli-demo", "--timeout", "60")
    history = await cli.json("deployments", "get-history", "cli-demo")
    assert history[0]["deployment"]["modelImage"] == "infuseai/sklearn-prepackaged:v0.2.0"
    logs = await cli.run("deployments", "logs", "cli-demo", "--tail", "20")
    assert "demo model listening" in logs
    assert (await cli.json("deployments", "stop", "cli-demo"))["stop"] is True
    assert (await cli.json("deployments", "start", "cli-demo"))["stop"] is False
    deleted = await cli.json("deployments", "delete", "cli-demo", "--yes-i-really-mean-it")
    assert deleted["id"] == "cli-demo"
    assert "cli-demo" not in await cli.run("--json", "deployments", "list")
    assert cli.ran == SUBCOMMANDS
