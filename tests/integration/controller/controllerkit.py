"""Helpers for the controller's integration tests (local cluster + real Redis + real controller).

- :func:`eventually` is how these tests wait: it re-runs an async probe until its assertions
  hold or a deadline passes (never a fixed sleep).
- :func:`settings_for` are the controller's settings with every period short enough for a
  test, pointed at the test's cluster and Redis.
- The builders return the API engineer's typed specs, written with the same functions the API
  uses (``gateway.kube.*.create``), so these tests drive the controller exactly as the product
  does; pod failures are injected the way a kubelet reports them, through ``pods/status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from redis.asyncio import Redis

from gateway.controller.metrics import ControllerMetrics
from gateway.controller.reconciling import Controller
from gateway.controller.running import ControllerProcess
from gateway.controller.settings import ControllerSettings
from gateway.kube import groups, instancetypes, phdeployments
from gateway.kube.client import DEPLOYMENTS, PODS, SERVICES, Kube, Object
from gateway.kube.errors import NotFound
from gateway.kube.groups import GroupSpec, Quota
from gateway.kube.instancetypes import InstanceTypeSpec
from gateway.kube.phdeployments import DeploymentSpec, Endpoint, EnvVar, Predictor
from proxy.records import ROUTES_KEY, Route, decode_route

T = TypeVar("T")

NAMESPACE = "default"
PUBLIC_URL = "https://hub.example.com"
GROUP = "data-team"
INSTANCE_TYPE = "cpu-1"
IMAGE = "registry.example.com/iris:1"
_identities = itertools.count()


async def eventually(probe: Callable[[], Awaitable[T]], *, deadline: float = 10.0) -> T:
    """Run ``probe`` until it returns without AssertionError; return what it returned."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + deadline
    while True:
        try:
            return await probe()
        except AssertionError as error:
            if loop.time() >= give_up_at:
                raise AssertionError(f"still failing after {deadline} s: {error}") from error
        await asyncio.sleep(0.01)


def settings_for(*, cluster_url: str, redis_url: str, **overrides: Any) -> ControllerSettings:
    """Controller settings for a test: this cluster and Redis, short periods."""
    settings = ControllerSettings(
        namespace=NAMESPACE, kubernetes_url=cluster_url, redis_url=redis_url,
        public_url=PUBLIC_URL, identity=f"controller-{next(_identities)}",
        available_deadline=30.0, resync_period=30.0, hash_upgrade_period=0.1, workers=4,
        retry_base=0.01, retry_cap=0.5, lease_duration=1.0, renew_deadline=0.6,
        retry_period=0.1, health_port=0)
    return dataclasses.replace(settings, **overrides)


async def create_group(kube: Kube, *, name: str = GROUP, enabled: bool = True,
                       quota: Quota | None = None) -> None:
    await groups.create(kube, namespace=NAMESPACE, name=name, spec=GroupSpec(
        display_name="Data Team", members=("alice",), enabled_deployment=enabled,
        quota=quota or Quota(), instance_types=(INSTANCE_TYPE,)))


async def create_instance_type(kube: Kube, *, name: str = INSTANCE_TYPE) -> None:
    await instancetypes.create(kube, namespace=NAMESPACE, name=name, spec=InstanceTypeSpec(
        display_name="1 CPU", cpu_limit=1.0, memory_limit=2e9))


def spec(*, replicas: int = 1, image: str = IMAGE, stop: bool = False,
         instance_type: str = INSTANCE_TYPE, group: str = GROUP, model_uri: str | None = None,
         access: str = "public", clients: tuple[str, ...] = (),
         env: tuple[EnvVar, ...] = ()) -> DeploymentSpec:
    """A PhDeployment spec as the API writes one."""
    return DeploymentSpec(
        predictor=Predictor(replicas=replicas, model_image=image, instance_type=instance_type,
                            model_uri=model_uri),
        display_name="Iris", user_id="u-alice", user_name="alice", group_id=group,
        group_name="Data Team", stop=stop, env=env,
        endpoint=Endpoint(access_type="private" if access == "private" else "public",
                          clients=clients))


async def create_deployment(kube: Kube, name: str, **changes: Any) -> None:
    await phdeployments.create(kube, namespace=NAMESPACE, name=name, spec=spec(**changes))


async def update_deployment(kube: Kube, name: str, *, predictor: dict[str, Any] | None = None,
                            **fields: Any) -> None:
    """Change predictor fields and spec fields (by their view names), as the API would."""

    def change(current: phdeployments.PhDeployment) -> DeploymentSpec:
        changed = dataclasses.replace(current.spec.predictor, **(predictor or {}))
        return dataclasses.replace(current.spec, predictor=changed, **fields)

    await phdeployments.change_spec(kube, namespace=NAMESPACE, name=name, change=change)


async def status_of(kube: Kube, name: str) -> Object:
    obj = await kube.get(phdeployments.PHDEPLOYMENTS, namespace=NAMESPACE, name=name)
    status: Object = obj.get("status") or {}
    return status


async def wait_phase(kube: Kube, name: str, phase: str, *, deadline: float = 10.0) -> Object:
    """Wait until the deployment reports ``phase``; returns its status."""

    async def probe() -> Object:
        status = await status_of(kube, name)
        assert status.get("phase") == phase, status.get("message")
        return status

    return await eventually(probe, deadline=deadline)


async def pods_of(kube: Kube, name: str) -> list[Object]:
    listed = await kube.list(PODS, namespace=NAMESPACE,
                             label_selector=f"primehub.io/phdeployment={name}")
    pods: list[Object] = listed.get("items") or []
    return pods


async def inject_pod_status(kube: Kube, pod: Object, status: Object) -> None:
    """Write a pod's status as a kubelet would (the simulation then leaves it alone)."""
    await kube.patch(PODS, namespace=NAMESPACE, name=pod["metadata"]["name"],
                     body={"status": status}, patch_type="merge", subresource="status")


async def absent(read: Callable[[], Awaitable[object]]) -> None:
    """Assert that ``read`` fails with NotFound (inside a probe)."""
    try:
        await read()
    except NotFound:
        return
    raise AssertionError("the object still exists")


def total(metrics: ControllerMetrics, name: str) -> float:
    """The sum of every sample of a counter (all label values)."""
    return sum(sample.value for family in metrics.registry.collect()
               for sample in family.samples if sample.name == name)


WRITES = "model_gateway_controller_writes_total"
RECONCILES = "model_gateway_controller_reconciles_total"


async def route_of(redis: Redis, name: str) -> Route | None:
    raw = await redis.hget(ROUTES_KEY, name)
    return None if raw is None else decode_route(name, raw)


async def versions(kube: Kube, name: str) -> dict[str, str]:
    """The resourceVersions of a deployment and its children."""
    found = {}
    for resource in (phdeployments.PHDEPLOYMENTS, DEPLOYMENTS, SERVICES):
        object_name = name if resource is phdeployments.PHDEPLOYMENTS else f"deploy-{name}"
        obj = await kube.get(resource, namespace=NAMESPACE, name=object_name)
        found[resource.plural] = obj["metadata"]["resourceVersion"]
    return found


@dataclass
class Replica:
    """A controller replica running in this process."""

    process: ControllerProcess
    task: asyncio.Task[None]
    redis: Redis
    stopped: bool = False

    @property
    def controller(self) -> Controller:
        controller = self.process.controller
        assert controller is not None, "this replica is not leading"
        return controller

    async def stop(self) -> None:
        """Shut the replica down the way SIGTERM does (it releases the lease)."""
        if self.stopped:
            return
        self.stopped = True
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.redis.aclose()


class StartController(Protocol):
    async def __call__(self, *, leader: bool = True, **overrides: Any) -> Replica: ...
