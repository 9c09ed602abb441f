"""Prometheus metrics of one proxy process, served on their own port with health and readiness.

The registry is per :class:`ProxyMetrics` (not the global default) so several proxies in one
test process do not collide. Label values are bounded: deployments and clients only once
known (a route exists, a token verified), predictors only once one was chosen (its name comes
from the route, never from the URL alone), methods folded into a fixed set, so a caller
cannot grow the series without limit.

Requests (and so errors: their ``status_class``) and both latencies carry a ``predictor``
label, empty for a request refused before a predictor was chosen, so a canary's error rate
and latency can be set beside the primary's.

With several worker processes each serves its own counters on its own port (``metrics_port +
worker``), every sample labelled ``worker``; Prometheus merges them (``sum without (worker)``),
so the hot path keeps plain in-process counters instead of prometheus-client's multiprocess
mode, whose file-backed values cost several times as much per increment.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from itertools import accumulate
from typing import Final

from aiohttp import web
from prometheus_client import CollectorRegistry, Metric
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATUS_CLASSES: Final = tuple(f"{first}xx" for first in range(10))
_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0, 60.0)
_BUCKET_LABELS: Final = (*(repr(bound) for bound in _BUCKETS), "+Inf")  # as the client writes


class _Histogram:
    """One latency histogram as plain numbers: counts per bucket (not cumulative) and a sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(_BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(_BUCKETS, seconds)] += 1
        self.total += seconds

    def buckets(self) -> list[tuple[str, float]]:
        return list(zip(_BUCKET_LABELS, accumulate(self.counts), strict=True))


class _Count:
    """One counter's value (``inc`` as prometheus-client's children have it)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class CountFamily:
    """A labelled counter as plain numbers, ``labels(...).inc()`` as prometheus-client's."""

    def __init__(self, name: str, documentation: str, labelnames: list[str]) -> None:
        self.name = name
        self.documentation = documentation
        self.labelnames = labelnames
        self.children: dict[tuple[str, ...], _Count] = {}

    def labels(self, *values: str) -> _Count:
        child = self.children.get(values)
        if child is None:
            child = self.children[values] = _Count()
        return child

    def family(self) -> CounterMetricFamily:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in self.children.items():
            family.add_metric(values, child.value)
        return family


class _RequestTally(Collector):
    """Requests and their latencies, counted as plain numbers and exported when scraped.

    Why not prometheus-client's Counter and Histogram here: these run several times for every
    request, and a child's lock, value object and bucket loop cost several times a dict update.
    The names, labels and buckets are those the client library would export.
    """

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str, str, str], int] = {}
        self.request_seconds: dict[tuple[str, str], _Histogram] = {}
        self.upstream_seconds: dict[tuple[str, str], _Histogram] = {}
        self.counts: list[CountFamily] = []

    def collect(self) -> Iterable[Metric]:
        requests = CounterMetricFamily(
            "proxy_requests",
            "Requests answered, by deployment, predictor, client, method and status class.",
            labels=["deployment", "predictor", "client", "method", "status_class"])
        for labels, count in self.requests.items():
            requests.add_metric(labels, count)
        yield requests
        for name, documentation, histograms in (
                ("proxy_request_duration_seconds",
                 "Time from request to the end of the response.", self.request_seconds),
                ("proxy_upstream_duration_seconds",
                 "Time from sending upstream to its headers.", self.upstream_seconds)):
            family = HistogramMetricFamily(name, documentation,
                                           labels=["deployment", "predictor"])
            for where, histogram in histograms.items():
                family.add_metric(where, histogram.buckets(), histogram.total)
            yield family
        for counter in self.counts:
            yield counter.family()


class ProxyMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._tally = _RequestTally()
        self.registry.register(self._tally)
        self.auth = CountFamily("proxy_auth", "Credential checks by outcome.", ["outcome"])
        self.cache = CountFamily(
            "proxy_credential_cache", "Verified-credential cache lookups by result.", ["result"])
        self._tally.counts += [self.auth, self.cache]

    def observe_request(self, *, deployment: str, predictor: str, client: str, method: str,
                        status: int, seconds: float) -> None:
        tally = self._tally
        key = (deployment, predictor, client, method if method in METHODS else "OTHER",
               _STATUS_CLASSES[status // 100])
        tally.requests[key] = tally.requests.get(key, 0) + 1
        where = (deployment, predictor)
        histogram = tally.request_seconds.get(where)
        if histogram is None:
            histogram = tally.request_seconds[where] = _Histogram()
        histogram.observe(seconds)

    def observe_upstream(self, *, deployment: str, predictor: str, seconds: float) -> None:
        where = (deployment, predictor)
        histogram = self._tally.upstream_seconds.get(where)
        if histogram is None:
            histogram = self._tally.upstream_seconds[where] = _Histogram()
        histogram.observe(seconds)

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
