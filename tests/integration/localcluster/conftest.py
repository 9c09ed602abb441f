"""One conformance suite, two backends: the local cluster and the real control plane.

Every test that talks to Kubernetes only through the ``kube`` client (and the typed API groups
below) runs twice, ``[local]`` against a fresh in-process local cluster and ``[real]`` against
the session's real kube-apiserver (``tests/realcluster/``), as its admin. A test that reaches
into the local cluster itself (it asks for ``cluster``) or is marked ``local_only`` with the
reason runs against the local cluster alone.

Isolation differs by backend, invisibly to the tests: a local test has a cluster of its own and
works in ``default``; a real test works in a fresh namespace (``ns``), and any Namespace or
CustomResourceDefinition it creates is deleted after it, so fixed names can be reused. A real
namespace is handed over once the controller manager has added what it adds to every
namespace (the ``kube-root-ca.crt`` ConfigMap, the ``default`` ServiceAccount); the local
cluster adds neither, and no test here depends on them.
"""

from __future__ import annotations

import contextlib
import inspect
import uuid
from collections.abc import AsyncIterator

import pytest
from kubekit import eventually
from kubernetes_asyncio.client import (
    ApiClient,
    ApiextensionsV1Api,
    AppsV1Api,
    Configuration,
    CoordinationV1Api,
    CoreV1Api,
    CustomObjectsApi,
)
from kubernetes_asyncio.client.exceptions import ApiException
from realcluster.controlplane import ControlPlane, client_configuration

from gateway.localcluster import LocalCluster, LocalClusterSettings

BACKENDS = ("local", "real")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "local_only(reason): a local-cluster behaviour that is not Kubernetes' own")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every ``kube`` test over the backends it can run on."""
    if "backend" not in metafunc.fixturenames:
        return
    asks_for = inspect.signature(metafunc.function).parameters
    local_only = ("cluster" in asks_for
                  or metafunc.definition.get_closest_marker("local_only") is not None)
    metafunc.parametrize("backend", BACKENDS[:1] if local_only else BACKENDS, scope="function")


@pytest.fixture
async def cluster(backend: str) -> AsyncIterator[LocalCluster | None]:
    """The test's own local cluster (fast timings); None on the real backend."""
    if backend != "local":
        yield None
        return
    settings = LocalClusterSettings(pod_start_delay=0.05, bookmark_interval=0.2)
    async with LocalCluster.running(settings) as running:
        yield running


@pytest.fixture
async def kube(backend: str, cluster: LocalCluster | None,
               request: pytest.FixtureRequest) -> AsyncIterator[ApiClient]:
    """A kubernetes-asyncio client to the backend: plain HTTP to the local cluster, or TLS
    with the admin's client certificate to the real apiserver."""
    if cluster is not None:
        async with ApiClient(Configuration(host=cluster.url)) as client:
            yield client
        return
    plane: ControlPlane = request.getfixturevalue("control_plane")
    async with ApiClient(client_configuration(plane.admin)) as client:
        before = await _cluster_scoped(client)
        yield client
        await _delete_created(client, before)


@pytest.fixture
async def ns(backend: str, kube: ApiClient) -> AsyncIterator[str]:
    """The namespace the test works in: ``default`` locally, a fresh one on the real cluster."""
    if backend == "local":
        yield "default"
        return
    name = f"conformance-{uuid.uuid4().hex[:10]}"
    core = CoreV1Api(kube)
    await core.create_namespace({"metadata": {"name": name}})

    async def settled() -> None:
        # What kube-controller-manager adds to every new namespace, in place before the test
        # starts, so no test's watch sees it arrive.
        await core.read_namespaced_config_map("kube-root-ca.crt", name)
        await core.read_namespaced_service_account("default", name)

    await eventually(settled)
    yield name
    with contextlib.suppress(ApiException):
        await core.delete_namespace(name)


async def _cluster_scoped(client: ApiClient) -> tuple[set[str], set[str]]:
    namespaces = await CoreV1Api(client).list_namespace()
    crds = await ApiextensionsV1Api(client).list_custom_resource_definition()
    return ({item.metadata.name for item in namespaces.items},
            {item.metadata.name for item in crds.items})


async def _delete_created(client: ApiClient, before: tuple[set[str], set[str]]) -> None:
    """Delete the Namespaces and CRDs a real-backend test made, and wait until they are gone
    (the next test may create the same names)."""
    namespaces, crds = await _cluster_scoped(client)
    core, extensions = CoreV1Api(client), ApiextensionsV1Api(client)
    fresh_ns = {name for name in namespaces - before[0] if not name.startswith("conformance-")}
    for name in crds - before[1]:
        with contextlib.suppress(ApiException):
            await extensions.delete_custom_resource_definition(name)
    for name in fresh_ns:
        with contextlib.suppress(ApiException):
            await core.delete_namespace(name)
    async def gone() -> None:
        now_ns, now_crds = await _cluster_scoped(client)
        assert not now_ns & fresh_ns, now_ns & fresh_ns
        assert not now_crds & (crds - before[1]), now_crds & (crds - before[1])

    await eventually(gone, deadline=60)


@pytest.fixture
def core(kube: ApiClient) -> CoreV1Api:
    """core/v1."""
    return CoreV1Api(kube)


@pytest.fixture
def apps(kube: ApiClient) -> AppsV1Api:
    """apps/v1."""
    return AppsV1Api(kube)


@pytest.fixture
def custom(kube: ApiClient) -> CustomObjectsApi:
    """Custom resources served for CustomResourceDefinitions."""
    return CustomObjectsApi(kube)


@pytest.fixture
def extensions(kube: ApiClient) -> ApiextensionsV1Api:
    """apiextensions.k8s.io/v1."""
    return ApiextensionsV1Api(kube)


@pytest.fixture
def coordination(kube: ApiClient) -> CoordinationV1Api:
    """coordination.k8s.io/v1."""
    return CoordinationV1Api(kube)
