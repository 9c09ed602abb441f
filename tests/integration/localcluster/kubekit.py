"""Helpers shared by the local cluster conformance suite.

- :func:`eventually` is the only way these tests wait for asynchronous effects (the simulated
  controllers, garbage collector and kubelet): it re-runs an async probe until its assertions
  hold or a deadline passes, then fails with the last assertion.
- :func:`failure` awaits a request that must fail and returns its ``metav1.Status`` body, after
  checking that the body and the HTTP status agree, as kube-apiserver guarantees.
- ``MERGE_PATCH``/``JSON_PATCH``/``APPLY_PATCH``/``STRATEGIC_MERGE_PATCH`` force a patch content
  type. kubernetes-asyncio guesses strategic merge for dict bodies on built-in kinds and JSON
  patch for dict bodies on custom objects; its stubs omit the ``_content_type`` keyword it
  accepts at run time, so the keyword travels in a ``dict[str, Any]`` splatted into the call.
- Manifest builders return plain dicts in wire (camelCase) form, so every test shows exactly
  what a client sends, and the suite can run unchanged against a real kube-apiserver. They are
  typed :data:`Manifest` (``Any``): the client accepts dicts wherever its stubs name a model.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from ipaddress import IPv4Address, IPv4Network, ip_address
from typing import Any, TypeAlias, TypeVar

from kubernetes_asyncio.client import ApiClient, Configuration, V1Pod
from kubernetes_asyncio.client.exceptions import ApiException

T = TypeVar("T")
Manifest: TypeAlias = Any

POLL_INTERVAL = 0.02
DEFAULT_DEADLINE = 10.0
LOOPBACK = IPv4Network("127.0.0.0/8")
IMAGE = "registry.example.com/model:1"

MERGE_PATCH: dict[str, Any] = {"_content_type": "application/merge-patch+json"}
JSON_PATCH: dict[str, Any] = {"_content_type": "application/json-patch+json"}
STRATEGIC_MERGE_PATCH: dict[str, Any] = {
    "_content_type": "application/strategic-merge-patch+json"
}
APPLY_PATCH: dict[str, Any] = {"_content_type": "application/apply-patch+yaml"}
PLAIN_JSON: dict[str, Any] = {"_content_type": "application/json"}


async def eventually(
    probe: Callable[[], Awaitable[T]], *, deadline: float = DEFAULT_DEADLINE
) -> T:
    """Run ``probe`` until it returns without AssertionError/ApiException; return its result."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + deadline
    while True:
        try:
            return await probe()
        except (AssertionError, ApiException) as error:
            if loop.time() >= give_up_at:
                raise AssertionError(f"still failing after {deadline} s: {error}") from error
        await asyncio.sleep(POLL_INTERVAL)


async def failure(request: Awaitable[object]) -> dict[str, Any]:
    """Await a request that must fail; return the ``metav1.Status`` body it failed with."""
    try:
        await request
    except ApiException as error:
        code, body = error.status, error.body
    else:
        raise AssertionError("the request succeeded; a metav1.Status failure was expected")
    assert body, f"HTTP {code} came without a Status body"
    status: dict[str, Any] = json.loads(body)
    assert status["kind"] == "Status", status
    assert status["apiVersion"] == "v1", status
    assert status["status"] == "Failure", status
    assert status["code"] == code, status
    return status


async def absent(read: Callable[[], Awaitable[object]]) -> None:
    """Assert that reading an object answers 404 (usable as an :func:`eventually` probe)."""
    try:
        await read()
    except ApiException as error:
        code, body = error.status, error.body
    else:
        raise AssertionError("the object still exists")
    assert code == 404, f"expected 404, got {code}: {body!r}"


def causes(status: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The ``(field, reason)`` pairs of a Status' ``details.causes``."""
    return {(cause["field"], cause["reason"]) for cause in status["details"]["causes"]}


@asynccontextmanager
async def client_for(url: str) -> AsyncIterator[ApiClient]:
    """An ApiClient for a cluster the test started itself (special settings)."""
    async with ApiClient(Configuration(host=url)) as api:
        yield api


def loopback(address: str | None) -> IPv4Address:
    """Parse an IP the cluster handed out and check it is a 127.0.0.0/8 address."""
    assert address, "no address assigned"
    parsed = ip_address(address)
    assert isinstance(parsed, IPv4Address), address
    assert parsed in LOOPBACK, address
    return parsed


def is_ready(pod: V1Pod) -> bool:
    """True when the pod reports the ``Ready`` condition as ``True``."""
    conditions = pod.status.conditions if pod.status else None
    return any(c.type == "Ready" and c.status == "True" for c in conditions or [])


def meta(
    name: str | None = None,
    *,
    namespace: str | None = None,
    generate_name: str | None = None,
    labels: Mapping[str, str] | None = None,
    finalizers: Iterable[str] = (),
    owners: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Object metadata with only the given fields set."""
    out: dict[str, Any] = {}
    if name is not None:
        out["name"] = name
    if namespace is not None:
        out["namespace"] = namespace
    if generate_name is not None:
        out["generateName"] = generate_name
    if labels:
        out["labels"] = dict(labels)
    if finalizers:
        out["finalizers"] = list(finalizers)
    if owners:
        out["ownerReferences"] = list(owners)
    return out


def namespace(name: str) -> Manifest:
    """A Namespace manifest."""
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(name)}


def config_map(
    name: str | None = None,
    *,
    data: Mapping[str, str] | None = None,
    **metadata: Any,
) -> Manifest:
    """A ConfigMap manifest; extra keywords go to :func:`meta`."""
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(name, **metadata),
    }
    if data is not None:
        body["data"] = dict(data)
    return body


def secret(name: str, **fields: Any) -> Manifest:
    """A Secret manifest; keywords are top-level fields (data, stringData, type)."""
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta(name), **fields}


def owner_reference(
    owner: Any, *, kind: str = "ConfigMap", api_version: str = "v1", block: bool = True
) -> dict[str, Any]:
    """An ownerReference to a typed object returned by the client."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": owner.metadata.name,
        "uid": owner.metadata.uid,
        "blockOwnerDeletion": block,
    }


def container(name: str, image: str = IMAGE, **extra: Any) -> dict[str, Any]:
    """A container spec."""
    return {"name": name, "image": image, **extra}


def pod(
    name: str,
    *,
    containers: Iterable[Mapping[str, Any]] | None = None,
    init_containers: Iterable[Mapping[str, Any]] = (),
    labels: Mapping[str, str] | None = None,
) -> Manifest:
    """A Pod manifest with one ``model`` container unless told otherwise."""
    spec: dict[str, Any] = {
        "containers": [dict(c) for c in containers or [container("model")]],
    }
    inits = [dict(c) for c in init_containers]
    if inits:
        spec["initContainers"] = inits
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta(name, labels=labels),
        "spec": spec,
    }


def deployment(
    name: str,
    *,
    replicas: int,
    containers: Iterable[Mapping[str, Any]] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Manifest:
    """A Deployment manifest selecting its pods by ``app=<name>``."""
    pod_labels = {"app": name, **(labels or {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name, labels={"app": name}),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {"containers": [dict(c) for c in containers or [container("model")]]},
            },
        },
    }


def service(name: str, *, selector: Mapping[str, str], port: int = 80) -> Manifest:
    """A ClusterIP Service manifest with one port and everything else defaulted."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(name),
        "spec": {"selector": dict(selector), "ports": [{"name": "http", "port": port}]},
    }
