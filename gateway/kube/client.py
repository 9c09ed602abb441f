"""Raw-JSON access to any Kubernetes resource through kubernetes-asyncio's ``ApiClient``.

The typed APIs of kubernetes-asyncio build a model object per item, which costs more than
everything else we do with a list of a thousand deployments; we work with the JSON objects
the API server sends (``dict``), the same shape for built-in and custom resources. The
``ApiClient`` still does the transport: configuration, authentication, TLS, pooling.

Every function takes keyword-only arguments and raises only :mod:`gateway.kube.errors`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from kubernetes_asyncio.client import ApiClient

from gateway.kube.errors import from_status, translated

Object = dict[str, Any]
PatchType = Literal["merge", "json", "strategic", "apply"]

_CONTENT_TYPES: dict[PatchType, str] = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}


@dataclass(frozen=True)
class Resource:
    """A resource kind's coordinates: where its URLs live and what its objects are called."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, *, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name is not None:
            # Quoted: a name that reached the store with an odd character (written by an older
            # release or another tool) must still be addressable, or it could never be deleted.
            base += f"/{quote(name, safe='')}"
        if subresource is not None:
            base += f"/{subresource}"
        return base


PODS = Resource("", "v1", "pods", "Pod")
SERVICES = Resource("", "v1", "services", "Service")
SECRETS = Resource("", "v1", "secrets", "Secret")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
EVENTS = Resource("", "v1", "events", "Event")
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
HPAS = Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler")
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions",
                "CustomResourceDefinition", namespaced=False)


class Kube:
    """JSON CRUD, watch and log streaming for any :class:`Resource`."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    async def _call(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                    body: Any = None, content_type: str | None = None) -> Object:
        headers = {"Accept": "application/json"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        elif body is not None:
            headers["Content-Type"] = "application/json"
        with translated():
            result: Object = await self.api.call_api(
                path, method, path_params={}, query_params=list((query or {}).items()),
                header_params=headers, body=body,
                response_types_map={200: "object", 201: "object", 202: "object"},
                auth_settings=["BearerToken"], _return_http_data_only=True)
        return result

    async def get(self, resource: Resource, *, namespace: str | None, name: str) -> Object:
        return await self._call("GET", resource.path(namespace=namespace, name=name))

    async def list(self, resource: Resource, *, namespace: str | None = None,
                   label_selector: str | None = None, limit: int | None = None,
                   continue_token: str | None = None) -> Object:
        """One page of a list (the whole ``...List`` object, with its resourceVersion)."""
        query: dict[str, Any] = {}
        if label_selector:
            query["labelSelector"] = label_selector
        if limit:
            query["limit"] = limit
        if continue_token:
            query["continue"] = continue_token
        return await self._call("GET", resource.path(namespace=namespace), query=query)

    async def create(self, resource: Resource, *, namespace: str | None, body: Object,
                     field_manager: str | None = None) -> Object:
        query = {"fieldManager": field_manager} if field_manager else None
        return await self._call("POST", resource.path(namespace=namespace), query=query,
                                body=body)

    async def replace(self, resource: Resource, *, namespace: str | None, name: str,
                      body: Object, subresource: str | None = None,
                      field_manager: str | None = None) -> Object:
        """PUT; a ``metadata.resourceVersion`` in ``body`` makes it conditional (409 if stale)."""
        query = {"fieldManager": field_manager} if field_manager else None
        return await self._call("PUT", resource.path(namespace=namespace, name=name,
                                                     subresource=subresource),
                                query=query, body=body)

    async def patch(self, resource: Resource, *, namespace: str | None, name: str, body: Any,
                    patch_type: PatchType = "merge", subresource: str | None = None,
                    field_manager: str | None = None, force: bool = False) -> Object:
        query: dict[str, Any] = {}
        if field_manager:
            query["fieldManager"] = field_manager
        if force:
            query["force"] = "true"
        # The client serialises the body as JSON for every patch type (YAML's superset).
        return await self._call("PATCH", resource.path(namespace=namespace, name=name,
                                                       subresource=subresource),
                                query=query, body=body,
                                content_type=_CONTENT_TYPES[patch_type])

    async def delete(self, resource: Resource, *, namespace: str | None, name: str,
                     propagation: str | None = None,
                     precondition_resource_version: str | None = None) -> Object:
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if propagation:
            body["propagationPolicy"] = propagation
        if precondition_resource_version:
            body["preconditions"] = {"resourceVersion": precondition_resource_version}
        return await self._call("DELETE", resource.path(namespace=namespace, name=name),
                                body=body)

    async def watch(self, resource: Resource, *, namespace: str | None,
                    resource_version: str, timeout_seconds: int,
                    label_selector: str | None = None) -> AsyncIterator[Object]:
        """Raw watch events (``{"type", "object"}``) until the server ends the stream.

        An ``ERROR`` event is raised as the error it carries (410 Gone: re-list).
        """
        query: dict[str, Any] = {"watch": "true", "resourceVersion": resource_version,
                                 "timeoutSeconds": timeout_seconds,
                                 "allowWatchBookmarks": "true"}
        if label_selector:
            query["labelSelector"] = label_selector
        async for line in self._stream(resource.path(namespace=namespace), query,
                                       request_timeout=timeout_seconds + 30):
            event: Object = json.loads(line)
            if event.get("type") == "ERROR":
                raise from_status(event.get("object") or {})
            yield event

    async def stream_log(self, *, namespace: str, pod: str, container: str, follow: bool,
                         tail_lines: int | None,
                         timestamps: bool = False) -> AsyncIterator[bytes]:
        """A container's log, chunk by chunk (``follow`` keeps it open for new lines;
        ``timestamps`` puts the kubelet's RFC 3339 UTC time before each line)."""
        query: dict[str, Any] = {"container": container, "follow": str(follow).lower(),
                                 "timestamps": str(timestamps).lower()}
        if tail_lines is not None:
            query["tailLines"] = tail_lines
        async for chunk in self._stream(PODS.path(namespace=namespace, name=pod,
                                                  subresource="log"), query, request_timeout=None,
                                        lines=False):
            yield chunk

    async def _stream(self, path: str, query: Mapping[str, Any], *, request_timeout: float | None,
                      lines: bool = True) -> AsyncIterator[bytes]:
        with translated():
            response = await self.api.call_api(
                path, "GET", path_params={}, query_params=list(query.items()),
                header_params={"Accept": "application/json"}, auth_settings=["BearerToken"],
                _preload_content=False, _request_timeout=request_timeout)
        if response.status >= 400:  # unread responses are not checked by the client
            await _raise_status(response)
        try:
            with translated():
                if lines:
                    while line := await response.content.readline():
                        yield line
                else:
                    async for chunk in response.content.iter_any():
                        yield chunk
        finally:
            response.release()


async def _raise_status(response: Any) -> None:
    """Raise the project error for a failed streaming request (its body is a Status)."""
    try:
        with translated():
            raw = await response.read()
    finally:
        response.release()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {}
    raise from_status(body if isinstance(body, dict) else {}, int(response.status))
