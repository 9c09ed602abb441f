"""A deployment's life through the controller: create, update, stop, start, delete; and the
controller's own promises: no write when nothing changed, nothing changed by a restart."""

from __future__ import annotations

import logging

import pytest
from controllerkit import (
    NAMESPACE,
    RECONCILES,
    WRITES,
    StartController,
    absent,
    create_deployment,
    create_group,
    eventually,
    pods_of,
    route_of,
    status_of,
    total,
    update_deployment,
    versions,
    wait_phase,
)
from redis.asyncio import Redis

from gateway.controller.queueing import WorkQueue
from gateway.kube import phdeployments
from gateway.kube.client import DEPLOYMENTS, SERVICES, Kube
from gateway.kube.groups import Quota
from proxy.records import Access


async def test_full_lifecycle(api: Kube, redis: Redis, start_controller: StartController) -> None:
    """Create, update (new pods, history), stop (0 pods), start, delete (all gone)."""
    await start_controller()
    await create_deployment(api, "iris", replicas=2)
    status = await wait_phase(api, "iris", "Deployed")
    assert status["availableReplicas"] == 2
    assert status["endpoint"] == "https://hub.example.com/deployment/iris/api/v1.0/predictions"
    service = await api.get(SERVICES, namespace=NAMESPACE, name="deploy-iris")
    workload = await api.get(DEPLOYMENTS, namespace=NAMESPACE, name="deploy-iris")
    owner = await api.get(phdeployments.PHDEPLOYMENTS, namespace=NAMESPACE, name="iris")
    for child in (service, workload):
        assert child["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]
    first_pods = {pod["metadata"]["name"] for pod in await pods_of(api, "iris")}
    assert len(first_pods) == 2
    route = await route_of(redis, "iris")
    assert route is not None
    assert (route.host, route.port, route.access, route.ready, route.stopped) == (
        service["spec"]["clusterIP"], 8000, Access.PUBLIC, True, False)

    await update_deployment(api, "iris", predictor={"model_image": "registry.example.com/iris:2"},
                            update_message="v2")

    async def updated() -> None:
        status = await status_of(api, "iris")
        assert status["phase"] == "Deployed"
        assert status["observedGeneration"] == 2
        pods = await pods_of(api, "iris")
        assert {pod["spec"]["containers"][0]["image"] for pod in pods} == {
            "registry.example.com/iris:2"}
        assert not first_pods & {pod["metadata"]["name"] for pod in pods}

    await eventually(updated)
    history = (await status_of(api, "iris"))["history"]
    assert [entry["spec"]["predictors"][0]["modelImage"] for entry in history] == [
        "registry.example.com/iris:2", "registry.example.com/iris:1"]

    await update_deployment(api, "iris", stop=True)
    status = await wait_phase(api, "iris", "Stopped")
    assert status["message"] == "deployment has stopped"
    assert await pods_of(api, "iris") == []
    route = await route_of(redis, "iris")
    assert route is not None
    assert (route.stopped, route.ready) == (True, False)

    await update_deployment(api, "iris", stop=False)
    status = await wait_phase(api, "iris", "Deployed")
    assert status["availableReplicas"] == 2
    assert len(status["history"]) == 4

    await phdeployments.delete(api, namespace=NAMESPACE, name="iris")

    async def gone() -> None:
        await absent(lambda: api.get(phdeployments.PHDEPLOYMENTS, namespace=NAMESPACE,
                                     name="iris"))
        await absent(lambda: api.get(DEPLOYMENTS, namespace=NAMESPACE, name="deploy-iris"))
        await absent(lambda: api.get(SERVICES, namespace=NAMESPACE, name="deploy-iris"))
        assert await pods_of(api, "iris") == []
        assert await route_of(redis, "iris") is None

    await eventually(gone)


async def test_children_follow_primehubs_shape(api: Kube,
                                               start_controller: StartController) -> None:
    """The applied Deployment and Service carry the labels, port and initializer."""
    await start_controller()
    await create_deployment(api, "iris", model_uri="gs://models/iris")
    await wait_phase(api, "iris", "Deployed")
    workload = await api.get(DEPLOYMENTS, namespace=NAMESPACE, name="deploy-iris")
    service = await api.get(SERVICES, namespace=NAMESPACE, name="deploy-iris")
    labels = {"app": "primehub-deployment", "primehub.io/phdeployment": "iris",
              "primehub.io/group": "escaped--44ata-20-54eam"}
    template = workload["spec"]["template"]
    assert template["metadata"]["labels"] == labels
    assert [c["name"] for c in template["spec"]["initContainers"]] == ["storage-initializer"]
    assert template["spec"]["containers"][0]["ports"][0]["containerPort"] == 9000
    assert service["spec"]["ports"][0]["port"] == 8000
    assert service["spec"]["selector"] == labels
    [pod] = await pods_of(api, "iris")
    assert pod["metadata"]["labels"]["primehub.io/group"] == "escaped--44ata-20-54eam"


async def test_rollouts_stay_within_the_groups_quota(api: Kube,
                                                     start_controller: StartController) -> None:
    """A group with no room for a surge pod rolls pod by pod; an unlimited one surges."""
    await create_group(api, name="tight", quota=Quota(cpu=2))
    await start_controller()
    await create_deployment(api, "roomy", replicas=2)
    await create_deployment(api, "full", replicas=2, group="tight")
    await wait_phase(api, "roomy", "Deployed")
    await wait_phase(api, "full", "Deployed")
    roomy = await api.get(DEPLOYMENTS, namespace=NAMESPACE, name="deploy-roomy")
    full = await api.get(DEPLOYMENTS, namespace=NAMESPACE, name="deploy-full")
    assert roomy["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    assert full["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    await update_deployment(api, "full", predictor={"model_image": "registry.example.com/x:2"})

    async def rolled() -> None:
        status = await status_of(api, "full")
        assert status["observedGeneration"] == 2
        assert status["phase"] == "Deployed"

    await eventually(rolled)


async def test_a_second_reconcile_makes_no_write(api: Kube, redis: Redis,
                                                 start_controller: StartController) -> None:
    """Re-running a reconcile on an unchanged spec writes nothing to Kubernetes or Redis."""
    replica = await start_controller()
    await create_deployment(api, "iris", access="private", clients=("app",))
    await wait_phase(api, "iris", "Deployed")
    await eventually(lambda: _settled(replica.controller.queue))
    before = await versions(api, "iris")
    writes = total(replica.process.metrics, WRITES)
    redis_writes = total(replica.process.metrics, "model_gateway_controller_redis_writes_total")
    for _ in range(2):
        assert await replica.controller.reconcile("iris") is None
    assert await versions(api, "iris") == before
    assert total(replica.process.metrics, WRITES) == writes
    assert total(replica.process.metrics,
                 "model_gateway_controller_redis_writes_total") == redis_writes


async def test_a_restarted_controller_changes_nothing(api: Kube,
                                                      start_controller: StartController) -> None:
    """A new controller reconciling settled deployments makes no write and no history."""
    first = await start_controller()
    await create_deployment(api, "iris")
    await create_deployment(api, "stopped-one", stop=True)
    await wait_phase(api, "iris", "Deployed")
    await wait_phase(api, "stopped-one", "Stopped")
    await eventually(lambda: _settled(first.controller.queue))
    before = {name: await versions(api, name) for name in ("iris", "stopped-one")}
    await first.stop()
    second = await start_controller()

    async def reconciled_all() -> None:
        assert total(second.process.metrics, RECONCILES) >= 2
        await _settled(second.controller.queue)

    await eventually(reconciled_all)
    assert total(second.process.metrics, WRITES) == 0
    assert {name: await versions(api, name) for name in ("iris", "stopped-one")} == before
    assert len((await status_of(api, "iris"))["history"]) == 1


async def _settled(queue: WorkQueue[str]) -> None:
    assert queue.idle


def _phase_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [record.fields for record in caplog.records  # type: ignore[attr-defined]
            if record.name == "gateway.controller.reconciling"
            and record.getMessage() == "phase changed"]


async def test_each_phase_change_is_one_log_line(
        api: Kube, redis: Redis, start_controller: StartController,
        caplog: pytest.LogCaptureFixture) -> None:
    """Every phase a deployment passes through is one log line (id, phase, message), once."""
    caplog.set_level(logging.INFO, logger="gateway.controller.reconciling")
    replica = await start_controller()
    await create_deployment(api, "iris")
    deployed = await wait_phase(api, "iris", "Deployed")
    await update_deployment(api, "iris", stop=True)
    stopped = await wait_phase(api, "iris", "Stopped")
    await eventually(lambda: _settled(replica.controller.queue))
    lines = _phase_lines(caplog)
    assert [line["phase"] for line in lines] == ["Deploying", "Deployed", "Stopping", "Stopped"]
    assert all(line["deployment"] == "iris" for line in lines)
    assert lines[1]["detail"] == deployed["message"]
    assert lines[-1]["detail"] == stopped["message"]
