"""The controller process: connections, health and metrics, leader election, the loop.

:func:`serve` is what ``model-gateway controller`` runs. Every replica serves ``/healthz``,
``/readyz`` and ``/metrics`` and campaigns for the Lease; only the leader runs a
:class:`~gateway.controller.reconciling.Controller`, built fresh each time it (re)gains the
lease, so a replica that lost it keeps no stale cache. Each long-lived resource (Kubernetes
client, Redis pool, HTTP site) has one lifetime block here.
"""

from __future__ import annotations

import logging

from aiohttp import web
from redis.asyncio import Redis

from gateway.controller.leading import LeaderElector
from gateway.controller.metrics import ControllerMetrics, health_app
from gateway.controller.reconciling import Controller
from gateway.controller.settings import ControllerSettings
from gateway.kube.client import Kube
from gateway.kube.connecting import connected

log = logging.getLogger(__name__)


class ControllerProcess:
    """One controller replica: campaigns for the lease and reconciles while it holds it."""

    def __init__(self, *, kube: Kube, redis: Redis, settings: ControllerSettings) -> None:
        self._kube = kube
        self._redis = redis
        self.settings = settings
        self.metrics = ControllerMetrics()
        self.elector = LeaderElector(
            kube, namespace=settings.namespace, name=settings.lease_name,
            identity=settings.identity, lease_duration=settings.lease_duration,
            renew_deadline=settings.renew_deadline, retry_period=settings.retry_period,
            on_change=self.metrics.leader.set)
        self.controller: Controller | None = None
        self.health_url = ""

    def ready(self) -> bool:
        """Ready when standing by, or when leading with every cache synced."""
        if not self.elector.leading:
            return True
        return self.controller is not None and self.controller.synced

    async def run(self) -> None:
        """Serve health and metrics and take part in the election until cancelled."""
        runner = web.AppRunner(health_app(self.metrics, ready=self.ready),
                               handle_signals=False, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.settings.health_host, self.settings.health_port)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.health_url = f"http://{self.settings.health_host}:{port}"
            log.info("controller %s: health and metrics at %s", self.settings.identity,
                     self.health_url)
            await self.elector.run(self._lead)
        finally:
            await runner.cleanup()

    async def _lead(self) -> None:
        self.controller = Controller(kube=self._kube, redis=self._redis,
                                     settings=self.settings, metrics=self.metrics)
        try:
            await self.controller.run()
        finally:
            self.controller = None


async def serve(settings: ControllerSettings) -> None:
    """Run one controller replica until cancelled."""
    async with connected(url=settings.kubernetes_url, kubeconfig=settings.kubeconfig) as api:
        redis = Redis.from_url(settings.redis_url, password=settings.redis_password)
        try:
            await ControllerProcess(kube=Kube(api), redis=redis, settings=settings).run()
        finally:
            await redis.aclose()
