"""Several predictors: one Deployment and Service each, a route listing them with their
shares, status per predictor, and a removed predictor's objects deleted."""

from __future__ import annotations

import dataclasses
from typing import Any

from controllerkit import (
    NAMESPACE,
    StartController,
    create_deployment,
    create_instance_type,
    eventually,
    inject_pod_status,
    route_of,
    status_of,
    versions,
    wait_phase,
)
from redis.asyncio import Redis

from gateway.kube import phdeployments
from gateway.kube.client import DEPLOYMENTS, PODS, SERVICES, Kube, Object
from gateway.kube.errors import NotFound
from gateway.kube.phdeployments import DeploymentSpec, Predictor, predictor_child_name

CANARY = predictor_child_name("iris", "canary")
NOT_READY = [{"type": "PodScheduled", "status": "True"},
             {"type": "Initialized", "status": "True"},
             {"type": "ContainersReady", "status": "False", "reason": "ContainersNotReady"},
             {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]


async def set_predictors(kube: Kube, name: str, *others: Predictor,
                         primary_share: int | None = None, sticky: bool = False) -> None:
    """Give the deployment these predictors after its primary (as the API would write)."""

    def change(current: phdeployments.PhDeployment) -> DeploymentSpec:
        primary = dataclasses.replace(current.spec.predictor, traffic_percent=primary_share)
        return dataclasses.replace(current.spec, predictor=primary, others=others,
                                   sticky=sticky)

    await phdeployments.change_spec(kube, namespace=NAMESPACE, name=name, change=change)


def canary(share: int, **fields: Any) -> Predictor:
    return Predictor(**{"name": "canary", "replicas": 1, "model_image": "registry/iris:2",
                        "instance_type": "cpu-1", "traffic_percent": share, **fields})


async def exists(kube: Kube, name: str) -> bool:
    try:
        await kube.get(DEPLOYMENTS, namespace=NAMESPACE, name=name)
    except NotFound:
        return False
    return True


async def test_each_predictor_runs_and_is_routed_with_its_share(
        api: Kube, redis: Redis, start_controller: StartController) -> None:
    """A canary at 10% gets its own Deployment and Service (its own labels, env over the
    deployment's), the route lists both with 90/10 and sticky, status.predictors reports each;
    the primary's objects are the same objects as before (nothing restarted)."""
    await start_controller()
    await create_deployment(api, "iris")
    await wait_phase(api, "iris", "Deployed")
    before = await versions(api, "iris")
    await set_predictors(api, "iris", canary(10, env=(phdeployments.EnvVar("V", "2"),)),
                         primary_share=90, sticky=True)

    async def routed() -> None:
        route = await route_of(redis, "iris")
        assert route is not None
        assert [(item.name, item.weight, item.ready) for item in route.predictors] == [
            ("predictor1", 90, True), ("canary", 10, True)]
        assert route.sticky

    await eventually(routed)
    status = await wait_phase(api, "iris", "Deployed")
    assert [(item["name"], item["phase"], item["availableReplicas"])
            for item in status["predictors"]] == [("predictor1", "Deployed", 1),
                                                  ("canary", "Deployed", 1)]
    child = await api.get(DEPLOYMENTS, namespace=NAMESPACE, name=CANARY)
    labels = child["spec"]["template"]["metadata"]["labels"]
    assert labels["model-gateway.io/predictor"] == "canary"
    assert "primehub.io/group" not in labels
    container = child["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry/iris:2"
    assert {"name": "V", "value": "2"} in container["env"]
    await api.get(SERVICES, namespace=NAMESPACE, name=CANARY)
    after = await versions(api, "iris")
    assert after["deployments"] == before["deployments"]
    assert after["services"] == before["services"]


async def test_a_failing_canary_is_named_not_fatal_up_to_ten_percent(
        api: Kube, redis: Redis, start_controller: StartController) -> None:
    """A canary that cannot run at 10% leaves the deployment Deployed with the canary named
    in the message and routed as not ready; at 20% the deployment is Failed; creating the
    canary's instance type (an event about the canary alone) makes it Deployed."""
    await start_controller()
    await create_deployment(api, "iris")
    await wait_phase(api, "iris", "Deployed")
    await set_predictors(api, "iris", canary(10, instance_type="gone"), primary_share=90)

    async def named() -> None:
        status = await status_of(api, "iris")
        assert status.get("phase") == "Deployed", status.get("message")
        assert "Predictor canary (10% of requests) failed: InstanceType not found: gone" in \
            status["message"]
        assert status["predictors"][1]["phase"] == "Failed"

    await eventually(named)
    await set_predictors(api, "iris", canary(20, instance_type="gone"), primary_share=80)
    status = await wait_phase(api, "iris", "Failed")
    assert status["message"].startswith("Predictor canary (20% of requests): ")
    route = await route_of(redis, "iris")
    assert route is not None
    assert route.ready  # the primary still serves, old proxies included
    await create_instance_type(api, name="gone")
    status = await wait_phase(api, "iris", "Deployed")
    assert status["predictors"][1]["phase"] == "Deployed"


async def test_removing_a_predictor_deletes_its_objects(
        api: Kube, redis: Redis, start_controller: StartController) -> None:
    """Dropping the canary from the spec deletes its Deployment and Service and its route
    entry; the primary takes 100% again."""
    await start_controller()
    await create_deployment(api, "iris")
    await set_predictors(api, "iris", canary(50), primary_share=50)

    async def running() -> None:
        assert await exists(api, CANARY)

    await eventually(running)
    await set_predictors(api, "iris")

    async def removed() -> None:
        assert not await exists(api, CANARY)
        route = await route_of(redis, "iris")
        assert route is not None
        assert [(item.name, item.weight) for item in route.predictors] == [("predictor1", 100)]

    await eventually(removed)
    try:
        await api.get(SERVICES, namespace=NAMESPACE, name=CANARY)
    except NotFound:
        pass
    else:
        raise AssertionError("the canary's Service is still there")


async def test_a_canary_that_never_becomes_available_fails_on_its_own_clock(
        api: Kube, start_controller: StartController) -> None:
    """A canary whose pod stays unready (no hard error) fails once the deadline passes,
    counted from its own start, while the primary stays Deployed: at 10% the deployment is
    Deployed and names it."""
    await start_controller(available_deadline=1.0)
    await create_deployment(api, "iris")
    await wait_phase(api, "iris", "Deployed")
    await set_predictors(api, "iris", canary(10), primary_share=90)

    async def canary_pod() -> Object:
        listed = await api.list(PODS, namespace=NAMESPACE,
                                label_selector="model-gateway.io/predictor=canary")
        pods: list[Object] = listed.get("items") or []
        assert len(pods) == 1, pods
        return pods[0]

    await inject_pod_status(api, await eventually(canary_pod), {
        "phase": "Running", "conditions": NOT_READY,
        "containerStatuses": [{"name": "model", "image": "registry/iris:2", "imageID": "",
                               "ready": False, "started": True, "restartCount": 0,
                               "state": {"running": {}}, "lastState": {}}]})

    async def failed_on_its_own() -> None:
        status = await status_of(api, "iris")
        assert status.get("phase") == "Deployed", status.get("message")
        assert [item["phase"] for item in status["predictors"]] == ["Deployed", "Failed"]
        assert "Predictor canary (10% of requests) failed: Failed because the deployment is " \
            "not available for over 1 s" in status["message"]

    await eventually(failed_on_its_own)
