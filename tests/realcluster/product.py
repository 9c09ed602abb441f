"""The product running against the real control plane: Redis, the controller, the API and the
proxy as separate processes, as the chart runs them.

The API and the controller each get a kubeconfig holding a TokenRequest token of *their own*
chart ServiceAccount and the cluster's CA, so every Kubernetes request they make is authorised
by the chart's RBAC and nothing else. The proxy gets no Kubernetes credentials at all, as in
the chart. Each process logs to ``<root>/<component>.log``; one that dies or never answers its
health check fails the start with the tail of its log.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gateway.dev.redisserver import RedisServer
from realcluster.chartinstall import Installed, token_for
from realcluster.controlplane import ControlPlane, free_port

AVAILABLE_DEADLINE: Final = 20.0  # seconds a deployment may take before it is Failed


@dataclass(frozen=True)
class Product:
    """Where the running product answers, and who may call it."""

    namespace: str
    api_url: str
    proxy_url: str
    admin_token: str
    redis_url: str
    users: frozenset[str]  # the Kubernetes user names the components authenticate as
    root: Path

    @property
    def graphql_url(self) -> str:
        return f"{self.api_url}/api/graphql"


class _Processes:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def spawn(self, name: str, environment: dict[str, str]) -> None:
        with (self.root / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(  # noqa: S603  this interpreter, fixed arguments
                [sys.executable, "-m", "gateway.cli", name], env=environment, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.running.append((name, process))

    def tail(self, name: str) -> str:
        text = (self.root / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-30:])

    def wait_healthy(self, name: str, url: str, *, timeout: float = 60) -> None:
        process = dict(self.running)[name]
        give_up = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n"
                                     f"{self.tail(name)}")
            with (contextlib.suppress(OSError, urllib.error.URLError),
                  urllib.request.urlopen(url, timeout=5) as answer):  # noqa: S310  loopback
                if answer.status == 200:
                    return
            if time.monotonic() > give_up:
                raise AssertionError(f"{name} not healthy at {url}:\n{self.tail(name)}")
            time.sleep(0.1)

    def stop(self) -> None:
        while self.running:
            _, process = self.running.pop()
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@contextlib.contextmanager
def running(plane: ControlPlane, installed: Installed, root: Path) -> Iterator[Product]:
    """Start Redis, the controller, the API and the proxy; stop them all on exit."""
    root.mkdir(parents=True, exist_ok=True)
    namespace = installed.namespace
    processes = _Processes(root)
    admin_token = secrets.token_urlsafe(32)
    api_port, proxy_port, health_port = free_port(), free_port(), free_port()
    proxy_metrics = free_port()
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    users = frozenset(f"system:serviceaccount:{namespace}:{account}"
                      for account in installed.service_accounts.values())
    with RedisServer(root / "redis") as redis:
        base = {key: value for key, value in os.environ.items()
                if not key.startswith("MODEL_GATEWAY_")}
        base.update({"MODEL_GATEWAY_NAMESPACE": namespace, "MODEL_GATEWAY_REDIS_URL": redis.url,
                     "MODEL_GATEWAY_PUBLIC_URL": proxy_url, "MODEL_GATEWAY_LOG_LEVEL": "INFO"})

        def kubeconfig(component: str) -> str:
            account = installed.service_accounts[component]
            token = token_for(plane, namespace, account)
            path = plane.admin.kubeconfig(root / f"{component}.kubeconfig",
                                          user=account, token=token)
            return str(path)

        try:
            processes.spawn("controller", {
                **base, "MODEL_GATEWAY_KUBECONFIG": kubeconfig("controller"),
                "MODEL_GATEWAY_CONTROLLER_HEALTH_PORT": str(health_port),
                "MODEL_GATEWAY_CONTROLLER_AVAILABLE_DEADLINE": str(AVAILABLE_DEADLINE),
                "MODEL_GATEWAY_CONTROLLER_RESYNC_PERIOD": "5"})
            processes.spawn("api", {
                **base, "MODEL_GATEWAY_KUBECONFIG": kubeconfig("api"),
                "MODEL_GATEWAY_API_PORT": str(api_port),
                "MODEL_GATEWAY_API_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
                "MODEL_GATEWAY_API_BOOTSTRAP_TOKEN": admin_token})
            processes.spawn("proxy", {
                **base, "MODEL_GATEWAY_PROXY_PORT": str(proxy_port),
                "MODEL_GATEWAY_PROXY_METRICS_PORT": str(proxy_metrics),
                "MODEL_GATEWAY_PROXY_WORKERS": "1"})
            processes.wait_healthy("controller", f"http://127.0.0.1:{health_port}/readyz")
            processes.wait_healthy("api", f"http://127.0.0.1:{api_port}/readyz")
            processes.wait_healthy("proxy", f"http://127.0.0.1:{proxy_metrics}/healthz")
            yield Product(namespace=namespace, api_url=f"http://127.0.0.1:{api_port}",
                          proxy_url=proxy_url, admin_token=admin_token, redis_url=redis.url,
                          users=users, root=root)
        finally:
            processes.stop()
