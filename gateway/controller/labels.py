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

from typing import Final

from gateway.kube.phdeployments import APP_LABEL, APP_VALUE, DEPLOYMENT_LABEL, GROUP_LABEL

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


# What the controller's informers select: every child and pod it made carries it.
CHILD_SELECTOR: Final = f"{APP_LABEL}={APP_VALUE}"
