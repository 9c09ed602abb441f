"""``PhDeployment.failure``: why a Failed deployment failed, in words, and what to do about it.

The controller classifies every failure (:mod:`gateway.controller.diagnosis`) and records the
class as the reason of the deployment's ``Available`` condition, next to its full message
(``status.message``). :func:`explain` turns that reason into what the console shows: a
stable ``reason`` a program can switch on, a one-line ``summary`` naming the broken thing
(the image, the model URI), a ``hint`` saying what to do, and the controller's message as
``detail``. Pure: it reads only the deployment's view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import strawberry

from gateway.controller.diagnosis import Kind, Problem
from gateway.controller.reconciling import GROUP_DISABLED, GROUP_NOT_FOUND
from gateway.controller.status import CONFIGURATION_REASON, DEADLINE_REASON
from gateway.kube.phdeployments import PhDeployment as DeploymentView


@strawberry.type(description="Why a deployment failed and what to do about it.")
class DeploymentFailure:
    reason: str = strawberry.field(description=(
        "The class of failure: `ImagePull`, `ModelDownload`, `Quota`, `ContainerConfig`, "
        "`Crash`, `OutOfMemory`, `Unschedulable`, `Configuration`, `Deadline` or `Unknown`."))
    summary: str = strawberry.field(description=(
        "What is broken, in one line (\"the image `x` cannot be pulled\")."))
    hint: str = strawberry.field(description="What to do about it.")
    detail: str | None = strawberry.field(description=(
        "The controller's full message (the `message` field), naming pods and exit codes."))


Explainer = Callable[[DeploymentView, str], tuple[str, str, str]]


def _image(view: DeploymentView, _message: str) -> tuple[str, str, str]:
    image = view.spec.predictor.model_image
    secret = view.spec.predictor.image_pull_secret
    hint = "check the name and tag, or the pull secret" + (
        f" `{secret}`" if secret else " (a private registry needs one: set Image Pull Secret)")
    return "ImagePull", f"the image `{image}` cannot be pulled", hint


def _download(view: DeploymentView, _message: str) -> tuple[str, str, str]:
    uri = view.spec.predictor.model_uri or ""
    return ("ModelDownload", f"the model cannot be copied from `{uri}`",
            "check the Model URI, and that the storage it names exists and can be read")


def _quota(_view: DeploymentView, _message: str) -> tuple[str, str, str]:
    return ("Quota", "the cluster refused the pods: a quota is used up",
            "choose a smaller instance type or fewer replicas, stop another deployment, or "
            "ask an admin to raise the quota")


def _container(_view: DeploymentView, _message: str) -> tuple[str, str, str]:
    return ("ContainerConfig", "the model container cannot be created",
            "check the environment variables and any secret or volume the image expects")


def _crash(view: DeploymentView, message: str) -> tuple[str, str, str]:
    if "OOMKilled" in message:
        return ("OutOfMemory", "the model server runs out of memory",
                f"choose an instance type with more memory than `"
                f"{view.spec.predictor.instance_type}`")
    return ("Crash", "the model server keeps crashing",
            "read the Logs tab for its error; check the image, Model URI and environment "
            "variables")


def _unschedulable(view: DeploymentView, _message: str) -> tuple[str, str, str]:
    return ("Unschedulable", "no node has room for the pods",
            f"choose a smaller instance type than `{view.spec.predictor.instance_type}` or "
            "fewer replicas, or ask an admin for capacity")


def _configuration(view: DeploymentView, message: str) -> tuple[str, str, str]:
    if message in (GROUP_NOT_FOUND, GROUP_DISABLED):
        return ("Configuration", f"the group `{view.spec.group_id}` cannot run deployments",
                "ask an admin to create the group or enable model deployment for it")
    if message.startswith("InstanceType"):
        return ("Configuration",
                f"the instance type `{view.spec.predictor.instance_type}` is unusable",
                "update the deployment with another instance type")
    if "model URI" in message:
        return ("ModelDownload",
                f"the Model URI `{view.spec.predictor.model_uri}` is not supported",
                "use a URI scheme this installation supports (the detail lists them)")
    return ("Configuration", "the deployment's settings cannot work",
            "update the deployment; the detail says what is wrong")


def _deadline(view: DeploymentView, message: str) -> tuple[str, str, str]:
    if "unschedulable" in message.lower():
        return _unschedulable(view, message)
    return ("Deadline", "the deployment did not become available in time",
            "read the Logs tab: the model may fail its readiness check or load too slowly")


_BY_KIND: Final[dict[Kind, Explainer]] = {
    "image": _image, "model-download": _download, "quota": _quota, "container": _container,
    "crash": _crash, "unschedulable": _unschedulable}
EXPLAINERS: Final[dict[str, Explainer]] = {
    **{Problem(kind, "").reason: explain for kind, explain in _BY_KIND.items()},
    CONFIGURATION_REASON: _configuration, DEADLINE_REASON: _deadline}


def explain(view: DeploymentView) -> DeploymentFailure | None:
    """The failure of a deployment whose status is Failed (``None`` for any other)."""
    if view.effective_status != "Failed":
        return None
    message = view.status.message or ""
    explainer = EXPLAINERS.get(view.status.reason or "")
    if explainer is None:
        return DeploymentFailure(reason="Unknown", summary="the deployment failed",
                                 hint="the detail says why", detail=message or None)
    reason, summary, hint = explainer(view, message)
    return DeploymentFailure(reason=reason, summary=summary, hint=hint, detail=message or None)
