"""``model-gateway dev`` as a child process, for the end-to-end tests.

:class:`DevMode` starts it in a working directory on free ports, waits for the ready banner,
keeps every line it prints (so a test can wait for a log line) and stops it with Ctrl-C, as a
person would. :func:`graphql` sends one request as the admin, :func:`redis_server_pid` finds
the redis-server dev mode runs (to kill it, as the OOM killer would).
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
from redis_server import free_port

READY = re.compile(r"model-gateway dev is ready in (?P<seconds>[\d.]+)s")


class DevMode:
    """``model-gateway dev`` as a child process in a working directory."""

    def __init__(self, directory: Path, *options: str) -> None:
        self.directory = directory
        self.options = options
        self.ports = [str(free_port()) for _ in range(3)]
        self.process: asyncio.subprocess.Process | None = None
        self.ready_seconds = 0.0
        self.lines: list[str] = []
        self._printed = asyncio.Event()
        self._drainer: asyncio.Task[None] | None = None

    @property
    def info(self) -> dict[str, Any]:
        """What dev mode wrote to ``.model-gateway/dev.json``."""
        info: dict[str, Any] = json.loads(
            (self.directory / ".model-gateway" / "dev.json").read_text())
        return info

    async def start(self) -> None:
        api, proxy, kube = self.ports
        mark = len(self.lines)  # a restart waits for its own banner
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli", "--log-level", "WARNING", "dev",
            "--api-port", api, "--proxy-port", proxy, "--kube-port", kube, *self.options,
            cwd=self.directory, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        self._drainer = asyncio.create_task(self._drain())
        async with asyncio.timeout(60):
            found = await self.wait_for(READY, start=mark)
        self.ready_seconds = float(found["seconds"])

    async def _drain(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            self.lines.append(line.decode())
            self._printed.set()
        self._printed.set()

    async def wait_for(self, pattern: re.Pattern[str], *, start: int = 0) -> re.Match[str]:
        """The first printed line from index ``start`` on that matches (wrap in a timeout)."""
        seen = start
        while True:
            for line in self.lines[seen:]:
                if found := pattern.search(line):
                    return found
            seen = len(self.lines)
            assert self._drainer is not None
            assert not self._drainer.done(), "dev mode exited:\n" + "".join(self.lines)
            self._printed.clear()
            await self._printed.wait()

    async def stop(self) -> int:
        """Ctrl-C, as a person stops it; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            code = await self.process.wait()
            if self._drainer is not None:
                await self._drainer
        self.process = None
        return code


async def graphql(dev: DevMode, query: str, **variables: Any) -> dict[str, Any]:
    """One GraphQL request as dev mode's admin; the ``data``, asserting there are no errors."""
    info = dev.info
    async with aiohttp.ClientSession() as http, http.post(
            info["api"], json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {info['adminToken']}"}) as response:
        document: dict[str, Any] = await response.json()
    assert "errors" not in document, document
    data: dict[str, Any] = document["data"]
    return data


def redis_server_pid(dev: DevMode) -> int:
    """The pid of the redis-server dev mode runs: its child process running that binary."""
    assert dev.process is not None
    children = {int(pid) for task in Path(f"/proc/{dev.process.pid}/task").iterdir()
                for pid in (task / "children").read_text().split()}
    for pid in children:
        try:
            if Path(f"/proc/{pid}/exe").resolve().name == "redis-server":
                return pid
        except OSError:
            continue
    raise AssertionError(f"dev mode (pid {dev.process.pid}) runs no redis-server")
