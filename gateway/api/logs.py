"""The log endpoint: ``GET /logs/namespaces/<ns>/phdeployments/<pod>``.

PrimeHub's SDK takes this URL from ``pods { logEndpoint }`` and calls it with its Bearer
token and ``follow``, ``tailLines`` (and optionally ``container``); the console adds
``timestamps=true`` (each line starts with its RFC 3339 UTC time) and signs in with its
session cookie instead of a token. The caller must be an
admin or a member of the group of the deployment the pod serves (found through the pod
cache, so a pod that is not a model pod is simply not found). The body is the container's
log as plain text, streamed as it arrives; with ``follow=true`` it stays open until the
client leaves (the server cancels the handler) or the pod goes away. A refusal by the API
server (no such pod or container; 502 when it could not reach the pod's kubelet) is answered
with a proper status: a one-shot read waits for the API server's answer, a followed log
sends its headers after a short grace period at the latest, so one with nothing in it yet
still answers at once.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from gateway.api.auth import Authenticator, Principal
from gateway.api.store import Store
from gateway.kube.client import Kube
from gateway.kube.errors import KubeError, NotFound
from gateway.kube.phdeployments import MODEL_CONTAINER

MAX_TAIL = 100_000
HEADER_GRACE = 0.25  # wait this long for the log's first bytes (or refusal) before answering


def _flag(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise web.HTTPBadRequest(text=f"{name} must be true or false\n")
    return value in ("true", "1")


def _tail(request: web.Request) -> int | None:
    raw = request.query.get("tailLines")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or int(raw) > MAX_TAIL:
        raise web.HTTPBadRequest(text=f"tailLines must be a whole number up to {MAX_TAIL}\n")
    return int(raw)


def _allowed(store: Store, principal: Principal, pod: str) -> bool:
    found = store.pods.get(pod)
    deployment = store.deployments.get(found.deployment_id) if found is not None else None
    if deployment is None:
        return False
    if principal.admin:
        return True
    groups = principal.groups if principal.groups is not None else \
        store.groups_of(principal.username)
    return deployment.spec.group_id in groups


class LogEndpoint:
    def __init__(self, *, kube: Kube, store: Store, auth: Authenticator) -> None:
        self._kube = kube
        self._store = store
        self._auth = auth

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        principal = await self._auth.authenticate(request.headers)
        if principal is None:
            raise web.HTTPUnauthorized(text="authentication required\n",
                                       headers={"WWW-Authenticate": "Bearer"})
        namespace = request.match_info["namespace"]
        pod = request.match_info["pod"]
        follow, tail = _flag(request, "follow"), _tail(request)
        timestamps = _flag(request, "timestamps")
        container = request.query.get("container") or MODEL_CONTAINER
        if namespace != self._store.namespace or not _allowed(self._store, principal, pod):
            raise web.HTTPNotFound(text=f"no model pod {pod!r} you may read\n")
        chunks = self._kube.stream_log(namespace=namespace, pod=pod, container=container,
                                       follow=follow, tail_lines=tail, timestamps=timestamps)
        first = asyncio.ensure_future(anext(chunks, b""))
        try:
            # A one-shot read waits for the API server's answer, so a failure is never a 200
            # with an empty body; a followed log answers within the grace period regardless.
            done, _ = await asyncio.wait({first}, timeout=HEADER_GRACE if follow else None)
            if done:
                _raise_for(first, pod=pod, container=container)
            response = web.StreamResponse(headers={
                "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"})
            await response.prepare(request)
            try:
                chunk = await first
                if chunk:
                    await response.write(chunk)
                async for chunk in chunks:
                    await response.write(chunk)
            except KubeError:
                pass  # the stream broke after the headers: end the body, the client sees EOF
            await response.write_eof()
            return response
        finally:
            first.cancel()


def _raise_for(first: asyncio.Future[bytes], *, pod: str, container: str) -> None:
    """The HTTP error for a log request the API server refused at once, if it did."""
    error = first.exception()
    if isinstance(error, NotFound):
        raise web.HTTPNotFound(text=f"no log for pod {pod!r}\n") from error
    if isinstance(error, KubeError) and error.status == 400:  # no such container
        raise web.HTTPBadRequest(text=f"pod {pod!r} has no container {container!r}\n") \
            from error
    if isinstance(error, KubeError) and error.status == 500:
        # The API server answered, but could not get the log from the node's kubelet (the
        # node is down, or its kubelet does not serve logs): not a cluster outage.
        raise web.HTTPBadGateway(
            text=f"the node running pod {pod!r} did not serve its log\n") from error
    if isinstance(error, KubeError):
        raise web.HTTPServiceUnavailable(text="the cluster cannot be reached\n") from error
