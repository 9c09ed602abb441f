"""The reconcile loop: watch events in, children, status and data plane out.

:class:`Controller` runs while this process leads. At start it waits for every watch cache,
makes Redis exactly match them (a full resync) and queues every PhDeployment; then
``settings.workers`` workers take deployment ids from the :class:`WorkQueue` (one worker per
id at a time, failed ids retried with backoff) and run :meth:`Controller.reconcile`, which
reads only the caches and writes only what differs:

1. a deleted PhDeployment: its route and credentials leave Redis, then our finalizer is
   removed (so ``kubectl delete`` cleans Redis too); children and the clients Secret follow
   through their owner references;
2. otherwise our finalizer is added if missing; the group and instance type are resolved (a
   problem is reported in PrimeHub's words and any running pods are scaled away);
3. the children from :func:`~gateway.controller.desired.children` are server-side applied
   (:mod:`~gateway.controller.applying`; a Deployment adopted from PrimeHub keeps its pods
   until the spec changes, :mod:`~gateway.controller.adopting`),
   each only when its content hash differs from the live one's (or a Deployment's replicas
   were changed by someone else): an unchanged spec makes no write, so neither does a
   restart; a CPU target adds a HorizontalPodAutoscaler (:mod:`~gateway.controller.
   autoscalers`), deleted when the target goes, and the replicas of a concurrency target
   are the autoscaler's (:mod:`~gateway.controller.scaling`);
4. the status from :func:`~gateway.controller.status.compute` is written when it differs,
   conditional on the resourceVersion read (a stale cache means a 409 and a retry, never a
   lost update or a duplicate history entry);
5. the route and credentials are published when they differ from the last publish.

Every phase change written is one log line (deployment, phase, and the status message as
``detail``), so a log shows
what happened to each deployment, not only the requests it served.

A timer re-runs a deployment when its availability deadline would pass; another resyncs
Redis every ``resync_period``; another checks every ``epoch_period`` that Redis still holds
the last resync's epoch and resyncs at once if not (Redis was flushed or restarted empty);
another applies the proxy's hash-upgrade requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.controller import adopting, autoscalers, desired, publishing, rollouts, status
from gateway.controller.applying import ChildNotOurs, Writes, content_annotation
from gateway.controller.autoscaling import Windows
from gateway.controller.desired import Children, Unbuildable
from gateway.controller.labels import predictor_of
from gateway.controller.metrics import ControllerMetrics
from gateway.controller.publishing import Entry, Publisher
from gateway.controller.queueing import QueueShutDown, WorkQueue
from gateway.controller.scaling import Scaler
from gateway.controller.settings import ControllerSettings
from gateway.controller.upgrading import apply_upgrades
from gateway.controller.watching import Watches
from gateway.kube import clientsecrets, groups, instancetypes, phdeployments
from gateway.kube.client import DEPLOYMENTS, HPAS, SERVICES, Kube, Object
from gateway.kube.clientsecrets import secret_name
from gateway.kube.errors import Conflict, KubeError
from gateway.kube.groups import Group
from gateway.kube.instancetypes import InstanceType
from gateway.kube.phdeployments import (
    PHDEPLOYMENTS,
    PhDeployment,
    Predictor,
    predictor_child_name,
)
from gateway.kube.views import MalformedObject
from proxy.cancelling import raise_if_cancelled

log = logging.getLogger(__name__)

GROUP_NOT_FOUND: Final = "Group Not Found"
GROUP_DISABLED: Final = "The model deployment is not enabled for the selected group"
DEADLINE_MARGIN: Final = 0.01  # recheck just after the deadline, not just before


class Controller:
    def __init__(self, *, kube: Kube, redis: Redis, settings: ControllerSettings,
                 metrics: ControllerMetrics) -> None:
        self._kube = kube
        self._redis = redis
        self._settings = settings
        self._metrics = metrics
        self._namespace = settings.namespace
        self.queue: WorkQueue[str] = WorkQueue(retry_base=settings.retry_base,
                                               retry_cap=settings.retry_cap)
        self.watches = Watches(kube, namespace=settings.namespace, enqueue=self.queue.add)
        self.publisher = Publisher(redis, on_write=lambda kind: metrics.redis_writes.labels(
            kind).inc(), identity=settings.identity)
        self._writes = Writes(kube, namespace=settings.namespace, metrics=metrics)
        self.scaler = Scaler(
            redis=redis, period=settings.autoscale_period, enqueue=self.queue.add,
            windows=Windows(stable=settings.autoscale_stable_window,
                            panic=settings.autoscale_panic_window),
            deployments=self._views, live_replicas=self._live_replicas)
        self.synced = False

    # -- running -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Reconcile until cancelled."""
        self._metrics.queue_depth.set_function(lambda: len(self.queue))
        self.watches.start()
        try:
            await self.watches.wait_synced()
            await self._resync()
            raise_if_cancelled()
            for name in self.watches.deployment_ids():
                self.queue.add(name)
            self.synced = True
            log.info("controller synced; reconciling %d deployments",
                     len(self.watches.deployment_ids()))
            async with asyncio.TaskGroup() as tasks:
                for index in range(self._settings.workers):
                    tasks.create_task(self._work(), name=f"reconcile-worker-{index}")
                tasks.create_task(self._every(self._settings.resync_period, self._resync),
                                  name="redis-resync")
                tasks.create_task(self._every(self._settings.epoch_period,
                                              self._republish_if_lost), name="redis-epoch")
                tasks.create_task(self._every(self._settings.hash_upgrade_period,
                                              self._upgrade_hashes), name="hash-upgrades")
                tasks.create_task(self.scaler.run(), name="autoscaler")
        finally:
            self.synced = False
            self.queue.shutdown()
            await self.watches.stop()

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                name = await self.queue.get()
            except QueueShutDown:
                return
            started = loop.time()
            try:
                recheck = await self.reconcile(name)
            except (Conflict, ChildNotOurs) as error:
                delay = self.queue.retry(name)
                self._metrics.reconciles.labels("retry").inc()
                log.debug("%s: %s; again in %.2fs", name, error, delay)
            except (KubeError, RedisError, OSError) as error:
                delay = self.queue.retry(name)
                stage = "kubernetes" if isinstance(error, KubeError) else "redis"
                self._metrics.errors.labels(stage).inc()
                self._metrics.reconciles.labels("error").inc()
                log.warning("reconciling %s failed (%s); again in %.2fs", name, error, delay)
            except Exception:
                delay = self.queue.retry(name)
                self._metrics.errors.labels("unexpected").inc()
                self._metrics.reconciles.labels("error").inc()
                log.exception("reconciling %s failed unexpectedly; again in %.2fs", name, delay)
            else:
                self.queue.forget(name)
                self._metrics.reconciles.labels("ok").inc()
                if recheck is not None:
                    self.queue.add_after(name, recheck + DEADLINE_MARGIN)
            finally:
                self.queue.done(name)
                self._metrics.reconcile_seconds.observe(loop.time() - started)
            raise_if_cancelled()

    async def _every(self, period: float, job: Callable[[], Awaitable[bool]]) -> None:
        """Run ``job`` every ``period``; after a failure sooner, backing off up to ``period``."""
        failures = 0
        while True:
            await asyncio.sleep(period if not failures else
                                min(period, self._settings.retry_base * 2.0 ** failures))
            failures = 0 if await job() else failures + 1
            raise_if_cancelled()

    async def _resync(self) -> bool:
        try:
            count = await self.publisher.resync(self._snapshot)
        except (RedisError, OSError) as error:
            self._metrics.errors.labels("resync").inc()
            log.warning("resyncing Redis failed: %s", error)
            return False
        log.debug("resynced %d deployments into Redis", count)
        return True

    async def _republish_if_lost(self) -> bool:
        try:
            if await self.publisher.intact():
                return True
        except (RedisError, OSError) as error:
            log.debug("checking the Redis epoch failed: %s", error)
            return False
        self._metrics.errors.labels("redis_data_lost").inc()
        log.warning("Redis lost the data plane (no epoch: flushed or restarted empty); "
                    "republishing everything")
        return await self._resync()

    def _views(self) -> Iterator[PhDeployment]:
        """Every PhDeployment that parses and is not being deleted (for the autoscaler)."""
        for obj in self.watches.phdeployments.items():
            if obj["metadata"].get("deletionTimestamp"):
                continue
            with contextlib.suppress(MalformedObject):
                yield phdeployments.parse(obj)

    def _live_replicas(self, name: str, predictor: str) -> int | None:
        child = self._child(predictor_child_name(name, predictor))
        return None if child is None else int((child.get("spec") or {}).get("replicas") or 0)

    def _snapshot(self) -> Iterator[Entry]:
        for obj in self.watches.phdeployments.items():
            if obj["metadata"].get("deletionTimestamp"):
                continue
            try:
                view = phdeployments.parse(obj)
            except MalformedObject:
                continue
            found = self._entry(view, {item.name: self._context(view, item)
                                       for item in view.spec.predictors})
            if found is not None:
                yield found

    async def _upgrade_hashes(self) -> bool:
        try:
            await apply_upgrades(self._redis, self._kube, namespace=self._namespace)
        except (RedisError, OSError, KubeError) as error:
            self._metrics.errors.labels("hash_upgrade").inc()
            log.warning("applying hash upgrades failed: %s", error)
            return False
        return True

    # -- one deployment ----------------------------------------------------------------------

    async def reconcile(self, name: str) -> float | None:
        """Bring one deployment's children, status and data plane in line with its spec.

        Returns the seconds after which it should be looked at again (a deadline), if any.
        """
        obj = self._writes.recent.latest(PHDEPLOYMENTS, name,
                                         self.watches.get(self.watches.phdeployments, name))
        if obj is None:
            await self.publisher.publish(name, None)
            return None
        if obj["metadata"].get("deletionTimestamp"):
            await self.publisher.publish(name, None)
            await self._writes.drop_finalizer(obj)
            return None
        previous = obj.get("status") or {}
        generation = int(obj["metadata"].get("generation") or 1)
        try:
            view = phdeployments.parse(obj)
        except MalformedObject as error:
            for child in self.watches.children_of(self.watches.deployments, name):
                await self._writes.scale_to_zero(self._child(child["metadata"]["name"]))
            await self.publisher.publish(name, None)
            broken = {**previous, "phase": "Failed", "observedGeneration": generation,
                      "message": f"The resource is malformed: {error}"}
            if broken != previous:
                await self._writes.status(obj, broken)
                _announce(name, previous, broken)
            return None
        obj = await self._writes.ensure_finalizer(obj)
        shares = publishing.shares(view)
        outcomes: list[status.Outcome] = []
        contexts: dict[str, Context] = {}
        for predictor in view.spec.predictors:
            context = contexts[predictor.name] = self._context(view, predictor)
            seen = previous if predictor is view.spec.predictor else \
                status.predictor_previous(previous, predictor.name)
            outcome = await self._reconcile_predictor(
                obj, view, predictor, context, generation=generation, previous=seen)
            outcomes.append(status.Outcome(predictor.name, shares[predictor.name], outcome))
        await self._remove_others(view)
        computed = status.combine(outcomes, routed_shares=sum(view.spec.weights().values()))
        decisions = self.scaler.status(view, previous.get("autoscaling"))
        if decisions is not None:
            computed.status["autoscaling"] = decisions
        if computed.status != previous:
            await self._writes.status(obj, computed.status)
            _announce(name, previous, computed.status)
        await self.publisher.publish(name, self._entry(view, contexts))
        return computed.recheck_after

    async def _reconcile_predictor(self, obj: Object, view: PhDeployment, predictor: Predictor,
                                   context: Context, *, generation: int,
                                   previous: Mapping[str, Any]) -> status.Computed:
        """Apply one predictor's children; its status as if it were the whole deployment."""
        child_name = predictor_child_name(view.name, predictor.name)
        made: Children | None = None
        replicas = self.scaler.replicas(view, predictor, self._child(child_name))
        if context.group is not None and context.instance_type is not None \
                and context.problem is None:
            made = desired.children(
                view, predictor=predictor, group=context.group,
                instance_type=context.instance_type, settings=self._settings,
                running=not view.spec.stop,
                rollout=self._rollout(view, predictor, context.group, context.instance_type,
                                      replicas))
            if not view.spec.stop:  # the hash covers the template; replicas compare apart
                made.deployment["spec"]["replicas"] = replicas
            live = self._child(child_name)
            if adopting.kept(live, generation=generation):
                await self._writes.scale(live, replicas=made.deployment["spec"]["replicas"])
            else:
                await self._writes.apply(DEPLOYMENTS, live=live, body=made.deployment,
                                         owner_uid=view.uid)
            await self._writes.apply(SERVICES, body=made.service, owner_uid=view.uid,
                                     live=self._service(child_name))
        hpa = autoscalers.autoscaler(view, predictor, made) if made is not None else None
        live_hpa = self.watches.get(self.watches.autoscalers, child_name)
        if hpa is not None:
            await self._writes.apply(HPAS, body=hpa, owner_uid=view.uid, live=live_hpa)
        elif live_hpa is not None:
            await self._writes.delete(HPAS, live_hpa)
        if made is None:
            await self._writes.scale_to_zero(self._child(child_name))
        child = self._child(child_name)
        pods = [pod for pod in self.watches.pods_of(view.name)
                if predictor_of(pod["metadata"].get("labels")) == predictor.name]
        return status.compute(status.Observation(
            name=view.name, generation=generation, spec=obj["spec"], stopped=view.spec.stop,
            replicas=replicas, previous=previous, problem=context.problem,
            wakeable=predictor.name in self.scaler.wakeable(view),
            autoscaled=predictor.autoscaling is not None,
            child=child, child_current=(adopting.current(child) if made is not None
                                        and adopting.kept(child, generation=generation)
                                        else _current(child, made)),
            pods=pods, now=datetime.now(UTC)),
            base_url=self._settings.endpoint_base, deadline=self._settings.available_deadline)

    async def _remove_others(self, view: PhDeployment) -> None:
        """Delete the children of predictors the spec no longer has (ours only: owned by
        this resource and labelled with it)."""
        wanted = {predictor_child_name(view.name, item.name) for item in view.spec.predictors}
        for resource, informer in ((DEPLOYMENTS, self.watches.deployments),
                                   (SERVICES, self.watches.services),
                                   (HPAS, self.watches.autoscalers)):
            for child in self.watches.children_of(informer, view.name):
                meta = child["metadata"]
                if meta["name"] not in wanted and not meta.get("deletionTimestamp") and any(
                        ref.get("uid") == view.uid
                        for ref in meta.get("ownerReferences") or []):
                    await self._writes.delete(resource, child)

    def _child(self, child_name: str) -> Object | None:
        """A live Deployment of ours, by name: cached, or as we last wrote it."""
        return self._writes.recent.latest(
            DEPLOYMENTS, child_name, self.watches.get(self.watches.deployments, child_name))

    def _service(self, child_name: str) -> Object | None:
        return self._writes.recent.latest(
            SERVICES, child_name, self.watches.get(self.watches.services, child_name))

    def _context(self, view: PhDeployment, predictor: Predictor | None = None) -> Context:
        """The group and instance type a predictor (the primary unless given) needs, or what
        is wrong with them."""
        predictor = predictor or view.spec.predictor
        group_id = view.spec.group_id or ""
        found = self.watches.get(self.watches.groups, group_id)
        if found is None:
            return Context(problem=GROUP_NOT_FOUND)
        try:
            group = groups.parse(found)
        except MalformedObject as error:
            return Context(problem=f"Group {group_id} is malformed: {error}")
        if not group.spec.enabled_deployment:
            return Context(group=group, problem=GROUP_DISABLED)
        type_name = predictor.instance_type
        found = self.watches.get(self.watches.instance_types, type_name)
        if found is None:
            return Context(group=group, problem=f"InstanceType not found: {type_name}")
        try:
            instance_type = instancetypes.parse(found)
        except MalformedObject as error:
            return Context(group=group, problem=f"InstanceType {type_name} is malformed: {error}")
        try:
            desired.check(predictor, group=group, settings=self._settings)
        except Unbuildable as error:
            return Context(group=group, instance_type=instance_type, problem=str(error))
        return Context(group=group, instance_type=instance_type)

    def _rollout(self, view: PhDeployment, predictor: Predictor, group: Group,
                 instance_type: InstanceType, replicas: int) -> rollouts.Rollout:
        own = predictor_child_name(view.name, predictor.name)
        live = self._child(own)
        quota = group.spec.quota
        others: list[tuple[int, rollouts.PodSize]] = []
        if (quota.cpu, quota.memory, quota.gpu) != (None, None, None):
            for member in self.watches.members(group.name):
                for other in self.watches.children_of(self.watches.deployments, member):
                    if other["metadata"]["name"] != own:
                        others.append((rollouts.replicas_of(other),
                                       rollouts.size_of_template(other)))
        return rollouts.plan(
            quota=quota, replicas=replicas,
            new_size=rollouts.size_of_instance_type(instance_type.spec),
            old_size=rollouts.size_of_template(live) if live is not None else None,
            others=others)

    def _entry(self, view: PhDeployment, contexts: Mapping[str, Context]) -> Entry | None:
        stored = clientsecrets.ClientHashes(view.name)
        secret = self.watches.get(self.watches.secrets, secret_name(view.name))
        if secret is not None:
            with contextlib.suppress(MalformedObject):
                stored = clientsecrets.parse(secret)
        details = stored.details
        expiries = {client: found.expires() for client, found in details.items()}
        previous = {}  # a rotated-out hash without its end of overlap is not published
        for client, old_hash in stored.previous.items():
            ends = details[client].previous_expires() if client in details else None
            if ends is not None:
                previous[client] = (old_hash, ends)
        primary = predictor_child_name(view.name, view.spec.predictor.name)
        others = {}
        for predictor in view.spec.others:
            own = predictor_child_name(view.name, predictor.name)
            context = contexts.get(predictor.name)
            others[predictor.name] = publishing.Live(
                service=self._service(own), child=self._child(own),
                healthy=context is not None and context.problem is None)
        found = contexts.get(view.spec.predictor.name)
        return publishing.entry(view, service=self._service(primary),
                                child=self._child(primary), hashes=stored.hashes,
                                expiries=expiries, previous=previous, others=others,
                                healthy=found is not None and found.problem is None,
                                wakeable=self.scaler.wakeable(view),
                                sleeping=self.scaler.sleeping(view))


@dataclass(frozen=True)
class Context:
    """What a deployment's children need besides its spec; ``problem`` None: all found."""

    group: Group | None = None
    instance_type: InstanceType | None = None
    problem: str | None = None


def _announce(name: str, previous: Mapping[str, Any], written: Mapping[str, Any]) -> None:
    """One log line per phase change that reached the resource: what happened, in the log."""
    if written.get("phase") != previous.get("phase"):
        log.info("phase changed", extra={"fields": {
            "deployment": name, "phase": written.get("phase"),
            "detail": written.get("message")}})


def _current(child: Object | None, made: Children | None) -> bool:
    """The live Deployment is the one last applied, and its status describes it."""
    if child is None or made is None or (
            content_annotation(child) != content_annotation(made.deployment)):
        return False
    observed = (child.get("status") or {}).get("observedGeneration")
    return isinstance(observed, int) and observed >= int(child["metadata"].get("generation") or 1)
