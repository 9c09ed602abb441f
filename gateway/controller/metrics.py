"""Prometheus metrics of one controller process, and its health and metrics HTTP app.

The registry belongs to one :class:`ControllerMetrics` (not the global default), so several
controllers in one test process (leader election) keep separate counts. Label values are a
fixed set: results, child kinds, stages; never deployment names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0)


class ControllerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "model_gateway_controller_reconciles", "Reconciles by result (ok, retry: a "
            "conflict with a newer version, error).",
            ["result"], registry=self.registry)
        self.reconcile_seconds = Histogram(
            "model_gateway_controller_reconcile_duration_seconds",
            "Time one reconcile took.", buckets=_BUCKETS, registry=self.registry)
        self.errors = Counter(
            "model_gateway_controller_errors", "Failures by stage (kubernetes, redis, resync, "
            "hash_upgrade, unexpected; redis_data_lost: Redis lost the published data plane).",
            ["stage"], registry=self.registry)
        self.writes = Counter(
            "model_gateway_controller_writes", "Writes to Kubernetes by kind (deployment, "
            "service, status, finalizer, scale).", ["kind"], registry=self.registry)
        self.redis_writes = Counter(
            "model_gateway_controller_redis_writes", "Data-plane writes (publish, withdraw, "
            "resync).", ["kind"], registry=self.registry)
        self.queue_depth = Gauge(
            "model_gateway_controller_queue_depth", "Deployments waiting to be reconciled.",
            registry=self.registry)
        self.leader = Gauge(
            "model_gateway_controller_leader", "1 while this process holds the lease.",
            registry=self.registry)

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """The current value of one sample (0 when absent): for tests and the benchmark."""
        found = self.registry.get_sample_value(name, labels or {})
        return 0.0 if found is None else found


def health_app(metrics: ControllerMetrics, *, ready: Callable[[], bool]) -> web.Application:
    """``/healthz`` (the process runs), ``/readyz`` (standby, or leading with synced caches)
    and ``/metrics`` (Prometheus text)."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        if ready():
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "starting"}, status=503)

    async def scrape(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(metrics.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", scrape)
    return app
