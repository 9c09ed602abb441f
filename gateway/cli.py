"""The ``model-gateway`` command: one subcommand per process the product runs.

Each subcommand builds its frozen settings from the environment (flags override), reports
every invalid setting at once, and runs until SIGINT or SIGTERM, then shuts down cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from gateway.localcluster import LocalCluster, LocalClusterSettings
from gateway.settings import SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="model-gateway", description=__doc__)
    parser.add_argument("--log-level", default=os.environ.get("MODEL_GATEWAY_LOG_LEVEL", "INFO"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser(
        "localcluster", help="serve an in-memory Kubernetes API (for development and tests)")
    local.add_argument("--host", help="address to bind (default 127.0.0.1)")
    local.add_argument("--port", type=int, help="port to bind (default: any free port)")
    local.add_argument("--state-dir", type=Path,
                       help="persist objects here and reload them at start")
    return parser


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _run_localcluster(settings: LocalClusterSettings) -> None:
    async with LocalCluster.running(settings) as cluster:
        print(f"local cluster serving at {cluster.url}", flush=True)
        print(f"  kubectl --server={cluster.url} get namespaces", flush=True)
        await _wait_for_signal()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "localcluster":
            settings = LocalClusterSettings.from_env(os.environ)
            overrides = {key: value for key, value in (("host", args.host), ("port", args.port),
                                                       ("state_dir", args.state_dir))
                         if value is not None}
            asyncio.run(_run_localcluster(dataclasses.replace(settings, **overrides)))
    except SettingsError as error:
        print(f"model-gateway: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"model-gateway: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
