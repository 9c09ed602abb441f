"""Deployments adopted from PrimeHub keep their pods until their spec next changes.

``model-gateway migrate-from-primehub`` marks a PrimeHub-made Deployment whose shape allows
it (owned by the same PhDeployment, selecting exactly our pod labels) with
:data:`ADOPTED_ANNOTATION`, the PhDeployment's ``metadata.generation`` at migration. While
the PhDeployment is still at that generation, the controller leaves the Deployment's pod
template as PrimeHub wrote it, changing only its replica count, so adoption restarts no pod
(PrimeHub's pods run the same model container on the same port our Service targets). The
first spec change (a new generation) rolls the Deployment out to our template, as any spec
change does.
"""

from __future__ import annotations

from typing import Final

from gateway.kube.client import Object

ADOPTED_ANNOTATION: Final = "model-gateway.io/adopted-generation"


def kept(live: Object | None, *, generation: int) -> bool:
    """Whether ``live`` is an adopted Deployment whose template stays for ``generation``."""
    if live is None:
        return False
    annotations = live["metadata"].get("annotations") or {}
    return annotations.get(ADOPTED_ANNOTATION) == str(generation)


def current(live: Object | None) -> bool:
    """An adopted Deployment's status describes it (its controller saw its last change)."""
    if live is None:
        return False
    observed = (live.get("status") or {}).get("observedGeneration")
    return isinstance(observed, int) and observed >= int(live["metadata"].get("generation") or 1)
