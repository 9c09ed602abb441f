"""The labels and names the controller puts on children, and PrimeHub's group-label escaping.

PrimeHub labels every pod with ``primehub.io/group=escaped-<name>``, where each character
that is not a lowercase ASCII letter or a digit becomes ``-`` followed by the hex of each of
its UTF-8 bytes (``Data Team`` -> ``escaped--44ata-20-54eam``). We write the same value so
PrimeHub's tools and selectors keep matching (except that non-ASCII lowercase letters are
escaped too: PrimeHub kept them, which made an invalid label). A label value holds at most 63
characters; a longer escape is cut there (and cut back to end on an alphanumeric, as the
syntax requires): the label then still names the group for people, and selection never
depends on it alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from gateway.kube.phdeployments import (
    APP_LABEL,
    APP_VALUE,
    DEPLOYMENT_LABEL,
    GROUP_LABEL,
    PREDICTOR_LABEL,
    PREDICTOR_NAME,
)

MAX_LABEL_VALUE: Final = 63
_KEPT: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def escape_group(name: str) -> str:
    """PrimeHub's label value for a group name."""
    escaped = "".join(char if char in _KEPT else "".join(f"-{byte:02x}" for byte in
                                                          char.encode())
                      for char in name)
    return ("escaped-" + escaped)[:MAX_LABEL_VALUE].rstrip("-")


def pod_labels(*, deployment_id: str, group_name: str) -> dict[str, str]:
    """The labels of a deployment's pods (and its children, and their selector)."""
    return {APP_LABEL: APP_VALUE, DEPLOYMENT_LABEL: deployment_id,
            GROUP_LABEL: escape_group(group_name)}


def predictor_labels(*, deployment_id: str, group_name: str, predictor: str) -> dict[str, str]:
    """The labels of one predictor's pods (and its children, and their selector).

    PrimeHub's predictor keeps PrimeHub's three labels (its Deployment's selector is
    immutable). Any other predictor's pods carry the app and deployment labels, so everything
    indexed by deployment finds them, and :data:`PREDICTOR_LABEL` instead of the group label:
    PrimeHub's selector, which needs the group label, never takes them in.
    """
    if predictor == PREDICTOR_NAME:
        return pod_labels(deployment_id=deployment_id, group_name=group_name)
    return {APP_LABEL: APP_VALUE, DEPLOYMENT_LABEL: deployment_id, PREDICTOR_LABEL: predictor}


def predictor_of(labels: Mapping[str, str] | None) -> str:
    """The predictor a pod or child belongs to (no predictor label: PrimeHub's)."""
    return (labels or {}).get(PREDICTOR_LABEL) or PREDICTOR_NAME


# What the controller's informers select: every child and pod it made carries it.
CHILD_SELECTOR: Final = f"{APP_LABEL}={APP_VALUE}"
