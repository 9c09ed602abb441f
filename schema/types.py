"""GraphQL object types: PrimeHub's shapes exactly (reference/primehub-contract.md), plus
additive fields and admin types.

Each type is built from a cached view by its ``from_view``; fields that need more than the
view (an instance type, pods, usage counts) resolve from the caches in the context. Additive
fields: ``Group.members``, the quota fields the SDK's ``groups list`` asks for
(``quotaCpu``, ``quotaGpu``, ``quotaMemory`` = our per-pod quota; ``projectQuota*`` = null, we
have no group-total quota), ``User.firstName/lastName/email`` (null), ``ApiToken``.

Fields PrimeHub's console selects that mean nothing here (shared volumes, job deadlines, group
admins, invitations, images, datasets) answer PrimeHub's own empty or default value, typed as
PrimeHub types them, and their descriptions say so. Memory is shown as PrimeHub shows it: the
number of ``G``/``Gi`` written (:func:`gateway.kube.quantities.gigabytes`).

History entries are deployments built from the recorded spec, with PrimeHub's id
``<id>-<time>``, no status, pods or history of their own.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import strawberry
from redis.exceptions import RedisError
from strawberry.scalars import JSON

from gateway import scopes
from gateway.kube import clientsecrets
from gateway.kube import phdeployments as views
from gateway.kube.apitokens import ApiToken as ApiTokenView
from gateway.kube.autoscaling import Autoscaling as AutoscalingView
from gateway.kube.clientsecrets import ClientDetails
from gateway.kube.groups import Group as GroupView
from gateway.kube.instancetypes import MEMORY_LIMIT, MEMORY_REQUEST
from gateway.kube.instancetypes import InstanceType as InstanceTypeView
from gateway.kube.quantities import GIBI, GIGA, gigabytes
from schema.context import Info
from schema.elsewhere import Dataset, Image, QueryImageMode, not_here
from schema.failures import DeploymentFailure, explain
from schema.inputs import AUTOSCALING_HELP, STORAGE_CREDENTIALS_HELP
from schema.rules import running

log = logging.getLogger(__name__)


@strawberry.type
class EnvVar:
    name: str | None = None
    value: str | None = None


@strawberry.type
class Pod:
    name: str | None = None
    phase: str | None = None
    log_endpoint: str | None = None


def _client_details(root: PhDeploymentClient, info: Info) -> ClientDetails:
    """The details kept beside the client's hash (:mod:`gateway.kube.clientsecrets`)."""
    stored = info.context.services.store.client_details.get(
        clientsecrets.secret_name(root.deployment_id))
    return (stored or {}).get(root.name or "") or ClientDetails()


def _client_created_at(root: PhDeploymentClient, info: Info) -> str | None:
    return _client_details(root, info).created_at


def _client_created_by(root: PhDeploymentClient, info: Info) -> str | None:
    return _client_details(root, info).created_by


def _client_expires_at(root: PhDeploymentClient, info: Info) -> str | None:
    return _client_details(root, info).expires_at


def _client_rotated_at(root: PhDeploymentClient, info: Info) -> str | None:
    return _client_details(root, info).rotated_at


async def _client_last_used_at(root: PhDeploymentClient, info: Info) -> str | None:
    if root.name is None:
        return None
    try:
        moment = await info.context.services.data_plane.last_used(root.deployment_id,
                                                                  root.name)
    except (RedisError, OSError, ValueError) as error:
        log.warning("lastUsedAt unknown, the usage counters cannot be read: %s", error)
        return None
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


@strawberry.type
class PhDeploymentClient:
    name: str | None = None
    deployment_id: strawberry.Private[str] = ""
    created_at: str | None = strawberry.field(
        resolver=_client_created_at, description="When the client was created (ISO 8601); "
        "null for a client created before this was recorded.")
    created_by: str | None = strawberry.field(
        resolver=_client_created_by, description="Who created the client; null if unknown.")
    expires_at: str | None = strawberry.field(
        resolver=_client_expires_at, description="When the client's token stops working "
        "(ISO 8601); null: never.")
    rotated_at: str | None = strawberry.field(
        resolver=_client_rotated_at, description="When the client's token was last rotated "
        "(ISO 8601); null: never.")
    last_used_at: str | None = strawberry.field(
        resolver=_client_last_used_at, description="When the proxies last let the client in "
        "(ISO 8601, as of their last usage flush, every few seconds); null: never, or not "
        "known now.")


@strawberry.type
class PhDeploymentClientCreateResponse:
    name: str | None = None
    plain_text_token: str | None = None


@strawberry.type
class Toleration:
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None


def _gigabytes(amount: float | None) -> float | None:
    return None if amount is None else amount / GIGA


def _shown_memory(raw: Mapping[str, Any], key: str, amount: float | None) -> float | None:
    """Memory as PrimeHub shows it, from the quantity as written (``amount``: in bytes, the
    fallback for a value written some other way)."""
    written = raw.get(key)
    if isinstance(written, str | int | float) and not isinstance(written, bool):
        with contextlib.suppress(ValueError):
            return gigabytes(written)
    return _gigabytes(amount)


@strawberry.type
class InstanceType:
    id: strawberry.ID
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    cpu_limit: float | None = None
    memory_limit: float | None = None
    gpu_limit: int | None = None
    cpu_request: float | None = None
    memory_request: float | None = None
    is_global: bool | None = strawberry.field(name="global", default=False)
    tolerations: list[Toleration | None] = strawberry.field(default_factory=list)
    node_selector: JSON | None = None
    spec: JSON | None = strawberry.field(
        default=None, description="The InstanceType resource's spec as stored (PrimeHub's "
        "dotted keys: `limits.cpu`, `limits.memory`, ...).")

    @classmethod
    def from_view(cls, view: InstanceTypeView) -> InstanceType:
        spec = view.spec
        return cls(id=strawberry.ID(view.name), name=view.name, display_name=view.display_name,
                   description=spec.description, cpu_limit=spec.cpu_limit or 0.0,
                   memory_limit=_shown_memory(view.raw, MEMORY_LIMIT, spec.memory_limit),
                   gpu_limit=spec.gpu_limit,
                   cpu_request=spec.cpu_request or 0.0,
                   memory_request=_shown_memory(view.raw, MEMORY_REQUEST, spec.memory_request),
                   tolerations=[Toleration(key=item.key, operator=item.operator,
                                           value=item.value, effect=item.effect)
                                for item in spec.tolerations],
                   node_selector=JSON(dict(spec.node_selector)), spec=JSON(dict(view.raw)))

    @classmethod
    def missing(cls, name: str) -> InstanceType:
        """PrimeHub's stand-in for a deployment whose instance type was deleted."""
        return cls(id=strawberry.ID(f"{name}-not-found"), name=name)


@strawberry.type(description=(
    "One version of the model a deployment serves. The first is the primary, which the "
    "deployment's own modelImage, replicas, ... describe (PrimeHub's fields)."))
class PhDeploymentPredictor:
    name: str
    primary: bool
    model_image: str | None = None
    model_uri: str | None = strawberry.field(name="modelURI", default=None)
    instance_type: str | None = strawberry.field(
        default=None, description="The name of the predictor's instance type.")
    replicas: int | None = None
    available_replicas: int | None = None
    traffic_percent: int = strawberry.field(
        default=0, description="Its share of the requests to /deployment/<id>/ (0 to 100).")
    env: list[EnvVar] = strawberry.field(
        default_factory=list, description="Its own variables, over the deployment's env.")
    endpoint: str | None = strawberry.field(
        default=None, description="Its own URL: /deployment/<id>@<name>/api/v1.0/predictions "
        "(whatever its share).")
    status: str | None = strawberry.field(
        default=None, description="Its phase as the controller last saw it (Deploying, "
        "Deployed, Stopping, Stopped, Failed).")
    message: str | None = None
    autoscaling: Autoscaling | None = strawberry.field(default=None,
                                                       description=AUTOSCALING_HELP)


def _predictors(root: PhDeployment) -> list[PhDeploymentPredictor]:
    spec = root.spec_view
    if spec is None:
        return []
    weights = spec.weights()
    observed = root.view.status if root.view is not None else None
    found = []
    for index, predictor in enumerate(spec.predictors):
        seen = observed.of(predictor.name) if observed is not None else None
        available = seen.available_replicas if seen is not None else None
        if available is None and index == 0 and root.live:
            available = root.available_replicas
        endpoint = None
        if root.live and root.endpoint:
            endpoint = root.endpoint.replace(f"/deployment/{root.deployment_id}/",
                                             f"/deployment/{root.deployment_id}@"
                                             f"{predictor.name}/", 1)
        found.append(PhDeploymentPredictor(
            name=predictor.name, primary=index == 0, model_image=predictor.model_image,
            model_uri=predictor.model_uri, instance_type=predictor.instance_type,
            replicas=predictor.replicas, available_replicas=available,
            traffic_percent=weights[predictor.name],
            env=[EnvVar(name=item.name, value=item.value) for item in predictor.env],
            endpoint=endpoint, status=seen.phase if seen is not None else None,
            message=seen.message if seen is not None else None,
            autoscaling=Autoscaling.from_view(predictor.autoscaling)))
    return found


@strawberry.type
class HistoryItem:
    time: str | None = None
    deployment: PhDeployment | None = None


def _failure(root: PhDeployment) -> DeploymentFailure | None:
    return explain(root.view) if root.view is not None else None


@strawberry.type(description=AUTOSCALING_HELP)
class Autoscaling:
    min_replicas: int
    max_replicas: int
    target_concurrency: float | None = None
    target_cpu_percent: int | None = strawberry.field(name="targetCPUPercent", default=None)
    scale_to_zero_after_seconds: int | None = strawberry.field(
        default=None, description="Seconds without a request before scaling to zero "
        "(minReplicas 0 only; 300 when it was left out).")

    @classmethod
    def from_view(cls, view: AutoscalingView | None) -> Autoscaling | None:
        if view is None:
            return None
        return cls(min_replicas=view.min_replicas, max_replicas=view.max_replicas,
                   target_concurrency=view.target_concurrency,
                   target_cpu_percent=view.target_cpu_percent,
                   scale_to_zero_after_seconds=(view.idle_seconds if view.scales_to_zero
                                                else None))


@strawberry.type
class PhDeployment:
    id: strawberry.ID
    status: str | None = None
    message: str | None = None
    name: str | None = None
    description: str | None = None
    update_message: str | None = None
    metadata: JSON | None = None
    stop: bool | None = None
    user_id: str | None = None
    user_name: str | None = None
    group_id: str | None = None
    group_name: str | None = None
    endpoint: str | None = None
    model_image: str | None = None
    model_uri: str | None = strawberry.field(name="modelURI", default=None)
    replicas: int | None = None
    available_replicas: int | None = None
    image_pull_secret: str | None = None
    model_uri_secret: str | None = strawberry.field(name="modelURISecret", default=None,
                                                    description=STORAGE_CREDENTIALS_HELP)
    autoscaling: Autoscaling | None = strawberry.field(default=None,
                                                       description=AUTOSCALING_HELP)
    creation_time: str | None = None
    last_updated_time: str | None = None
    env: list[EnvVar | None] | None = None
    endpoint_access_type: str | None = None
    endpoint_clients: list[PhDeploymentClient | None] | None = None
    deployment_id: strawberry.Private[str]
    instance_type_name: strawberry.Private[str]
    recorded: strawberry.Private[tuple[views.HistoryEntry, ...]] = ()
    live: strawberry.Private[bool] = True
    view: strawberry.Private[views.PhDeployment | None] = None  # the live resource, if any
    spec_view: strawberry.Private[views.DeploymentSpec | None] = None
    sticky: bool | None = strawberry.field(default=None, description=(
        "Each client reaches the same predictor every time (setPhDeploymentTraffic sets it)."))
    predictors: list[PhDeploymentPredictor] = strawberry.field(
        resolver=_predictors, description=("The versions of the model it serves, primary "
                                           "first, with their shares of the requests."))
    failure: DeploymentFailure | None = strawberry.field(
        resolver=_failure, description=("Why the deployment failed and what to do, while "
                                        "its status is `Failed`; null otherwise."))

    @classmethod
    def from_view(cls, view: views.PhDeployment, *, public_url: str | None) -> PhDeployment:
        status = view.status
        endpoint = status.endpoint
        if endpoint is None and public_url is not None:
            endpoint = f"{public_url}/deployment/{view.name}/api/v1.0/predictions"
        return cls._from_spec(
            view.spec, id=view.name, deployment_id=view.name, status=view.effective_status,
            message=status.message, endpoint=endpoint,
            available_replicas=status.available_replicas,
            creation_time=view.creation_timestamp, recorded=status.history, live=True,
            view=view)

    @classmethod
    def from_history(cls, deployment_id: str, entry: views.HistoryEntry) -> PhDeployment:
        return cls._from_spec(entry.spec, id=f"{deployment_id}-{entry.time}",
                              deployment_id=deployment_id, live=False)

    @classmethod
    def gone(cls, deployment_id: str) -> PhDeployment:
        """What ``deletePhDeployment`` returns: the id of what was deleted."""
        return cls(id=strawberry.ID(deployment_id), deployment_id=deployment_id,
                   instance_type_name="", live=False)

    @classmethod
    def _from_spec(cls, spec: views.DeploymentSpec, *, id: str, deployment_id: str,
                   status: str | None = None, message: str | None = None,
                   endpoint: str | None = None, available_replicas: int | None = None,
                   creation_time: str | None = None,
                   recorded: tuple[views.HistoryEntry, ...] = (),
                   live: bool, view: views.PhDeployment | None = None) -> PhDeployment:
        predictor = spec.predictor
        return cls(
            id=strawberry.ID(id), status=status, message=message, name=spec.display_name,
            description=spec.description, update_message=spec.update_message,
            metadata=JSON(dict(predictor.metadata)), stop=spec.stop, user_id=spec.user_id,
            user_name=spec.user_name, group_id=spec.group_id, group_name=spec.group_name,
            endpoint=endpoint, model_image=predictor.model_image, model_uri=predictor.model_uri,
            replicas=predictor.replicas, available_replicas=available_replicas,
            image_pull_secret=predictor.image_pull_secret,
            model_uri_secret=predictor.model_uri_secret,
            autoscaling=Autoscaling.from_view(predictor.autoscaling), creation_time=creation_time,
            last_updated_time=spec.update_time,
            env=[EnvVar(name=item.name, value=item.value) for item in spec.env],
            endpoint_access_type=spec.endpoint.access_type,
            endpoint_clients=[PhDeploymentClient(name=name, deployment_id=deployment_id)
                              for name in spec.endpoint.clients],
            deployment_id=deployment_id, instance_type_name=predictor.instance_type,
            recorded=recorded, live=live, view=view, spec_view=spec, sticky=spec.sticky)

    @strawberry.field
    def instance_type(self, info: Info) -> InstanceType | None:
        if not self.instance_type_name:
            return None
        found = info.context.services.store.instance_types.get(self.instance_type_name)
        if found is None:
            return InstanceType.missing(self.instance_type_name)
        return InstanceType.from_view(found)

    @strawberry.field
    def pods(self, info: Info) -> list[Pod | None] | None:
        if not self.live:
            return []
        services = info.context.services
        base = f"{services.settings.api_public_url}/logs/namespaces/{services.namespace}"
        return [Pod(name=pod.name, phase=pod.phase,
                    log_endpoint=f"{base}/phdeployments/{pod.name}")
                for pod in services.store.pods_of(self.deployment_id)]

    @strawberry.field
    def history(self) -> list[HistoryItem | None] | None:
        return [HistoryItem(time=entry.time,
                            deployment=PhDeployment.from_history(self.deployment_id, entry))
                for entry in self.recorded]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None = None
    end_cursor: str | None = None
    current_page: int | None = None
    total_page: int | None = None


@strawberry.type
class PhDeploymentEdge:
    node: PhDeployment
    cursor: str


@strawberry.type
class PhDeploymentConnection:
    page_info: PageInfo
    edges: list[PhDeploymentEdge | None]


def _group_resources(root: Group, info: Info) -> ResourceStatus:
    store = info.context.services.store
    cpu = memory = gpu = 0.0
    for deployment in store.deployments.values():
        if deployment.spec.group_id != root.id:
            continue
        for pod in store.pods_of(deployment.name):
            if pod.phase in ("Pending", "Running"):
                cpu, memory, gpu = (cpu + pod.cpu_limit, memory + pod.memory_limit,
                                    gpu + pod.gpu_limit)
    return ResourceStatus(group_id=root.id, cpu_usage=_number(cpu),
                          mem_usage=_number(round(memory / GIBI, 1)), gpu_usage=_number(gpu))


def _no_datasets() -> list[Dataset | None]:
    return []


def _no_images(mode: QueryImageMode | None = None) -> list[Image | None]:
    return []


@strawberry.type
class Group:
    id: strawberry.ID
    name: str | None = None
    display_name: str | None = None
    enabled_deployment: bool | None = None
    max_deploy: int | None = None
    quota_cpu: float | None = None
    quota_gpu: int | None = None
    quota_memory: float | None = None
    project_quota_cpu: float | None = None
    project_quota_gpu: int | None = None
    project_quota_memory: float | None = None
    members: list[str] | None = None
    claims: list[str] | None = strawberry.field(
        default=None, description="PersistentVolumeClaims its deployments may mount "
        "(pvc://<claim>/<path>), assigned by an admin.")
    image_pull_secrets: list[str] | None = strawberry.field(
        default=None, description="Secrets its deployments may name as imagePullSecret.")
    storage_secrets: list[str] | None = strawberry.field(
        default=None, description="Secrets its deployments may name as modelURISecret.")
    admins: str | None = strawberry.field(
        default="", description="Always empty (PrimeHub's comma-separated group admins): "
        "groups are administered by platform admins here.")
    enabled_shared_volume: bool | None = strawberry.field(
        default=False, description="Always false: PrimeHub's group shared volume does not "
        "exist here.")
    shared_volume_capacity: int | None = strawberry.field(
        default=None, description="Always null: there is no group shared volume here.")
    launch_group_only: bool | None = strawberry.field(
        default=None, description="Always null: a setting of PrimeHub's shared volumes.")
    job_default_active_deadline_seconds: int | None = strawberry.field(
        default=None, description="Always null: PrimeHub's jobs do not exist here.")
    instance_type_names: strawberry.Private[tuple[str, ...]] = ()

    @classmethod
    def from_view(cls, view: GroupView) -> Group:
        spec = view.spec
        return cls(id=strawberry.ID(view.name), name=view.name, display_name=view.display_name,
                   enabled_deployment=spec.enabled_deployment, max_deploy=spec.max_deploy,
                   quota_cpu=spec.quota.cpu, quota_gpu=spec.quota.gpu,
                   quota_memory=_shown_memory(view.raw.get("quota") or {}, "memory",
                                              spec.quota.memory),
                   members=list(spec.members), claims=list(spec.claims),
                   image_pull_secrets=list(spec.image_pull_secrets),
                   storage_secrets=list(spec.storage_secrets),
                   instance_type_names=spec.instance_types)

    resource_status: ResourceStatus | None = strawberry.field(
        resolver=_group_resources,
        description="What the group's model pods that are pending or running have as limits, "
        "summed as PrimeHub sums them: CPU cores, memory in GiB (one decimal), GPUs.")
    datasets: list[Dataset | None] | None = strawberry.field(
        resolver=_no_datasets, description=not_here("datasets"))
    images: list[Image | None] | None = strawberry.field(
        resolver=_no_images, description=not_here("images"))

    @strawberry.field
    def deployments_usage(self, info: Info) -> int | None:
        return running(info.context.services.store.deployments.values(), group_id=self.id)

    @strawberry.field
    def instance_types(self, info: Info) -> list[InstanceType | None] | None:
        cache = info.context.services.store.instance_types
        return [InstanceType.from_view(found) for name in self.instance_type_names
                if (found := cache.get(name)) is not None]


@strawberry.type(description="PrimeHub's group resource status: usage as strings.")
class ResourceStatus:
    group_id: str | None = None
    cpu_usage: str | None = None
    mem_usage: str | None = None
    gpu_usage: str | None = None


def _number(value: float) -> str:
    """A number as PrimeHub's API (JavaScript) turns it into a string: ``1``, ``0.5``."""
    return str(int(value)) if value.is_integer() else repr(value)


def _user_groups(root: User, info: Info) -> list[Group | None]:
    groups = info.context.services.store.groups
    found = [view for view in groups.values()
             if root.group_names is None or view.name in root.group_names]
    return [Group.from_view(view) for view in sorted(found, key=lambda view: view.name)]


@strawberry.type
class User:
    id: strawberry.ID
    username: str | None = None
    is_admin: bool | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    enable_invite_users: bool | None = strawberry.field(
        default=False, description="Always false: PrimeHub's invitations do not exist here.")
    scopes: list[str] | None = strawberry.field(
        default=None, description="What this request's credential may do (read, "
        "deployments:write, admin; see apiTokens): a console session has the scopes of the "
        "API token it was signed in with; single sign-on, the user's full rights. A console "
        "hides what these do not allow.")
    api_token_id: str | None = strawberry.field(
        default=None, description="The id of the API token this request acts through (for a "
        "console session, the one it was signed in with; bootstrap for the bootstrap token); "
        "null for single sign-on. The audit trail records it as the actor's token id.")
    group_names: strawberry.Private[frozenset[str] | None] = None  # None: every group

    effective_groups: list[Group | None] | None = strawberry.field(
        resolver=_user_groups, description="The groups whose deployments the user may act "
        "on: the groups listing them as a member (every group for an admin).")
    groups: list[Group | None] | None = strawberry.field(
        resolver=_user_groups, description="The same groups as effectiveGroups (PrimeHub's "
        "console reads this one): there is no group inheritance here.")


async def _token_last_used_at(root: ApiToken, info: Info) -> str | None:
    try:
        moment = await info.context.services.data_plane.token_last_used(str(root.id))
    except (RedisError, OSError, ValueError) as error:
        log.warning("lastUsedAt unknown, the API's usage records cannot be read: %s", error)
        return None
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


@strawberry.type(description="An issued API token (never its value nor its hash). A revoked "
                 "token is gone from here; the audit trail keeps who revoked it and why.")
class ApiToken:
    id: strawberry.ID = strawberry.field(description="The token's id: the 12 hex characters "
                                         "after mga_ in the token itself; kept by rotations.")
    username: str = strawberry.field(description="The user the token acts as.")
    admin: bool = strawberry.field(description="Whether the token's user is an admin.")
    created_at: str = strawberry.field(description="When the token was issued (ISO 8601).")
    expires_at: str | None = strawberry.field(
        default=None, description="When the token stops working (ISO 8601); null: never. "
        "Past it the API answers UNAUTHENTICATED \"the API token has expired\".")
    description: str | None = strawberry.field(default=None,
                                               description="What the token is for.")
    scopes: list[str] = strawberry.field(
        default_factory=list, description="What the token may do: read (queries only), "
        "deployments:write (also deployments, their clients and the user's own API tokens), "
        "admin (everything); each includes the ones before it. A token issued before scopes "
        "existed shows its user's full rights: admin for an admin, deployments:write "
        "otherwise.")
    created_by: str | None = strawberry.field(
        default=None, description="Who issued the token; null for one issued before this was "
        "recorded.")
    rotated_at: str | None = strawberry.field(
        default=None, description="When the token was last rotated (ISO 8601); null: never.")
    previous_expires_at: str | None = strawberry.field(
        default=None, description="Until when the token the last rotation replaced still "
        "works beside the new one (ISO 8601); null: no overlap is running.")
    last_used_at: str | None = strawberry.field(
        resolver=_token_last_used_at, description="When the API last accepted the token, a "
        "console session signed in with it included (ISO 8601, accurate to "
        "API_TOKEN_USAGE_INTERVAL, 5 s by default); null: never, or not known now.")

    @classmethod
    def from_view(cls, view: ApiTokenView, *, now: datetime) -> ApiToken:
        return cls(id=strawberry.ID(view.id), username=view.username, admin=view.admin,
                   created_at=view.created.isoformat(),
                   expires_at=view.expires.isoformat() if view.expires else None,
                   description=view.description, scopes=scopes.listed(view.granted),
                   created_by=view.created_by,
                   rotated_at=view.rotated.isoformat() if view.rotated else None,
                   previous_expires_at=view.previous_expires.isoformat()
                   if view.previous_valid(now) and view.previous_expires else None)


@strawberry.type
class ApiTokenCreateResponse:
    token: str = strawberry.field(description="The plain token: shown this once, never again.")
    api_token: ApiToken = strawberry.field(description="The token as apiTokens lists it.")
