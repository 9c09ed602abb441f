"""Discovery documents: ``/version``, ``/api``, ``/apis`` and the per-version resource lists.

Clients (kubectl, kubernetes-asyncio's dynamic client) find kinds here before they use them.
The legacy (unaggregated) formats are served; a client asking for aggregated discovery gets
these with a plain ``application/json`` content type and falls back, as it does against older
servers.
"""

from __future__ import annotations

from typing import Any

from gateway.localcluster.kinds import KindRegistry

VERSION_INFO = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0-model-gateway-localcluster",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.22.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def core_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": server_address}]}


def group_list(kinds: KindRegistry) -> dict[str, Any]:
    groups = []
    for group, versions in sorted(kinds.group_versions().items()):
        if not group:
            continue
        listed = [{"groupVersion": f"{group}/{version}", "version": version}
                  for version in versions]
        groups.append({"name": group, "versions": listed, "preferredVersion": listed[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def resource_list(kinds: KindRegistry, group: str, version: str) -> dict[str, Any]:
    resources: list[dict[str, object]] = []
    for kind in kinds.in_group_version(group, version):
        resources.extend(kind.discovery_entries())
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources}


def openapi_root(kinds: KindRegistry) -> dict[str, Any]:
    """``/openapi/v3``: where each group version's OpenAPI document lives."""
    paths = {}
    for group, versions in kinds.group_versions().items():
        for version in versions:
            relative = f"api/{version}" if not group else f"apis/{group}/{version}"
            paths[relative] = {"serverRelativeURL": f"/openapi/v3/{relative}"}
    return {"paths": paths}


def openapi_group_version(kinds: KindRegistry, group: str, version: str) -> dict[str, Any]:
    """A minimal OpenAPI v3 document for one group version.

    It lists each kind's object path with the write operations, their
    ``x-kubernetes-group-version-kind`` and the ``fieldValidation`` query parameter: that is
    how kubectl learns it may leave validation to the server (``kubectl apply`` refuses to run
    without either this or a full schema). Object schemas are left open.
    """
    parameter = {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    for kind in kinds.in_group_version(group, version):
        gvk = {"group": group, "version": version, "kind": kind.kind}
        scope = "/namespaces/{namespace}" if kind.namespaced else ""
        operation = {"parameters": [parameter], "x-kubernetes-group-version-kind": gvk,
                     "responses": {"200": {"description": "OK"}}}
        paths[f"{prefix}{scope}/{kind.plural}"] = {"post": operation}
        paths[f"{prefix}{scope}/{kind.plural}/{{name}}"] = {"put": operation,
                                                             "patch": operation}
        schemas[f"{group or 'core'}.{version}.{kind.kind}"] = {
            "type": "object", "x-kubernetes-preserve-unknown-fields": True,
            "x-kubernetes-group-version-kind": [gvk]}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.31.0"},
            "paths": paths, "components": {"schemas": schemas}}
