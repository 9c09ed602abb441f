"""`model-gateway localcluster --port N` serves the API standalone and prints its URL.

The command runs through ``gateway.cli.main`` (what the console script calls) in a child
Python, so the test works whether or not the package is installed in the virtualenv.
"""

from __future__ import annotations

import asyncio
import re
import socket
import sys
from pathlib import Path

from kubekit import client_for, config_map
from kubernetes_asyncio.client import CoreV1Api, VersionApi

from gateway.localcluster import LocalCluster, LocalClusterSettings

REPO = Path(__file__).resolve().parents[3]
URL = re.compile(rb"http://127\.0\.0\.1:(\d+)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_localcluster_command_serves_the_api() -> None:
    """The command prints http://127.0.0.1:<port> and answers API requests there."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from gateway.cli import main; main()",
        "localcluster", "--port", str(port),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(15):
            printed = b""
            while (found := URL.search(printed)) is None:
                line = await process.stdout.readline()
                assert line, f"exited without printing its URL: {printed.decode()}"
                printed += line
        assert int(found.group(1)) == port

        async with client_for(found.group(0).decode()) as api:
            assert (await VersionApi(api).get_code()).major == "1"
            core = CoreV1Api(api)
            await core.create_namespaced_config_map("default", config_map("standalone"))
            read = await core.read_namespaced_config_map("standalone", "default")
            assert read.metadata.name == "standalone"
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def test_stopping_twice_is_harmless() -> None:
    """stop() is idempotent, so clean-up code may call it whatever happened before."""
    cluster = LocalCluster(LocalClusterSettings())
    await cluster.start()
    await cluster.stop()
    await cluster.stop()
