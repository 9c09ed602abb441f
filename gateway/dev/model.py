"""The demo model dev mode runs in every pod: a small Seldon-protocol HTTP server.

PrimeHub deployments speak Seldon's REST protocol, so the demo model does too:
``POST /api/v1.0/predictions`` (and ``/predict``) takes ``{"data": {"ndarray": ...}}`` or
``{"data": {"tensor": {"shape": [...], "values": [...]}}}`` and answers deterministically: it
echoes the data back, with the shape it measured and, in ``meta.tags``, the
``X-Forwarded-User`` the proxy set, so a quickstart can show who called. Health routes
(``/health/ping``, ``/health/status``, ``/ready``, ``/live``) answer as Seldon's do. Every
request appends a line to the pod's ``model`` container log. A prediction request with a
``X-Demo-Delay: <seconds>`` header (0 to 10) is answered that much later, to see what slow
models do to timeouts, draining and promotion.

:class:`DemoModelRuntime` is the local cluster's container runtime in dev mode: one server per
pod, bound to the pod IP and the model container's port, stopped with the pod. While its pod
terminates, the server closes each connection after its answer (as a server does on SIGTERM),
so nothing keeps reusing a connection to a pod that is about to go.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

MODEL_CONTAINER = "model"
DEFAULT_PORT = 9000
DELAY_HEADER = "X-Demo-Delay"
MAX_DELAY = 10.0
LogLine = Callable[[str, str, str], None]  # (namespace, pod, line)


def shape_of(value: Any) -> list[int]:
    """The shape of a nested list (ragged inner lists count by their first element)."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return shape


def predict(payload: Any, *, caller: str | None) -> dict[str, Any]:
    """The demo model: the input data back, its shape, and who called. Raises ValueError."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise ValueError('expected a JSON object with a "data" object')
    data = payload["data"]
    if "ndarray" in data:
        output: dict[str, Any] = {"names": data.get("names") or [], "ndarray": data["ndarray"]}
        shape = shape_of(data["ndarray"])
    elif isinstance(data.get("tensor"), dict):
        tensor = data["tensor"]
        output = {"names": data.get("names") or [], "tensor": tensor}
        shape = list(tensor.get("shape") or [len(tensor.get("values") or [])])
    else:
        raise ValueError('"data" must hold "ndarray" or "tensor"')
    tags: dict[str, Any] = {"shape": shape}
    if caller is not None:
        tags["x-forwarded-user"] = caller
    return {"data": output, "meta": {"tags": tags}}


def delay(value: str | None) -> float:
    """The seconds a request asked to be delayed by (``ValueError`` for anything but 0-10)."""
    if value is None:
        return 0.0
    seconds = float(value)
    if not 0 <= seconds <= MAX_DELAY:
        raise ValueError(f"{DELAY_HEADER} must be 0 to {MAX_DELAY:g} seconds")
    return seconds


def model_app(*, pod: str, write_log: Callable[[str], None],
              draining: Callable[[], bool] = lambda: False) -> web.Application:
    """The demo model's HTTP application for one pod (``draining``: close after answering)."""

    @web.middleware
    async def drain(request: web.Request,
                    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
                    ) -> web.StreamResponse:
        response = await handler(request)
        if draining():
            response.force_close()
        return response

    async def predictions(request: web.Request) -> web.Response:
        caller = request.headers.get("X-Forwarded-User")
        try:
            await asyncio.sleep(delay(request.headers.get(DELAY_HEADER)))
            result = predict(await request.json(), caller=caller)
        except (ValueError, json.JSONDecodeError) as error:
            write_log(f"{request.method} {request.path} 400 ({error})")
            return web.json_response({"status": {"code": 400, "info": str(error),
                                                 "status": "FAILURE"}}, status=400)
        result["meta"]["puid"] = request.headers.get("X-Request-Id", "")
        write_log(f"{request.method} {request.path} 200 user={caller or '-'} "
                  f"shape={result['meta']['tags']['shape']}")
        return web.json_response(result)

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="pong")

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "pod": pod})

    app = web.Application(middlewares=[drain])
    app.router.add_post("/api/v1.0/predictions", predictions)
    app.router.add_post("/predict", predictions)
    for path in ("/health/ping", "/ready", "/live"):
        app.router.add_get(path, ping)
    app.router.add_get("/health/status", status)
    return app


def model_port(pod: dict[str, Any]) -> int:
    """The port the model container declares (9000 when it declares none)."""
    for container in pod["spec"].get("containers") or []:
        if container.get("name") == MODEL_CONTAINER:
            for port in container.get("ports") or []:
                return int(port["containerPort"])
    return DEFAULT_PORT


class DemoModelRuntime:
    """Runs the demo model for every pod of the local cluster (its container runtime)."""

    def __init__(self, write_log: LogLine) -> None:
        self._write_log = write_log
        self._runners: dict[tuple[str, str], web.AppRunner] = {}
        self._draining: set[tuple[str, str]] = set()

    async def start(self, pod: dict[str, Any], address: str) -> None:
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        port = model_port(pod)

        def write_log(line: str) -> None:
            self._write_log(namespace, name, line)

        key = (namespace, name)
        runner = web.AppRunner(model_app(pod=name, write_log=write_log,
                                         draining=lambda: key in self._draining),
                               access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, address, port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runners[(namespace, name)] = runner
        write_log(f"demo model listening on {address}:{port}")

    async def drain(self, namespace: str, name: str) -> None:
        if (namespace, name) in self._runners:
            self._draining.add((namespace, name))

    async def stop(self, namespace: str, name: str) -> None:
        self._draining.discard((namespace, name))
        runner = self._runners.pop((namespace, name), None)
        if runner is not None:
            await runner.cleanup()

    async def close(self) -> None:
        for namespace, name in list(self._runners):
            await self.stop(namespace, name)
