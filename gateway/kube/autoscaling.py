"""A predictor's ``autoscaling`` block: typed view, the rules it must follow, and its JSON.

Additive to PrimeHub's ``spec.predictors[]`` entry (PrimeHub's tools ignore the key and keep
it). Absent: ``replicas`` is the fixed count, as in PrimeHub. Present: the controller scales
between ``minReplicas`` and ``maxReplicas`` on one target, either ``targetConcurrency``
(in-flight requests per pod, measured by the proxies; the controller's own autoscaler, which
can scale to zero) or ``targetCPUPercent`` (a Kubernetes ``autoscaling/v2``
HorizontalPodAutoscaler, which cannot). ``replicas`` is then only the starting count.

:func:`refusal` is the one statement of which combinations make sense; the API refuses them
with a field error before anything is written, and the view refuses a stored block that
breaks them (written by ``kubectl``), so the controller reports it instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from gateway.kube import views
from gateway.kube.views import MalformedObject

DEFAULT_SCALE_TO_ZERO_AFTER: Final = 300
MAX_SCALE_TO_ZERO_AFTER: Final = 7 * 24 * 3600
MAX_TARGET_CONCURRENCY: Final = 10_000.0
MAX_TARGET_CPU_PERCENT: Final = 1000


@dataclass(frozen=True)
class Autoscaling:
    """Scale between ``min_replicas`` and ``max_replicas`` on exactly one target."""

    min_replicas: int
    max_replicas: int
    target_concurrency: float | None = None
    target_cpu_percent: int | None = None
    scale_to_zero_after_seconds: int | None = None

    @property
    def scales_to_zero(self) -> bool:
        return self.min_replicas == 0

    @property
    def idle_seconds(self) -> int:
        """How long without a request before scaling to zero (when ``min_replicas`` is 0)."""
        return (DEFAULT_SCALE_TO_ZERO_AFTER if self.scale_to_zero_after_seconds is None
                else self.scale_to_zero_after_seconds)

    def clamp(self, replicas: int) -> int:
        return max(self.min_replicas, min(self.max_replicas, replicas))


def refusal(autoscaling: Autoscaling, *, max_replicas: int) -> tuple[str, str] | None:
    """The first broken rule as ``(field, message)``, field relative to the block; or None."""
    low, high = autoscaling.min_replicas, autoscaling.max_replicas
    concurrency, cpu = autoscaling.target_concurrency, autoscaling.target_cpu_percent
    idle = autoscaling.scale_to_zero_after_seconds
    if low < 0:
        return "minReplicas", f"must not be negative, got {low}"
    if high < 1:
        return "maxReplicas", f"must be at least 1, got {high}"
    if high > max_replicas:
        return "maxReplicas", f"must be at most {max_replicas}, got {high}"
    if low > high:
        return "minReplicas", f"must not exceed maxReplicas ({high}), got {low}"
    if concurrency is None and cpu is None:
        return "targetConcurrency", "give one target: targetConcurrency or targetCPUPercent"
    if concurrency is not None and cpu is not None:
        return "targetCPUPercent", ("give one target, not both: targetConcurrency (the "
                                    "gateway's autoscaler) or targetCPUPercent (a "
                                    "HorizontalPodAutoscaler)")
    if concurrency is not None and not 0 < concurrency <= MAX_TARGET_CONCURRENCY:
        return "targetConcurrency", (f"must be above 0 and at most {MAX_TARGET_CONCURRENCY:g}"
                                     f", got {concurrency:g}")
    if cpu is not None and not 1 <= cpu <= MAX_TARGET_CPU_PERCENT:
        return "targetCPUPercent", f"must be 1 to {MAX_TARGET_CPU_PERCENT}, got {cpu}"
    if idle is not None and not 0 <= idle <= MAX_SCALE_TO_ZERO_AFTER:
        return "scaleToZeroAfterSeconds", (f"must be 0 to {MAX_SCALE_TO_ZERO_AFTER}, "
                                           f"got {idle}")
    if idle is not None and low != 0:
        return "scaleToZeroAfterSeconds", ("only scales to zero with minReplicas 0, got "
                                           f"minReplicas {low}")
    if low == 0 and cpu is not None:
        return "minReplicas", ("a CPU target cannot scale to zero (a pod that does not run "
                               "uses no CPU); use targetConcurrency or minReplicas 1")
    return None


def parse(predictor: Mapping[str, Any], *, where: str) -> Autoscaling | None:
    """The predictor's block (None when absent); :class:`MalformedObject` when it is broken."""
    block = predictor.get("autoscaling")
    if block is None:
        return None
    where = f"{where}.autoscaling"
    if not isinstance(block, dict):
        raise MalformedObject(f"{where}: expected an object")
    found = Autoscaling(
        min_replicas=views.field(block, "minReplicas", int, 1, where=where),
        max_replicas=views.field(block, "maxReplicas", int, 1, where=where),
        target_concurrency=views.field(block, "targetConcurrency", float, None, where=where),
        target_cpu_percent=views.field(block, "targetCPUPercent", int, None, where=where),
        scale_to_zero_after_seconds=views.field(block, "scaleToZeroAfterSeconds", int, None,
                                                where=where))
    broken = refusal(found, max_replicas=found.max_replicas)
    if broken is not None:
        raise MalformedObject(f"{where}.{broken[0]}: {broken[1]}")
    return found


def body(autoscaling: Autoscaling) -> dict[str, Any]:
    """The block's JSON (absent optional fields left out)."""
    written: dict[str, Any] = {"minReplicas": autoscaling.min_replicas,
                               "maxReplicas": autoscaling.max_replicas}
    for key, value in (("targetConcurrency", autoscaling.target_concurrency),
                       ("targetCPUPercent", autoscaling.target_cpu_percent),
                       ("scaleToZeroAfterSeconds", autoscaling.scale_to_zero_after_seconds)):
        if value is not None:
            written[key] = value
    return written
