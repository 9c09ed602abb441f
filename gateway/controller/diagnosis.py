"""Why a deployment is not available: runtime failures read from pod and Deployment status (pure).

PrimeHub left broken deployments in ``Deploying`` forever; we name the failure and the pod.
:func:`diagnose` looks at the Deployment's conditions and every live pod that is not ready and
returns the most important :class:`Problem`, in this order:

1. quota rejection: the Deployment's ``ReplicaFailure`` condition (reason ``FailedCreate``),
   which is how Kubernetes reports pods refused at admission (a ResourceQuota, PrimeHub's
   group-quota webhook); no pod exists to name, so the API server's refusal is quoted;
2. model download: the ``storage-initializer`` init container failed, crash-looped or could
   not pull its image;
3. image: the model container waits on ``ErrImagePull``/``ImagePullBackOff`` and the like;
4. container creation: ``CreateContainerConfigError`` and the like (a missing Secret, ...);
5. crash loop: the model container exited non-zero (exit code and reason such as
   ``OOMKilled`` from its last termination, with the restart count);
6. unschedulable: ``PodScheduled`` is False for reason ``Unschedulable`` (the scheduler's
   own message, e.g. ``0/3 nodes are available: 3 Insufficient cpu``).

Classes 1-5 are *hard*: waiting will not fix them, so the phase is Failed at once. An
unschedulable pod may be placed when the cluster grows, so it only explains ``Deploying``
until the availability deadline. Messages start with PrimeHub's sentence where it has one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

Kind = Literal["quota", "model-download", "image", "container", "crash", "unschedulable"]
_ORDER: Final[tuple[Kind, ...]] = ("quota", "model-download", "image", "container", "crash",
                                   "unschedulable")
_HEADLINES: Final[dict[Kind, str]] = {
    "quota": "Failed because the pods were refused by a quota:",
    "model-download": "Failed because cannot successfully copy the model from the model URI.",
    "image": "Failed because of wrong image settings.",
    "container": "Failed because the model container cannot be created.",
    "crash": "Failed because the model container keeps crashing.",
    "unschedulable": "Certain pods unschedulable.",
}
IMAGE_REASONS: Final = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName",
                                  "ErrImageNeverPull", "RegistryUnavailable"})
CREATE_REASONS: Final = frozenset({"CreateContainerConfigError", "CreateContainerError",
                                   "RunContainerError"})
MAX_PODS_NAMED: Final = 3


@dataclass(frozen=True)
class Problem:
    kind: Kind
    message: str

    @property
    def hard(self) -> bool:
        return self.kind != "unschedulable"

    @property
    def reason(self) -> str:
        """A CamelCase condition reason for this kind."""
        return "".join(part.capitalize() for part in self.kind.split("-")) + "Failure"


def diagnose(*, deployment: Mapping[str, Any] | None,
             pods: Iterable[Mapping[str, Any]]) -> Problem | None:
    """The most important reason the deployment is not available, or ``None``."""
    refused = _refusal(deployment)
    if refused is not None:
        return Problem("quota", f"{_HEADLINES['quota']} {refused}")
    found: dict[Kind, list[str]] = {}
    for pod in sorted(pods, key=lambda p: str(p["metadata"].get("name", ""))):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        for kind, detail in _pod_problems(pod):
            found.setdefault(kind, []).append(detail)
    for kind in _ORDER:
        details = found.get(kind)
        if details:
            named = details[:MAX_PODS_NAMED]
            more = len(details) - len(named)
            text = " ".join(named) + (f" (and {more} more)" if more else "")
            return Problem(kind, f"{_HEADLINES[kind]} {text}")
    return None


def _refusal(deployment: Mapping[str, Any] | None) -> str | None:
    conditions = ((deployment or {}).get("status") or {}).get("conditions") or []
    for condition in conditions:
        if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
            message = str(condition.get("message") or condition.get("reason") or "")
            _, marker, after = message.partition("denied the request: ")
            return after if marker else message
    return None


def _pod_problems(pod: Mapping[str, Any]) -> list[tuple[Kind, str]]:
    name = pod["metadata"].get("name", "")
    status = pod.get("status") or {}
    problems: list[tuple[Kind, str]] = []
    for container in status.get("initContainerStatuses") or []:
        detail = _image_detail(container) or _create_detail(container) or _exit_detail(
            container)
        if detail is not None:
            problems.append(("model-download", _sentence(f"Pod {name}: {detail}")))
    for container in status.get("containerStatuses") or []:
        if container.get("ready"):
            continue
        checks: tuple[tuple[Kind, str | None], ...] = (
            ("image", _image_detail(container)), ("container", _create_detail(container)),
            ("crash", _exit_detail(container)))
        for kind, detail in checks:
            if detail is not None:
                problems.append((kind, _sentence(f"Pod {name}: {detail}")))
                break
    for condition in status.get("conditions") or []:
        if (condition.get("type") == "PodScheduled" and condition.get("status") == "False"
                and condition.get("reason") == "Unschedulable"):
            message = condition.get("message") or "no node fits it"
            problems.append(("unschedulable", _sentence(f"Pod {name}: {message}")))
    return problems


def _waiting(container: Mapping[str, Any]) -> Mapping[str, Any]:
    return (container.get("state") or {}).get("waiting") or {}


def _image_detail(container: Mapping[str, Any]) -> str | None:
    waiting = _waiting(container)
    if waiting.get("reason") not in IMAGE_REASONS:
        return None
    return _describe(container, waiting.get("reason"), waiting.get("message"))


def _create_detail(container: Mapping[str, Any]) -> str | None:
    waiting = _waiting(container)
    if waiting.get("reason") not in CREATE_REASONS:
        return None
    return _describe(container, waiting.get("reason"), waiting.get("message"))


def _exit_detail(container: Mapping[str, Any]) -> str | None:
    """A non-zero exit (the current state's, else the last termination's), or a crash loop."""
    state = container.get("state") or {}
    last = (container.get("lastState") or {}).get("terminated")
    current = state.get("terminated")
    terminated = current if current and current.get("exitCode") else last
    crash_looping = _waiting(container).get("reason") == "CrashLoopBackOff"
    if not terminated or not terminated.get("exitCode"):
        if crash_looping:
            return _describe(container, "CrashLoopBackOff", _waiting(container).get("message"))
        return None
    restarts = int(container.get("restartCount") or 0)
    parts = [f"exit code {terminated.get('exitCode')}"]
    if terminated.get("reason"):
        parts.append(str(terminated["reason"]))
    if restarts:
        parts.append(f"restarted {restarts} time{'s' if restarts != 1 else ''}")
    text = ", ".join(parts)
    if terminated.get("message"):
        text += f": {str(terminated['message']).strip()}"
    return f"container {container.get('name', '')}: {text}"


def _describe(container: Mapping[str, Any], reason: Any, message: Any) -> str:
    text = f"container {container.get('name', '')}: {reason}"
    return f"{text}: {str(message).strip()}" if message else text


def _sentence(text: str) -> str:
    return text.rstrip().rstrip(".") + "."
