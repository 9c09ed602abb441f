"""Running the proxy: :func:`start` for embedding and tests, :func:`serve` and :func:`run`.

``run(settings, log=...)`` is the process entry point (``model-gateway proxy``,
``python -m proxy``): the product's log settings (:mod:`proxy.logformats`), uvloop when it
is installed, and ``workers`` processes. With more than one worker, each process binds the
same port with ``SO_REUSEPORT`` and the kernel spreads connections across them; worker ``i``
serves metrics on ``metrics_port + i``, since each process has its own counters, labelled
``worker="i"`` (:mod:`proxy.metrics`). Every worker follows Redis' change events itself, so a
client's eviction reaches all of them. The parent forwards SIGTERM and SIGINT to the workers.

Plain HTTP/1.1 requests are answered by the fast path (:mod:`proxy.fronting`), which hands
anything else to aiohttp on the same connection; ``fast_path=False`` serves everything with
aiohttp (``MODEL_GATEWAY_PROXY_FAST_PATH``, a fallback that answers alike).

Graceful shutdown on SIGTERM/SIGINT: stop accepting, close idle keep-alive connections, let
in-flight requests finish for up to ``shutdown_timeout`` seconds (fast-path ones first, then
aiohttp's), close WebSockets with 1001, then close the resources in reverse order (a final
usage flush and access-log write included).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from proxy import slowclients
from proxy.accesslog import access_log, flush_access_log
from proxy.app import HANDLER, METRICS, ROUTES, build_app
from proxy.fronting import Front
from proxy.logformats import LogSettings, configure
from proxy.metrics import metrics_app
from proxy.settings import ProxySettings

log = logging.getLogger(__name__)


def _bound_port(runner: web.AppRunner) -> int:
    return int(runner.addresses[0][1])


@dataclass
class RunningProxy:
    """A started proxy: its application, ports, and a graceful :meth:`stop`."""

    app: web.Application
    runner: web.AppRunner
    metrics_runner: web.AppRunner
    front: Front | None = None
    server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self.server is not None:
            return int(self.server.sockets[0].getsockname()[1])
        return _bound_port(self.runner)

    @property
    def metrics_port(self) -> int:
        return _bound_port(self.metrics_runner)

    @property
    def metrics_url(self) -> str:
        """Where Prometheus scrapes this process."""
        host = self.metrics_runner.addresses[0][0]
        return f"http://{host}:{self.metrics_port}/metrics"

    async def stop(self) -> None:
        """Stop listening; fast-path requests finish first, then aiohttp's, then resources."""
        if self.server is not None:
            self.server.close()
        if self.front is not None:
            await self.front.shutdown()
        await self.runner.cleanup()
        await self.metrics_runner.cleanup()
        flush_access_log()


async def start(settings: ProxySettings, *, worker: int = 0) -> RunningProxy:
    """Open the resources, bind both ports (0 picks a free one) and start serving."""
    app = build_app(settings)
    runner = slowclients.runner(app, timeouts=settings.client_timeouts, access_log=None,
                                handle_signals=False, shutdown_timeout=settings.shutdown_timeout)
    await runner.setup()
    front: Front | None = None
    server: asyncio.Server | None = None
    if settings.fast_path:
        assert runner.server is not None  # set up above
        front = Front(handler=app[HANDLER], slow=runner.server,
                      shutdown_timeout=settings.shutdown_timeout,
                      timeouts=settings.client_timeouts)
        server = await asyncio.get_running_loop().create_server(
            front, settings.host, settings.port, backlog=1024,
            reuse_port=settings.workers > 1)
    else:
        await web.TCPSite(runner, settings.host, settings.port, backlog=1024,
                          reuse_port=settings.workers > 1).start()
    metrics_runner = web.AppRunner(
        metrics_app(app[METRICS], ready=lambda: app[ROUTES].loaded, worker=worker),
        access_log=None)
    await metrics_runner.setup()
    metrics_port = settings.metrics_port + worker if settings.metrics_port else 0
    await web.TCPSite(metrics_runner, settings.metrics_host, metrics_port).start()
    return RunningProxy(app, runner, metrics_runner, front, server)


async def serve(settings: ProxySettings, *, worker: int = 0) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    running = await start(settings, worker=worker)
    log.info("proxy listening", extra={"fields": {
        "port": running.port, "metrics": running.metrics_url, "worker": worker}})
    try:
        await stopping.wait()
        log.info("proxy shutting down", extra={"fields": {"worker": worker}})
    finally:
        await running.stop()


def _loop_runner() -> Callable[[Coroutine[Any, Any, None]], None]:
    try:
        import uvloop  # optional: the faster event loop, when installed
    except ImportError:
        return asyncio.run
    return uvloop.run


def _configure_logging(settings: ProxySettings, log_settings: LogSettings) -> None:
    configure(log_settings)
    access_log.disabled = not settings.access_log


def _run_worker(settings: ProxySettings, log_settings: LogSettings, worker: int) -> None:
    _configure_logging(settings, log_settings)
    _loop_runner()(serve(settings, worker=worker))


def run(settings: ProxySettings, *, log: LogSettings) -> None:
    """Run the proxy in this process (one worker) or in ``settings.workers`` processes."""
    if settings.workers == 1:
        _run_worker(settings, log, 0)
        return
    _configure_logging(settings, log)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_run_worker, args=(settings, log, index),
                               name=f"proxy-worker-{index}")
               for index in range(settings.workers)]
    for process in workers:
        process.start()

    def forward(_signum: int, _frame: object) -> None:
        for process in workers:
            if process.is_alive():
                process.terminate()  # SIGTERM: each worker shuts down gracefully

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, lambda *_: None)  # the workers get SIGINT from the terminal
    for process in workers:
        process.join()
    if any(process.exitcode for process in workers):
        sys.exit(1)
