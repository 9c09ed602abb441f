"""Services: ClusterIP allocation on distinct loopback addresses, and kube-apiserver defaults."""

from __future__ import annotations

from kubekit import MERGE_PATCH, eventually, is_ready, loopback, pod, service
from kubernetes_asyncio.client import CoreV1Api, V1Pod


async def test_service_gets_a_loopback_cluster_ip_and_defaults(core: CoreV1Api, ns: str) -> None:
    """A Service gets a 127/8 clusterIP, type ClusterIP, TCP, targetPort=port, affinity None."""
    created = await core.create_namespaced_service(ns, service("api", selector={"app": "a"}))
    spec = created.spec
    ip = loopback(spec.cluster_ip)
    assert spec.cluster_ips == [str(ip)]
    assert spec.type == "ClusterIP"
    assert spec.session_affinity == "None"
    (port,) = spec.ports
    assert (port.name, port.port, port.protocol) == ("http", 80, "TCP")
    assert port.target_port == 80


async def test_services_get_distinct_cluster_ips(core: CoreV1Api, ns: str) -> None:
    """Each Service gets its own address."""
    ips = set()
    for n in range(3):
        created = await core.create_namespaced_service(
            ns, service(f"s{n}", selector={"app": f"a{n}"})
        )
        ips.add(loopback(created.spec.cluster_ip))
    assert len(ips) == 3


async def test_cluster_ip_survives_updates(core: CoreV1Api, ns: str) -> None:
    """A Service keeps its clusterIP when it is patched."""
    created = await core.create_namespaced_service(ns, service("api", selector={"app": "a"}))
    patched = await core.patch_namespaced_service(
        "api", ns, {"metadata": {"labels": {"x": "y"}}}, **MERGE_PATCH
    )
    assert patched.spec.cluster_ip == created.spec.cluster_ip


async def test_cluster_ips_and_pod_ips_never_collide(core: CoreV1Api, ns: str) -> None:
    """Service and pod addresses come from one pool of distinct loopback addresses."""
    await core.create_namespaced_pod(ns, pod("p", labels={"app": "a"}))
    created = await core.create_namespaced_service(ns, service("api", selector={"app": "a"}))

    async def pod_ip() -> V1Pod:
        current: V1Pod = await core.read_namespaced_pod("p", ns)
        assert is_ready(current)
        return current

    current = await eventually(pod_ip)
    assert loopback(current.status.pod_ip) != loopback(created.spec.cluster_ip)
