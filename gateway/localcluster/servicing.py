"""Service traffic: what kube-proxy does, on loopback.

When enabled (dev mode), every Service with a cluster IP gets a TCP listener on
``<cluster IP>:<port>`` for each of its ports; each connection goes to one ready endpoint
(a Ready pod in the Service's namespace matching its selector, at the pod IP and the port's
``targetPort``, a number or a container port name), round robin. Bytes are piped both ways
unchanged, so HTTP, streaming and WebSockets all pass. A Service with no ready endpoint
closes new connections at once, as a real cluster rejects them.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from typing import Any

from gateway.localcluster.reacting import Reactor
from gateway.localcluster.selectors import selector_from_dict
from gateway.localcluster.store import Event, Object, Store
from gateway.localcluster.workloads import PODS, is_ready

log = logging.getLogger(__name__)

SERVICES = "/services"
_ServiceKey = tuple[str, str]


def endpoints(store: Store, service: Object, port: dict[str, Any]) -> list[tuple[str, int]]:
    """The ready (pod IP, port) pairs behind one port of a Service."""
    spec = service.get("spec") or {}
    if not spec.get("selector"):
        return []
    selector = selector_from_dict({"matchLabels": spec["selector"]})
    target = port.get("targetPort", port.get("port"))
    found = []
    for pod in store.items(PODS, service["metadata"]["namespace"]):
        address = (pod.get("status") or {}).get("podIP")
        if not address or not is_ready(pod) or not selector.matches(
                pod["metadata"].get("labels") or {}):
            continue
        number = target if isinstance(target, int) else _named_port(pod, str(target))
        if number is not None:
            found.append((address, number))
    return found


def _named_port(pod: Object, name: str) -> int | None:
    if name.isdigit():
        return int(name)
    for container in pod["spec"].get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == name:
                return int(port["containerPort"])
    return None


class ServiceProxy(Reactor):
    """Listens on every Service's cluster IP and ports; forwards to ready pods."""

    name = "localcluster-services"

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._store = store
        self._servers: dict[_ServiceKey, list[asyncio.Server]] = {}
        self._changed: asyncio.Queue[_ServiceKey] = asyncio.Queue()
        self._turns = itertools.count()
        self._connections: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        super().start()
        for service in self._store.items(SERVICES):
            self._changed.put_nowait((service["metadata"]["namespace"],
                                      service["metadata"]["name"]))

    async def stop(self) -> None:
        await super().stop()
        for key in list(self._servers):
            await self._close(key)
        for connection in list(self._connections):
            connection.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    def on_event(self, event: Event) -> None:
        if event.key == SERVICES:
            metadata = event.object["metadata"]
            self._changed.put_nowait((metadata["namespace"], metadata["name"]))

    async def run(self) -> None:
        while True:
            key = await self._changed.get()
            try:
                await self._sync(key)
            except OSError as error:
                log.warning("cannot listen for service %s/%s: %s", *key, error)

    async def _sync(self, key: _ServiceKey) -> None:
        await self._close(key)
        service = self._store.get(SERVICES, *key)
        if service is None:
            return
        address = (service.get("spec") or {}).get("clusterIP")
        if not address or address == "None":
            return
        servers = []
        for port in (service.get("spec") or {}).get("ports") or []:
            servers.append(await asyncio.start_server(
                functools.partial(self._forward, key, port), address, int(port["port"])))
        self._servers[key] = servers

    async def _close(self, key: _ServiceKey) -> None:
        for server in self._servers.pop(key, []):
            server.close()
            await server.wait_closed()

    async def _forward(self, key: _ServiceKey, port: dict[str, Any],
                       reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            service = self._store.get(SERVICES, *key)
            ready = endpoints(self._store, service, port) if service is not None else []
            if not ready:
                return
            host, number = ready[next(self._turns) % len(ready)]
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(host, number)
            except OSError:
                return
            try:
                await asyncio.gather(_pipe(reader, upstream_writer),
                                     _pipe(upstream_reader, writer))
            finally:
                upstream_writer.close()
        finally:
            writer.close()
            self._connections.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then half-close, so the other direction can finish."""
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        writer.close()
