"""The local cluster as one object: settings, start, stop, and the Python-side hooks.

:class:`LocalCluster` wires the store, the registry, the simulated controllers and the HTTP
server together. Tests start one in-process (``async with LocalCluster.running(settings)``);
``model-gateway localcluster`` runs one standalone. The only Python-side APIs besides the
URL are what a real cluster gets from outside the API server: container output
(:meth:`LocalCluster.append_log`) and, for dev mode, a container runtime that really runs pods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.localcluster.addresses import pod_pool, service_pool
from gateway.localcluster.collecting import Collector
from gateway.localcluster.crds import CustomResourceDefinitions
from gateway.localcluster.images import ImageCatalog
from gateway.localcluster.kinds import KindRegistry
from gateway.localcluster.logs import PodLogs
from gateway.localcluster.metadata import new_uid, now
from gateway.localcluster.persistence import StateFile
from gateway.localcluster.resources import Resources
from gateway.localcluster.server import ServerState, build_app
from gateway.localcluster.servicing import ServiceProxy
from gateway.localcluster.store import Store
from gateway.localcluster.strategies import Strategies
from gateway.localcluster.watching import CLOSED
from gateway.localcluster.workloads import ContainerRuntime, Workloads
from gateway.settings import SettingsReader

log = logging.getLogger(__name__)

INITIAL_NAMESPACES = ("default", "kube-system", "kube-public")


@dataclass(frozen=True)
class LocalClusterSettings:
    """How to run a local cluster; every field has a default fit for tests and dev mode."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    state_dir: Path | None = None  # persist here and reload at start
    pod_start_delay: float = 0.2  # seconds from pod creation to Running and Ready
    event_history: int = 10_000  # watch events kept; older resource versions get 410 Gone
    bookmark_interval: float = 5.0  # seconds between BOOKMARK events, when asked for
    serve_services: bool = False  # listen on Service cluster IPs and forward to ready pods
    image_catalog: ImageCatalog | None = None  # None: every image pulls
    gpus: int | None = None  # nvidia.com/gpu the node advertises; None: GPUs not simulated
    pull_back_off: float = 10.0  # seconds between retries of a failed image pull
    # seconds a running pod the deployment controller removes keeps serving its open
    # connections (not ready, so no new ones) before its containers stop; keep it above the
    # proxy's upstream idle timeout (1.5 s), so no pooled connection outlives the pod
    pod_termination_grace: float = 2.0

    @classmethod
    def from_env(cls, source: Mapping[str, str]) -> LocalClusterSettings:
        """Read ``MODEL_GATEWAY_KUBE_*`` settings; every invalid one is reported at once."""
        read = SettingsReader(source, prefix="MODEL_GATEWAY_KUBE_")
        defaults = cls()
        settings = cls(
            host=read.text("HOST", defaults.host),
            port=read.integer("PORT", defaults.port, minimum=0, maximum=65535),
            state_dir=read.directory("STATE_DIR"),
            pod_start_delay=read.seconds("POD_START_DELAY", defaults.pod_start_delay,
                                         minimum=0, maximum=600),
            event_history=read.integer("EVENT_HISTORY", defaults.event_history,
                                       minimum=10, maximum=10_000_000),
            bookmark_interval=read.seconds("BOOKMARK_INTERVAL", defaults.bookmark_interval,
                                           minimum=0.01, maximum=3600),
            serve_services=read.boolean("SERVE_SERVICES", defaults.serve_services),
            image_catalog=_catalog(read),
            gpus=(read.integer("GPUS", 0, minimum=0, maximum=10_000)
                  if read.optional_text("GPUS") is not None else None),
            pull_back_off=read.seconds("PULL_BACK_OFF", defaults.pull_back_off, minimum=0.01,
                                       maximum=3600),
            pod_termination_grace=read.seconds("POD_TERMINATION_GRACE",
                                               defaults.pod_termination_grace, minimum=0,
                                               maximum=3600),
        )
        read.finish()
        return settings


def _catalog(read: SettingsReader) -> ImageCatalog | None:
    """``IMAGE_CATALOG``: a file of the images that pull (read again at every pull)."""
    raw = read.optional_text("IMAGE_CATALOG")
    if raw is None:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        read.problem("IMAGE_CATALOG", f"{raw!r} is not a file")
        return None
    return ImageCatalog(file=path)


class LocalCluster:
    """An in-memory Kubernetes API server with simulated workloads, served over HTTP."""

    def __init__(self, settings: LocalClusterSettings, *,
                 runtime: ContainerRuntime | None = None) -> None:
        self.settings = settings
        self._runtime = runtime
        self.store = Store(history=settings.event_history)
        self._services = service_pool()
        self._pods = pod_pool()
        self.logs = PodLogs()
        self.resources = Resources(self.store, KindRegistry(), Strategies(self._services))
        self._state_file = (StateFile(settings.state_dir, self.store)
                            if settings.state_dir is not None else None)
        self._open_watches: set[asyncio.Queue[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._parts: list[Collector | CustomResourceDefinitions | Workloads | ServiceProxy] = []
        self.url = ""

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, settings: LocalClusterSettings, *,
                      runtime: ContainerRuntime | None = None) -> AsyncIterator[LocalCluster]:
        cluster = cls(settings, runtime=runtime)
        await cluster.start()
        try:
            yield cluster
        finally:
            await cluster.stop()

    async def start(self) -> None:
        """Load saved state (or seed namespaces), start the controllers, then serve."""
        if self._state_file is None or not self._state_file.load():
            self._seed()
        self._reserve_addresses()
        crds = CustomResourceDefinitions(self.resources)
        collector = Collector(self.resources)
        workloads = Workloads(self.resources, self.logs, self._pods,
                              pod_start_delay=self.settings.pod_start_delay,
                              runtime=self._runtime, images=self.settings.image_catalog,
                              gpus=self.settings.gpus,
                              pull_back_off=self.settings.pull_back_off,
                              termination_grace=self.settings.pod_termination_grace)
        self._parts = [crds, collector, workloads]
        if self.settings.serve_services:
            self._parts.append(ServiceProxy(self.store))
        for part in self._parts:
            part.start()
        await workloads.resume()
        if self._state_file is not None:
            self._state_file.watch()
        app = build_app(ServerState(self.resources, self.logs, self.settings.bookmark_interval,
                                    self._open_watches))
        # handler_cancellation: a follower or watcher that disconnects ends its handler at
        # once, instead of when the next line fails to write.
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0,
                                     access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{self.settings.host}:{port}"
        log.info("local cluster serving at %s", self.url)

    async def stop(self) -> None:
        """Stop serving and save the state; stopping again does nothing."""
        for queue in list(self._open_watches):
            queue.put_nowait(CLOSED)
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        parts, self._parts = self._parts, []
        for part in parts:
            await part.stop()
        state_file, self._state_file = self._state_file, None
        if state_file is not None:
            state_file.close()

    def append_log(self, namespace: str, pod: str, line: str, *,
                   container: str | None = None) -> None:
        """Append a line to a container's log, as if the container had printed it."""
        if container is None:
            found = self.store.get("/pods", namespace, pod)
            containers = (found or {}).get("spec", {}).get("containers") or [{}]
            container = containers[0].get("name", "")
        self.logs.append(namespace, pod, container, line)

    def _seed(self) -> None:
        for name in INITIAL_NAMESPACES:
            self.store.put("/namespaces", {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "uid": new_uid(), "creationTimestamp": now(),
                             "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
            }, external=False)

    def _reserve_addresses(self) -> None:
        for service in self.store.items("/services"):
            self._services.reserve(service.get("spec", {}).get("clusterIPs") or [])
        for pod in self.store.items("/pods"):
            self._pods.reserve(ip["ip"] for ip in (pod.get("status") or {}).get("podIPs") or [])
