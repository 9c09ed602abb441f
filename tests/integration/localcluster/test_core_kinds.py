"""Kind-specific behaviour of Leases, Events, ConfigMaps and Secrets."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from kubekit import Manifest, config_map, failure, meta, namespace, secret
from kubernetes_asyncio.client import CoordinationV1Api, CoreV1Api

RENEWED = "2024-05-01T12:00:00.123456Z"


def lease(holder: str, **spec: Any) -> Manifest:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": meta("controller-leader"),
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": 15, **spec},
    }


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


async def test_lease_round_trips_microsecond_times(
        coordination: CoordinationV1Api, ns: str) -> None:
    """A Lease keeps holder, duration and MicroTime renewTime to the microsecond."""
    created = await coordination.create_namespaced_lease(
        ns, lease("pod-a", acquireTime=RENEWED, renewTime=RENEWED, leaseTransitions=0)
    )
    assert created.spec.holder_identity == "pod-a"
    assert created.spec.lease_duration_seconds == 15
    expected = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    read = await coordination.read_namespaced_lease("controller-leader", ns)
    assert read.spec.renew_time == expected
    assert read.spec.acquire_time == expected


async def test_lease_takeover_with_a_stale_version_conflicts(
    coordination: CoordinationV1Api, ns: str,
) -> None:
    """Two candidates racing from one read: the second update answers 409."""
    created = await coordination.create_namespaced_lease(ns, lease("pod-a"))
    first, second = lease("pod-b", leaseTransitions=1), lease("pod-c", leaseTransitions=1)
    for body in (first, second):
        body["metadata"]["resourceVersion"] = created.metadata.resource_version

    await coordination.replace_namespaced_lease("controller-leader", ns, first)
    status = await failure(
        coordination.replace_namespaced_lease("controller-leader", ns, second)
    )
    assert status["code"] == 409
    assert status["message"].startswith(
        'Operation cannot be fulfilled on leases.coordination.k8s.io "controller-leader"'
    )
    read = await coordination.read_namespaced_lease("controller-leader", ns)
    assert read.spec.holder_identity == "pod-b"
    assert read.spec.lease_transitions == 1


async def test_events_are_stored_and_listed(core: CoreV1Api) -> None:
    """A core/v1 Event keeps its involvedObject, reason, type and count, and lists everywhere."""
    await core.create_namespace(namespace("team"))
    event: Manifest = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": meta("model.17a"),
        "involvedObject": {"kind": "Pod", "name": "model", "namespace": "team"},
        "reason": "BackOff",
        "message": "Back-off pulling image",
        "type": "Warning",
        "count": 3,
        "firstTimestamp": "2024-05-01T12:00:00Z",
        "lastTimestamp": "2024-05-01T12:05:00Z",
        "source": {"component": "kubelet"},
    }
    await core.create_namespaced_event("team", event)
    (stored,) = (await core.list_namespaced_event("team")).items
    assert (stored.involved_object.kind, stored.involved_object.name) == ("Pod", "model")
    assert (stored.reason, stored.type, stored.count) == ("BackOff", "Warning", 3)
    assert stored.source.component == "kubelet"
    everywhere = await core.list_event_for_all_namespaces()
    assert ("team", "model.17a") in {(e.metadata.namespace, e.metadata.name)
                                     for e in everywhere.items}


async def test_config_map_keeps_data_and_binary_data(core: CoreV1Api, ns: str) -> None:
    """A ConfigMap stores string data and base64 binaryData side by side."""
    body = config_map("mixed", data={"app.conf": "workers = 4\n"})
    body["binaryData"] = {"blob": b64(b"\x00\x01\xfe\xff")}
    await core.create_namespaced_config_map(ns, body)
    read = await core.read_namespaced_config_map("mixed", ns)
    assert read.data == {"app.conf": "workers = 4\n"}
    assert base64.b64decode(read.binary_data["blob"]) == b"\x00\x01\xfe\xff"


async def test_secret_data_round_trips_as_base64(core: CoreV1Api, ns: str) -> None:
    """Secret data is base64 on the wire and comes back byte for byte; type defaults to Opaque."""
    body = secret("raw", data={"key": b64(b"\x00s3cr3t\xff")})
    await core.create_namespaced_secret(ns, body)
    read = await core.read_namespaced_secret("raw", ns)
    assert read.type == "Opaque"
    assert base64.b64decode(read.data["key"]) == b"\x00s3cr3t\xff"


async def test_secret_string_data_is_merged_into_data(core: CoreV1Api, ns: str) -> None:
    """stringData is encoded into data, wins over data for the same key, and is not echoed."""
    created = await core.create_namespaced_secret(
        ns,
        secret(
            "mixed",
            data={"kept": b64(b"from data"), "both": b64(b"loses")},
            stringData={"plain": "from stringData", "both": "wins"},
        ),
    )
    assert not created.string_data
    decoded = {key: base64.b64decode(value) for key, value in created.data.items()}
    assert decoded == {"kept": b"from data", "plain": b"from stringData", "both": b"wins"}


async def test_secret_with_invalid_base64_is_bad_request(core: CoreV1Api, ns: str) -> None:
    """Secret data that is not base64 answers 400 BadRequest."""
    status = await failure(
        core.create_namespaced_secret(ns, secret("bad", data={"key": "not base64!"}))
    )
    assert status["code"] == 400
    assert status["reason"] == "BadRequest"
