"""Prometheus metrics of the API process, in a registry of its own.

A registry per application (not the global default) lets several applications live in one
process, as in tests. Request metrics use the route's pattern as label (``/logs/.../{pod}``),
never the raw path, so label cardinality stays bounded. Cache gauges are read at scrape time.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from gateway.api.store import Store

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("model_gateway_api_requests", "HTTP requests served.",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("model_gateway_api_request_seconds",
                                 "Time to the response's headers.", ["route", "method"],
                                 registry=self.registry)
        self.cached = Gauge("model_gateway_api_cached_objects", "Objects in the watch caches.",
                            ["kind"], registry=self.registry)
        self.synced = Gauge("model_gateway_api_caches_synced",
                            "1 when every watch cache has loaded.", registry=self.registry)
        self.stale = Gauge("model_gateway_api_caches_stale",
                           "1 when some watch cache lost its watch.", registry=self.registry)

    def observe_store(self, store: Store) -> None:
        for kind, size in (("phdeployments", len(store.deployments)),
                           ("instancetypes", len(store.instance_types)),
                           ("groups", len(store.groups)), ("apitokens", len(store.tokens)),
                           ("pods", len(store.pods))):
            self.cached.labels(kind).set(size)
        self.synced.set(1 if store.synced else 0)
        self.stale.set(1 if store.stale else 0)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            self.latency.labels(route, request.method).observe(time.perf_counter() - started)
            self.requests.labels(route, request.method, str(status)).inc()

    def exposition(self, store: Store) -> web.Response:
        self.observe_store(store)
        response = web.Response(body=generate_latest(self.registry))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response
