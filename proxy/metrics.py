"""Prometheus metrics of one proxy process, served on their own port with health and readiness.

The registry is per :class:`ProxyMetrics` (not the global default) so several proxies in one
test process do not collide. Label values are bounded: deployments and clients only once
known (a route exists, a token verified), methods folded into a fixed set, so a caller
cannot grow the series without limit.

With several worker processes each serves its own counters on its own port (``metrics_port +
worker``), every sample labelled ``worker``; Prometheus merges them (``sum without (worker)``),
so the hot path keeps plain in-process counters instead of prometheus-client's multiprocess
mode, whose file-backed values cost several times as much per increment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0, 60.0)


class ProxyMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "proxy_requests", "Requests answered, by deployment, client, method and status class.",
            ["deployment", "client", "method", "status_class"], registry=self.registry)
        self.request_seconds = Histogram(
            "proxy_request_duration_seconds", "Time from request to the end of the response.",
            ["deployment"], buckets=_BUCKETS, registry=self.registry)
        self.upstream_seconds = Histogram(
            "proxy_upstream_duration_seconds", "Time from sending upstream to its headers.",
            ["deployment"], buckets=_BUCKETS, registry=self.registry)
        self.auth = Counter(
            "proxy_auth", "Credential checks by outcome.", ["outcome"], registry=self.registry)
        self.cache = Counter(
            "proxy_credential_cache", "Verified-credential cache lookups by result.", ["result"],
            registry=self.registry)

        # Label lookups cost microseconds each; the hot path keeps the children it has used.
        self._request_children: dict[tuple[str, str, str, int], tuple[Counter, Histogram]] = {}
        self._upstream_children: dict[str, Histogram] = {}

    def observe_request(self, *, deployment: str, client: str, method: str, status: int,
                        seconds: float) -> None:
        key = (deployment, client, method, status // 100)
        children = self._request_children.get(key)
        if children is None:
            method_label = method if method in METHODS else "OTHER"
            children = (
                self.requests.labels(deployment, client, method_label, f"{status // 100}xx"),
                self.request_seconds.labels(deployment))
            if method_label == method:  # unknown methods are not remembered: unbounded
                self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_upstream(self, *, deployment: str, seconds: float) -> None:
        child = self._upstream_children.get(deployment)
        if child is None:
            child = self._upstream_children[deployment] = self.upstream_seconds.labels(deployment)
        child.observe(seconds)

    def value(self, name: str, labels: dict[str, str] | None = None) -> float:
        """The current value of one sample (0 when absent): for tests and the benchmark."""
        found = self.registry.get_sample_value(name, labels or {})
        return 0.0 if found is None else found


class WorkerLabelled(Collector):
    """The samples of ``registry``, each with a ``worker`` label naming this process."""

    def __init__(self, registry: CollectorRegistry, worker: int) -> None:
        self._registry = registry
        self._worker = str(worker)

    def collect(self) -> Iterable[Metric]:
        for family in self._registry.collect():
            labelled = Metric(family.name, family.documentation, family.type, family.unit)
            labelled.samples = [sample._replace(labels={**sample.labels, "worker": self._worker})
                                for sample in family.samples]
            yield labelled


def metrics_app(metrics: ProxyMetrics, *, ready: Callable[[], bool],
                worker: int = 0) -> web.Application:
    """``/metrics`` (Prometheus text), ``/healthz`` (process up), ``/readyz`` (routes loaded)."""
    exported = CollectorRegistry(auto_describe=False)
    exported.register(WorkerLabelled(metrics.registry, worker))

    async def scrape(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(exported),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        if ready():
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "routes not loaded"}, status=503)

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
