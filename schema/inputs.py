"""GraphQL input types: PrimeHub's exactly, plus additive admin inputs.

Every string is validated whole (see :mod:`schema.validation`): names and references never
hold a control character, and multi-line text (descriptions, update messages, env and metadata
values) only tab and line breaks. The input descriptions say so to API users.

Update inputs default to ``UNSET`` so a resolver can tell "not sent" (keep the stored value)
from ``null`` (clear it). ``PhDeploymentUpdateInput.name`` is additive: PrimeHub's resolver
read it but its schema omitted it, so an SDK update with a full definition failed there.
``modelURISecret`` is additive too: the Secret whose keys the storage initializer receives.
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

VALIDATION = ("Every string is checked whole: names, ids and references hold no control "
              "character (a trailing newline included); description, updateMessage and env "
              "and metadata values may hold tab and line breaks, no other control character.")

STORAGE_CREDENTIALS_HELP = (
    "A Kubernetes Secret in the deployment's namespace whose keys the storage initializer "
    "receives as environment (credentials of a private gs:// or s3:// bucket); only for "
    "downloaded model URIs, and only a Secret an admin assigned to the group (its "
    "storageSecrets).")


@strawberry.input
class PhDeploymentWhereUniqueInput:
    id: strawberry.ID


@strawberry.input
class PhDeploymentWhereInput:
    id: strawberry.ID | None = None
    group_id_in: list[str | None] | None = strawberry.field(name="groupId_in", default=None)
    name_contains: str | None = strawberry.field(name="name_contains", default=None)
    search: str | None = None
    mine: bool | None = None


@strawberry.input
class PhDeploymentClientWhereUniqueInput:
    deployment_id: str
    name: str


AUTOSCALING_HELP = (
    "Scale on load between minReplicas and maxReplicas, on exactly one target: "
    "targetConcurrency (in-flight requests per pod, measured by the proxies) or "
    "targetCPUPercent (a Kubernetes HorizontalPodAutoscaler). replicas is then only the "
    "starting count; without autoscaling, replicas is the fixed count. minReplicas 0 (with "
    "targetConcurrency) scales to zero after scaleToZeroAfterSeconds without requests (300 "
    "when left out); the next request wakes it and is held until a pod is ready. A private "
    "deployment wakes only for a request with valid client credentials; a PUBLIC deployment "
    "wakes on ANY request, so anyone who can reach it can make it start pods.")


@strawberry.input(description=AUTOSCALING_HELP)
class AutoscalingInput:
    min_replicas: int
    max_replicas: int
    target_concurrency: float | None = None
    target_cpu_percent: int | None = strawberry.field(name="targetCPUPercent", default=None)
    scale_to_zero_after_seconds: int | None = None


@strawberry.input(description=VALIDATION)
class PhDeploymentCreateInput:
    id: strawberry.ID
    name: str | None = None
    replicas: int | None = None
    model_image: str | None = None
    model_uri: str | None = strawberry.field(name="modelURI", default=None)
    image_pull_secret: str | None = None
    description: str | None = None
    update_message: str | None = None
    metadata: JSON | None = None
    env: JSON | None = None
    group_id: str | None = None
    instance_type: str | None = None
    endpoint_access_type: str | None = strawberry.field(
        default=None, description="public or private; left out: the install's default, "
        "private unless MODEL_GATEWAY_API_DEFAULT_ENDPOINT_ACCESS is public (PrimeHub's).")
    model_uri_secret: str | None = strawberry.field(name="modelURISecret", default=None,
                                                    description=STORAGE_CREDENTIALS_HELP)
    autoscaling: AutoscalingInput | None = strawberry.field(default=None,
                                                            description=AUTOSCALING_HELP)


@strawberry.input(description=VALIDATION)
class PhDeploymentUpdateInput:
    replicas: int | None = strawberry.UNSET
    model_image: str | None = strawberry.UNSET
    model_uri: str | None = strawberry.field(name="modelURI", default=strawberry.UNSET)
    image_pull_secret: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    update_message: str | None = strawberry.UNSET
    env: JSON | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET
    instance_type: str | None = strawberry.UNSET
    endpoint_access_type: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    model_uri_secret: str | None = strawberry.field(name="modelURISecret",
                                                    default=strawberry.UNSET,
                                                    description=STORAGE_CREDENTIALS_HELP)
    autoscaling: AutoscalingInput | None = strawberry.field(
        default=strawberry.UNSET, description=AUTOSCALING_HELP + " null: back to the fixed "
        "replicas.")


@strawberry.input(description=VALIDATION)
class PhDeploymentClientCreateInput:
    deployment_id: str | None = None
    name: str | None = None
    expires_at: str | None = strawberry.field(
        default=None, description="When the client's token stops working (ISO 8601, in the "
        "future; without a zone, UTC); null: never.")


@strawberry.input(description=VALIDATION)
class PhDeploymentClientRotateInput:
    deployment_id: str
    name: str
    overlap_seconds: int = strawberry.field(
        default=0, description="How long the replaced token keeps working beside the new one "
        "(0 to 604800 s, a week); 0: it stops at once.")


# -- admin -----------------------------------------------------------------------------------


@strawberry.input
class WhereIdInput:
    id: strawberry.ID


@strawberry.input(description=VALIDATION)
class GroupCreateInput:
    name: str
    display_name: str | None = None
    members: list[str] | None = None
    enabled_deployment: bool | None = None
    max_deploy: int | None = None
    quota_cpu: float | None = None
    quota_gpu: int | None = None
    quota_memory: float | None = strawberry.field(
        default=None, description="Gigabytes, as PrimeHub shows memory.")
    instance_types: list[str] | None = None
    claims: list[str] | None = strawberry.field(
        default=None, description="PersistentVolumeClaims the group's deployments may mount "
        "(pvc://<claim>/<path>).")
    image_pull_secrets: list[str] | None = strawberry.field(
        default=None, description="Secrets the group's deployments may name as "
        "imagePullSecret.")
    storage_secrets: list[str] | None = strawberry.field(
        default=None, description="Secrets the group's deployments may name as "
        "modelURISecret.")


@strawberry.input(description=VALIDATION)
class GroupUpdateInput:
    display_name: str | None = strawberry.UNSET
    members: list[str] | None = strawberry.UNSET
    enabled_deployment: bool | None = strawberry.UNSET
    max_deploy: int | None = strawberry.UNSET
    quota_cpu: float | None = strawberry.UNSET
    quota_gpu: int | None = strawberry.UNSET
    quota_memory: float | None = strawberry.UNSET
    instance_types: list[str] | None = strawberry.UNSET
    claims: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="PersistentVolumeClaims the group's deployments "
        "may mount (pvc://<claim>/<path>).")
    image_pull_secrets: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Secrets the group's deployments may name as "
        "imagePullSecret.")
    storage_secrets: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Secrets the group's deployments may name as "
        "modelURISecret.")


@strawberry.input
class TolerationInput:
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None


@strawberry.input(description=VALIDATION)
class InstanceTypeCreateInput:
    name: str
    display_name: str | None = None
    description: str | None = None
    cpu_limit: float | None = None
    memory_limit: float | None = strawberry.field(default=None, description="Gigabytes.")
    gpu_limit: int | None = None
    cpu_request: float | None = None
    memory_request: float | None = strawberry.field(default=None, description="Gigabytes.")
    node_selector: JSON | None = None
    tolerations: list[TolerationInput] | None = None


@strawberry.input(description=VALIDATION)
class InstanceTypeUpdateInput:
    display_name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    cpu_limit: float | None = strawberry.UNSET
    memory_limit: float | None = strawberry.UNSET
    gpu_limit: int | None = strawberry.UNSET
    cpu_request: float | None = strawberry.UNSET
    memory_request: float | None = strawberry.UNSET
    node_selector: JSON | None = strawberry.UNSET
    tolerations: list[TolerationInput] | None = strawberry.UNSET


@strawberry.input(description=VALIDATION)
class ApiTokenCreateInput:
    username: str = strawberry.field(description="The user the token acts as. Only an admin "
                                     "token issues tokens for somebody else.")
    admin: bool = strawberry.field(default=False, description="Whether the token's user is "
                                   "an admin; only an admin token issues such a token.")
    expires_at: str | None = strawberry.field(
        default=None, description="When the token stops working (ISO 8601, in the future; "
        "without a zone, UTC); null: never.")
    description: str | None = strawberry.field(default=None, description="What the token is "
                                               "for (one line).")
    scopes: list[str] | None = strawberry.field(
        default=None, description="What the token may do: read, deployments:write or admin "
        "(each includes the ones before it). Never more than the issuing token has (FORBIDDEN "
        "naming scopes), and admin only for an admin token. Null: the most the issuer may "
        "give, admin for an admin token, deployments:write otherwise.")


@strawberry.input
class ApiTokenRotateInput:
    id: strawberry.ID = strawberry.field(description="The token to rotate.")
    overlap_seconds: int = strawberry.field(
        default=0, description="How long the replaced token keeps working beside the new one "
        "(0 to 604800 s, a week); 0: it stops at once.")


@strawberry.input(description=VALIDATION)
class PhDeploymentRollbackInput:
    history_id: str = strawberry.field(description=(
        "The `id` of a history entry's `deployment` (`<id>-<time>`, as `history` gives it)."))
    update_message: str | None = strawberry.field(default=None, description=(
        "A note for the history, after \"rolled back to <time>\"."))


PREDICTOR_NAME_HELP = ("The predictor's name: 1 to 16 lowercase letters, digits or inner '-', "
                       "unique in the deployment; /deployment/<id>@<name>/ reaches it.")


@strawberry.input(description=VALIDATION)
class PhDeploymentPredictorCreateInput:
    name: str = strawberry.field(description=PREDICTOR_NAME_HELP)
    model_image: str
    model_uri: str | None = strawberry.field(name="modelURI", default=None)
    instance_type: str | None = strawberry.field(
        default=None, description="An instance type of the group; left out: the primary's.")
    replicas: int | None = strawberry.field(default=None, description="Left out: 1.")
    env: JSON | None = strawberry.field(
        default=None, description="[{name, value}]: this predictor's variables, laid over the "
        "deployment's env.")
    image_pull_secret: str | None = None
    metadata: JSON | None = None
    model_uri_secret: str | None = strawberry.field(name="modelURISecret", default=None,
                                                    description=STORAGE_CREDENTIALS_HELP)
    autoscaling: AutoscalingInput | None = strawberry.field(default=None,
                                                            description=AUTOSCALING_HELP)


@strawberry.input(description=VALIDATION)
class PhDeploymentPredictorUpdateInput:
    name: str = strawberry.field(description="Which predictor to change.")
    model_image: str | None = strawberry.UNSET
    model_uri: str | None = strawberry.field(name="modelURI", default=strawberry.UNSET)
    instance_type: str | None = strawberry.UNSET
    replicas: int | None = strawberry.UNSET
    env: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="[{name, value}]: this predictor's variables, "
        "laid over the deployment's env.")
    image_pull_secret: str | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET
    model_uri_secret: str | None = strawberry.field(name="modelURISecret",
                                                    default=strawberry.UNSET,
                                                    description=STORAGE_CREDENTIALS_HELP)
    autoscaling: AutoscalingInput | None = strawberry.field(
        default=strawberry.UNSET, description=AUTOSCALING_HELP + " null: back to the fixed "
        "replicas.")


@strawberry.input
class PhDeploymentPredictorNameInput:
    name: str


@strawberry.input
class PhDeploymentTrafficShareInput:
    name: str
    traffic_percent: int = strawberry.field(description="0 to 100.")


@strawberry.input
class PhDeploymentTrafficInput:
    split: list[PhDeploymentTrafficShareInput] = strawberry.field(description=(
        "A share for every predictor of the deployment, integers summing to 100. A predictor "
        "at 0 keeps running and stays reachable by /deployment/<id>@<name>/."))
    sticky: bool | None = strawberry.field(default=None, description=(
        "Route each client (a private deployment's client name, else the caller's address) to "
        "the same predictor every time; left out: unchanged."))
