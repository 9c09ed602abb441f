"""Leader election with a coordination/v1 Lease: two replicas, one acts; health and metrics."""

from __future__ import annotations

import aiohttp
from controllerkit import (
    NAMESPACE,
    RECONCILES,
    WRITES,
    Replica,
    StartController,
    create_deployment,
    eventually,
    status_of,
    total,
    update_deployment,
    wait_phase,
)

from gateway.kube import leases
from gateway.kube.client import Kube


async def lease(api: Kube) -> leases.LeaseRecord:
    stored = await leases.read(api, namespace=NAMESPACE, name="model-gateway-controller")
    assert stored is not None
    return stored.record


async def holder(api: Kube) -> str:
    return (await lease(api)).holder


async def test_only_the_lease_holder_acts_and_a_standby_takes_over(
        api: Kube, start_controller: StartController) -> None:
    """One of two replicas holds the lease and acts; on its shutdown the other takes over."""
    first = await start_controller()
    second = await start_controller(leader=False)

    async def standing_by() -> None:
        assert await holder(api) == first.process.settings.identity
        assert first.process.elector.leading
        assert not second.process.elector.leading
        assert second.process.metrics.value("model_gateway_controller_leader") == 0

    await eventually(standing_by)
    await create_deployment(api, "iris")
    await wait_phase(api, "iris", "Deployed")
    assert total(first.process.metrics, WRITES) > 0
    assert total(second.process.metrics, RECONCILES) == 0
    assert total(second.process.metrics, WRITES) == 0
    assert second.process.controller is None

    await first.stop()

    async def took_over() -> None:
        assert await holder(api) == second.process.settings.identity
        assert second.process.controller is not None
        assert second.process.controller.synced

    await eventually(took_over, deadline=5.0)
    await update_deployment(api, "iris", predictor={"replicas": 2})

    async def scaled() -> None:
        status = await status_of(api, "iris")
        assert (status["phase"], status["availableReplicas"]) == ("Deployed", 2)

    await eventually(scaled)
    assert total(second.process.metrics, WRITES) > 0
    assert (await lease(api)).transitions == 1


async def test_an_expired_lease_is_taken_over(api: Kube,
                                              start_controller: StartController) -> None:
    """A leader that vanished without releasing loses the lease once it expires."""
    await leases.create(api, namespace=NAMESPACE, name="model-gateway-controller",
                        record=leases.LeaseRecord(holder="crashed-replica", duration_seconds=1,
                                                  renew_time="2024-01-01T00:00:00.000000Z"))
    replica = await start_controller(leader=False)
    await eventually(lambda: _leading(replica), deadline=5.0)
    assert await holder(api) == replica.process.settings.identity


async def test_health_readiness_and_metrics_are_served(
        api: Kube, start_controller: StartController) -> None:
    """/healthz and /readyz answer 200; /metrics exposes reconcile counts and queue depth."""
    replica = await start_controller()
    await create_deployment(api, "iris")
    await wait_phase(api, "iris", "Deployed")
    async with aiohttp.ClientSession() as http:
        for path in ("/healthz", "/readyz"):
            async with http.get(replica.process.health_url + path) as response:
                assert response.status == 200
        async with http.get(replica.process.health_url + "/metrics") as response:
            assert response.status == 200
            text = await response.text()
    for name in ("model_gateway_controller_reconciles_total{result=\"ok\"}",
                 "model_gateway_controller_reconcile_duration_seconds_count",
                 "model_gateway_controller_queue_depth", "model_gateway_controller_leader 1.0",
                 "model_gateway_controller_writes_total{kind=\"deployment\"}"):
        assert name in text, name


async def _leading(replica: Replica) -> None:
    assert replica.process.controller is not None
    assert replica.process.controller.synced
