"""The ``model-gateway`` command: one subcommand per process the product runs.

Each subcommand builds its frozen settings from the environment (flags override), reports
every invalid setting at once, and runs until SIGINT or SIGTERM, then shuts down cleanly.
``--log-level`` and ``--log-format`` go before or after the subcommand, and override
``MODEL_GATEWAY_LOG_LEVEL`` and ``MODEL_GATEWAY_LOG_FORMAT`` (:mod:`proxy.logformats`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib.metadata
import os
import signal
import sys
import time
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.dev.ports import PortInUse, check_ports
from gateway.kube.connecting import NoKubernetesConfig
from gateway.localcluster import LocalCluster, LocalClusterSettings
from gateway.localcluster.images import ImageCatalog
from gateway.localcluster.images import parse as parse_image
from gateway.migration import options as migration_options
from gateway.settings import SettingsError
from proxy.logformats import LOG_FORMATS, LOG_LEVELS, LogSettings, configure
from proxy.settings import MAX_WORKERS, ProxySettings

DESCRIPTION = """Model deployment for Kubernetes: one subcommand per process the product runs.
Settings come from MODEL_GATEWAY_* environment variables; flags override them."""


def _logging_options() -> argparse.ArgumentParser:
    """The options every subcommand takes too, so they work before or after its name.

    No defaults here (``SUPPRESS``): a subcommand must not overwrite a value given before it,
    and unset options fall back to the environment in :func:`log_settings`.
    """
    options = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    options.add_argument("--log-level", choices=LOG_LEVELS,
                         help="lowest level logged (MODEL_GATEWAY_LOG_LEVEL; default INFO)")
    options.add_argument("--log-format", choices=LOG_FORMATS,
                         help="log lines as text or as one JSON object each "
                              "(MODEL_GATEWAY_LOG_FORMAT; default text)")
    return options


def parser() -> argparse.ArgumentParser:
    """The command line: global options, then one subcommand with its own."""
    common = _logging_options()
    command = argparse.ArgumentParser(prog="model-gateway", description=DESCRIPTION,
                                      parents=[common])
    command.add_argument("--version", action="version",
                         version=f"%(prog)s {importlib.metadata.version('model-gateway')}")
    commands = command.add_subparsers(dest="command", required=True)
    local = commands.add_parser(
        "localcluster", help="serve an in-memory Kubernetes API (for development and tests)",
        parents=[common])
    local.add_argument("--host", help="address to bind (default 127.0.0.1)")
    local.add_argument("--port", type=int, help="port to bind (default: any free port)")
    local.add_argument("--state-dir", type=Path,
                       help="persist objects here and reload them at start")
    local.add_argument("--image-catalog", type=Path,
                       help="a file of the images that pull (one a line); default: every image")
    local.add_argument("--gpus", type=int,
                       help="nvidia.com/gpu the node advertises; default: GPUs not simulated")
    dev = commands.add_parser(
        "dev", help="run the whole product on this machine (local cluster, Redis, API, "
                    "controller, proxy)", parents=[common])
    dev.add_argument("--state-dir", type=Path, default=Path(".model-gateway"),
                     help="keep everything here across restarts (default ./.model-gateway)")
    dev.add_argument("--api-port", type=int, default=8080, help="GraphQL API port (8080)")
    dev.add_argument("--proxy-port", type=int, default=8081, help="model proxy port (8081)")
    dev.add_argument("--kube-port", type=int, default=6443,
                     help="local Kubernetes API port (6443)")
    dev.add_argument("--redis-url", help="use this Redis instead of starting one")
    dev.add_argument("--image", action="append", default=[], metavar="IMAGE",
                     help="let this image pull too (repeatable; no tag: every tag); the "
                          "demo images and those in <state-dir>/images.txt always pull")
    dev.add_argument("--gpus", type=int, default=0,
                     help="GPUs the local node advertises (0: GPU instance types stay "
                          "unschedulable)")
    commands.add_parser("api", help="serve the GraphQL API (settings: MODEL_GATEWAY_* env)",
                        parents=[common])
    commands.add_parser("controller", help="run the controller (settings: MODEL_GATEWAY_* env)",
                        parents=[common])
    proxy = commands.add_parser(
        "proxy", help="run the auth proxy (settings: MODEL_GATEWAY_PROXY_* env)",
        parents=[common])
    proxy.add_argument("--workers", type=int,
                       help="worker processes sharing the port (SO_REUSEPORT); default "
                            "MODEL_GATEWAY_PROXY_WORKERS, else 1")
    migration_options.add_parser(commands, common)
    return command


def log_settings(args: argparse.Namespace, env: Mapping[str, str]) -> LogSettings:
    """The environment's log settings with the flags given on the command line on top."""
    flags = {name: getattr(args, option) for name, option in (("level", "log_level"),
                                                              ("format", "log_format"))
             if hasattr(args, option)}
    return dataclasses.replace(LogSettings.from_env(env), **flags)


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _until_signal(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` until it ends or SIGINT/SIGTERM arrives, then cancel it cleanly."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(_wait_for_signal())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, waiter):
        pending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    waiter.cancel()


async def _run_localcluster(settings: LocalClusterSettings) -> None:
    async with LocalCluster.running(settings) as cluster:
        print(f"local cluster serving at {cluster.url}", flush=True)
        print(f"  kubectl --server={cluster.url} get namespaces", flush=True)
        await _wait_for_signal()


def _command(args: argparse.Namespace, log: LogSettings, *,
             started: float) -> Coroutine[Any, Any, None] | None:
    """Build the settings for ``args.command`` (raising on invalid ones) and its work.

    Commands import their component lazily, so ``model-gateway proxy`` never loads the
    GraphQL schema and ``localcluster`` starts fast. ``None`` means the command ran itself.
    """
    if args.command == "localcluster":
        overrides: dict[str, Any] = {
            key: value for key, value in (("host", args.host), ("port", args.port),
                                          ("state_dir", args.state_dir), ("gpus", args.gpus))
            if value is not None}
        if args.image_catalog is not None:
            if not args.image_catalog.is_file():
                raise SettingsError([f"--image-catalog: {args.image_catalog} is not a file"])
            overrides["image_catalog"] = ImageCatalog(file=args.image_catalog)
        if args.gpus is not None and args.gpus < 0:
            raise SettingsError(["--gpus: must be 0 or more"])
        settings = dataclasses.replace(LocalClusterSettings.from_env(os.environ), **overrides)
        return _run_localcluster(settings)
    if args.command == "dev":
        problems = [f"--image: {image!r} is not an image reference"
                    for image in args.image if parse_image(image, default_tag=None) is None]
        if args.gpus < 0:
            problems.append("--gpus: must be 0 or more")
        if problems:  # before importing the whole product: a typo is answered at once
            raise SettingsError(problems)
        from gateway.dev.running import DevSettings
        from gateway.dev.running import serve as serve_dev

        dev = DevSettings(state_dir=args.state_dir, api_port=args.api_port,
                          proxy_port=args.proxy_port, kube_port=args.kube_port,
                          redis_url=args.redis_url, images=tuple(args.image), gpus=args.gpus)
        check_ports(dev.host, dev.ports())
        return _until_signal(serve_dev(dev, started=started))
    if args.command == "api":
        from gateway.api.server import serve as serve_api
        from gateway.api.settings import ApiSettings

        return _until_signal(serve_api(ApiSettings.from_env(os.environ)))
    if args.command == "migrate-from-primehub":
        from gateway.migration import command as migration

        return migration.run(args, keycloak=migration.keycloak(args, os.environ))
    if args.command == "controller":
        from gateway.controller.running import serve as serve_controller
        from gateway.controller.settings import ControllerSettings

        return _until_signal(serve_controller(ControllerSettings.from_env(os.environ)))
    from proxy.serving import run as run_proxy

    proxy_settings = ProxySettings.from_env(os.environ)
    if args.workers is not None:
        if not 1 <= args.workers <= MAX_WORKERS:
            raise SettingsError([f"--workers: must be between 1 and {MAX_WORKERS}"])
        proxy_settings = dataclasses.replace(proxy_settings, workers=args.workers)
    run_proxy(proxy_settings, log=log)  # its own loop, signals, workers
    return None


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()
    args = parser().parse_args(argv)
    try:
        log = log_settings(args, os.environ)
        configure(log)
        work = _command(args, log, started=started)
    except (SettingsError, PortInUse) as error:
        print(f"model-gateway: {error}", file=sys.stderr)
        return 2
    try:
        if work is not None:
            asyncio.run(work)
    except (OSError, NoKubernetesConfig) as error:  # a port in use, no cluster to talk to
        print(f"model-gateway: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
