"""The HTTP face of the local cluster: kube-apiserver's URLs, verbs, query parameters and bodies.

One catch-all route parses the path (``routing.py``) and dispatches on the target and method
to :class:`~gateway.localcluster.resources.Resources`, to the watch streamer or to pod logs.
Every failure leaves as a ``metav1.Status`` body. Query booleans accept exactly what Go's
``strconv.ParseBool`` accepts, since kubernetes-asyncio sends ``True``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.localcluster import applying, discovery, errors, patching, routing, tables
from gateway.localcluster.crds import CRD_KEY
from gateway.localcluster.errors import ApiError, PageNotFound
from gateway.localcluster.kinds import Kind
from gateway.localcluster.logs import PodLogs
from gateway.localcluster.resources import DeleteOptions, PatchType, Resources, Target
from gateway.localcluster.selectors import parse_field_selector, parse_label_selector
from gateway.localcluster.watching import WatchRequest, serve_watch

log = logging.getLogger(__name__)

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_PATCH_TYPES: dict[str, PatchType] = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
    "application/apply-patch+json": "apply",
}


@dataclass
class ServerState:
    """What the handlers need, shared for the application's lifetime."""

    resources: Resources
    logs: PodLogs
    bookmark_interval: float
    open_watches: set[asyncio.Queue[Any]]


STATE = web.AppKey("localcluster_state", ServerState)


def build_app(state: ServerState) -> web.Application:
    app = web.Application(middlewares=[_status_errors], client_max_size=64 * 1024 * 1024)
    app[STATE] = state
    app.router.add_route("*", "/{path:.*}", _dispatch)
    return app


@web.middleware
async def _status_errors(request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                         ) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        return _json(error.to_status(), status=error.code)
    except PageNotFound:
        return web.Response(status=404, text="404 page not found\n")


def _json(body: Any, *, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(body, separators=(",", ":")), status=status,
                        content_type="application/json")


async def _dispatch(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    path = request.path.rstrip("/") or "/"
    if request.method == "GET":
        if path == "/version":
            return _json(discovery.VERSION_INFO)
        if path == "/api":
            return _json(discovery.core_versions(request.host))
        if path == "/apis":
            return _json(discovery.group_list(state.resources.kinds))
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok")
        if path == "/openapi/v3":
            return _json(discovery.openapi_root(state.resources.kinds))
        if path.startswith("/openapi/v3/"):
            served = routing.parse(path.removeprefix("/openapi/v3"), state.resources.kinds)
            if isinstance(served, routing.GroupVersion):
                return _json(discovery.openapi_group_version(
                    state.resources.kinds, served.group, served.version))
    target = routing.parse(path, state.resources.kinds)
    if isinstance(target, routing.GroupVersion):
        if request.method != "GET":
            raise errors.method_not_allowed()
        return _json(discovery.resource_list(state.resources.kinds, target.group,
                                             target.version))
    if target.subresource == "log":
        return await _pod_log(request, state, target)
    if target.name is None:
        return await _collection(request, state, target)
    return await _item(request, state, target)


async def _collection(request: web.Request, state: ServerState,
                      target: routing.Target) -> web.StreamResponse:
    resources, kind, query = state.resources, target.kind, request.query
    labels = parse_label_selector(query.get("labelSelector", ""))
    fields = parse_field_selector(query.get("fieldSelector", ""), kind.field_selectors)
    if request.method == "GET":
        if _flag(query, "watch"):
            render = None
            if tables.wants_table(request.headers.get("Accept", "")):
                crd_columns = _printer_columns(resources, kind)

                def render(obj: dict[str, Any]) -> dict[str, Any]:
                    return tables.table(kind, [obj], crd_columns=crd_columns,
                                        resource_version=obj["metadata"]["resourceVersion"])

            watch = WatchRequest(kind=kind, namespace=target.namespace, render=render,
                                 resource_version=query.get("resourceVersion"),
                                 labels=labels, fields=fields,
                                 timeout=_number(query, "timeoutSeconds"),
                                 bookmarks=_flag(query, "allowWatchBookmarks"),
                                 send_initial_events=_flag(query, "sendInitialEvents"))
            return await serve_watch(request, resources, watch,
                                     bookmark_interval=state.bookmark_interval,
                                     open_streams=state.open_watches)
        limit = int(_number(query, "limit") or 0)
        listed = resources.list_objects(kind, target.namespace, labels=labels, fields=fields,
                                        limit=limit,
                                        continue_token=query.get("continue") or None)
        if tables.wants_table(request.headers.get("Accept", "")):
            return _json(tables.table(kind, listed.items,
                                      crd_columns=_printer_columns(resources, kind),
                                      resource_version=listed.resource_version,
                                      continue_token=listed.continue_token))
        metadata: dict[str, Any] = {"resourceVersion": listed.resource_version}
        if listed.continue_token:
            metadata["continue"] = listed.continue_token
        if listed.remaining is not None:
            metadata["remainingItemCount"] = listed.remaining
        return _json({"kind": kind.list_kind, "apiVersion": kind.api_version,
                      "metadata": metadata, "items": listed.items})
    if request.method == "POST":
        if kind.namespaced and target.namespace is None:
            raise errors.method_not_allowed()
        created = resources.create(kind, target.namespace or "", await _body(request),
                                   external=True, manager=_manager(request),
                                   dry_run=_dry_run(request))
        return _json(created, status=201)
    if request.method == "DELETE":
        options = DeleteOptions.from_body(await _optional_body(request),
                                          propagation=query.get("propagationPolicy"),
                                          dry_run=_dry_run(request))
        deleted = resources.delete_collection(kind, target.namespace, options, labels=labels,
                                              fields=fields, external=True)
        return _json({"kind": kind.list_kind, "apiVersion": kind.api_version,
                      "metadata": {"resourceVersion": str(resources.store.resource_version)},
                      "items": deleted})
    raise errors.method_not_allowed()


async def _item(request: web.Request, state: ServerState,
                target: routing.Target) -> web.StreamResponse:
    resources, kind = state.resources, target.kind
    namespace, name = target.namespace or "", target.name or ""
    sub = target.subresource
    if sub == "scale":
        return await _scale(request, resources, kind, namespace, name)
    where: Target = "status" if sub == "status" else "main"
    if request.method == "GET":
        found = resources.get(kind, namespace, name)
        if sub is None and tables.wants_table(request.headers.get("Accept", "")):
            return _json(tables.table(kind, [found],
                                      crd_columns=_printer_columns(resources, kind),
                                      resource_version=found["metadata"]["resourceVersion"]))
        return _json(found)
    if request.method == "PUT":
        return _json(resources.update(kind, namespace, name, await _body(request),
                                      external=True, target=where, manager=_manager(request),
                                      dry_run=_dry_run(request)))
    if request.method == "PATCH":
        patch_type = _PATCH_TYPES.get(request.content_type)
        if patch_type is None:
            raise errors.unsupported_media_type(request.content_type)
        existed = resources.store.get(kind.key, namespace if kind.namespaced else "",
                                      name) is not None
        # Apply needs an explicit manager; other writes fall back to the User-Agent's.
        manager = (_manager(request) if patch_type != "apply" or "fieldManager" in request.query
                   else None)
        patched = resources.patch(kind, namespace, name, await _body(request), patch_type,
                                  external=True, target=where, manager=manager,
                                  force=_flag(request.query, "force"),
                                  dry_run=_dry_run(request))
        return _json(patched, status=200 if existed else 201)
    if request.method == "DELETE" and sub is None:
        options = DeleteOptions.from_body(await _optional_body(request),
                                          propagation=request.query.get("propagationPolicy"),
                                          dry_run=_dry_run(request))
        return _json(resources.delete(kind, namespace, name, options, external=True))
    raise errors.method_not_allowed()


async def _scale(request: web.Request, resources: Resources, kind: Kind, namespace: str,
                 name: str) -> web.Response:
    """The autoscaling/v1 Scale view of a Deployment: read it, or write its replicas."""
    obj = resources.get(kind, namespace, name)
    if request.method in ("PUT", "PATCH"):
        body = await _body(request)
        if request.method == "PATCH":
            patch_type = _PATCH_TYPES.get(request.content_type)
            if patch_type not in ("merge", "strategic", "json"):
                raise errors.unsupported_media_type(request.content_type)
            scale = _scale_of(obj)
            body = (patching.json_patch(scale, body) if patch_type == "json"
                    else patching.merge_patch(scale, body))
        replicas = (body.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid("Scale", "autoscaling", name, [errors.Cause(
                "FieldValueInvalid", f"Invalid value: {replicas!r}: must be greater than or "
                "equal to 0", "spec.replicas")])
        obj = resources.patch(kind, namespace, name, {"spec": {"replicas": replicas}}, "merge",
                              external=True)
    elif request.method != "GET":
        raise errors.method_not_allowed()
    return _json(_scale_of(obj))


def _scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    labels = (obj["spec"].get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {key: obj["metadata"][key]
                         for key in ("name", "namespace", "uid", "resourceVersion",
                                     "creationTimestamp") if key in obj["metadata"]},
            "spec": {"replicas": obj["spec"].get("replicas", 0)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in sorted(labels.items()))}}


async def _pod_log(request: web.Request, state: ServerState,
                   target: routing.Target) -> web.StreamResponse:
    if request.method != "GET":
        raise errors.method_not_allowed()
    namespace, name = target.namespace or "", target.name or ""
    pod = state.resources.get(target.kind, namespace, name)
    containers = [c["name"] for c in pod["spec"].get("containers") or []]
    init = [c["name"] for c in pod["spec"].get("initContainers") or []]
    container = request.query.get("container")
    if not container:
        if len(containers) != 1:
            raise errors.bad_request(
                f"a container name must be specified for pod {name}, choose one of: "
                f"[{' '.join(containers)}]" + (f" or one of the init containers: "
                                               f"[{' '.join(init)}]" if init else ""))
        container = containers[0]
    elif container not in containers + init:
        raise errors.bad_request(f"container {container} is not valid for pod {name}")
    tail = _number(request.query, "tailLines")
    stamps = _flag(request.query, "timestamps")
    limit = _number(request.query, "limitBytes")
    log_of = state.logs.open(namespace, name, container)
    lines, seen = log_of.snapshot(tail=None if tail is None else int(tail))

    def render(batch: list[tuple[str, str]]) -> bytes:
        return "".join(f"{stamp} {line}\n" if stamps else f"{line}\n"
                       for stamp, line in batch).encode()

    if not _flag(request.query, "follow"):
        body = render(lines)
        return web.Response(body=body[:int(limit)] if limit else body,
                            content_type="text/plain")
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        await response.write(render(lines))
        while not log_of.closed:
            fresh, seen = await log_of.wait_newer(seen)
            if fresh:
                await response.write(render(fresh))
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client went away
    return response


def _printer_columns(resources: Resources, kind: Kind) -> list[dict[str, Any]]:
    """A custom kind's ``additionalPrinterColumns`` from its CRD (none for built-ins)."""
    if kind.builtin:
        return []
    crd = resources.store.get(CRD_KEY, "", f"{kind.plural}.{kind.group}")
    for version in (crd or {}).get("spec", {}).get("versions") or []:
        if version.get("name") == kind.version:
            return list(version.get("additionalPrinterColumns") or [])
    return []


def _flag(query: Any, name: str) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return False
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise errors.bad_request(f'invalid value for "{name}": strconv.ParseBool: parsing "{raw}": '
                             "invalid syntax")


def _number(query: Any, name: str) -> float | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as error:
        raise errors.bad_request(f'invalid value for "{name}": {raw!r} is not an integer') \
            from error
    if value < 0:
        raise errors.bad_request(f'invalid value for "{name}": must not be negative')
    return float(value)


def _dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    if any(value != "All" for value in values):
        raise errors.bad_request('dryRun may only be "All"')
    return bool(values)


def _manager(request: web.Request) -> str:
    """The field manager: ``fieldManager``, else the User-Agent's product, as kube derives it."""
    manager = request.query.get("fieldManager")
    if manager is None:
        return request.headers.get("User-Agent", "unknown").split("/", 1)[0][:128] or "unknown"
    if len(manager) > 128:
        raise errors.invalid("PatchOptions", "meta.k8s.io", "", [errors.Cause(
            "FieldValueTooLong", "Too long: may not be more than 128 bytes", "fieldManager")])
    return manager


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        raise errors.bad_request("the request body is empty")
    try:
        if request.content_type == "application/apply-patch+yaml":
            return applying.decode_apply_body(raw)
        return json.loads(raw)
    except ValueError as error:
        raise errors.bad_request(f"the request body is not valid: {error}") from error


async def _optional_body(request: web.Request) -> dict[str, Any] | None:
    if not request.can_read_body:
        return None
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except ValueError as error:
        raise errors.bad_request(f"the request body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise errors.bad_request("DeleteOptions must be an object")
    return body
