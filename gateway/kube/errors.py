"""The project's Kubernetes errors, translated once from the client's exceptions.

Nothing outside ``gateway/kube/`` sees a kubernetes-asyncio ``ApiException`` or an aiohttp
error: :func:`translated` turns them into this tree, chained with ``raise ... from``::

    KubeError
    ├── NotFound            404
    ├── AlreadyExists       409 AlreadyExists
    ├── Conflict            409 Conflict (stale resourceVersion, apply conflict)
    ├── Invalid             422, with the field causes
    ├── Forbidden           401 / 403
    ├── Gone                410 (watch or continue token too old)
    └── Unavailable         5xx, timeouts, connection failures: the cluster is unreachable
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from kubernetes_asyncio.client.exceptions import ApiException


@dataclass(frozen=True)
class FieldCause:
    field: str
    message: str


@dataclass
class KubeError(Exception):
    """A Kubernetes API call failed; ``message`` is the API server's own sentence."""

    message: str
    status: int = 0
    causes: list[FieldCause] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)


class NotFound(KubeError):
    pass


class AlreadyExists(KubeError):
    pass


class Conflict(KubeError):
    pass


class Invalid(KubeError):
    pass


class Forbidden(KubeError):
    pass


class Gone(KubeError):
    pass


class Unavailable(KubeError):
    pass


def from_api_exception(error: ApiException) -> KubeError:
    """The project error for one failed API call."""
    try:
        body = json.loads(error.body) if error.body else {}
    except (ValueError, TypeError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    body.setdefault("message", str(error.reason or ""))
    return from_status(body, int(error.status or 0))


def from_status(body: dict[str, Any], status: int | None = None) -> KubeError:
    """The project error for a ``metav1.Status`` body (as in a watch ERROR event)."""
    code = int(status if status is not None else body.get("code") or 0)
    reason = str(body.get("reason") or "")
    message = str(body.get("message") or f"Kubernetes API answered {code}")
    details = body.get("details") or {}
    causes = [FieldCause(str(c.get("field", "")), str(c.get("message", "")))
              for c in details.get("causes") or [] if isinstance(c, dict)]
    if code == 404:
        return NotFound(message, code)
    if code == 409:
        kind = AlreadyExists if reason == "AlreadyExists" else Conflict
        return kind(message, code, causes)
    if code == 422:
        return Invalid(message, code, causes)
    if code in (401, 403):
        return Forbidden(message, code)
    if code == 410:
        return Gone(message, code)
    return Unavailable(message, code)


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Run a block of client calls, raising :class:`KubeError` subclasses on failure."""
    try:
        yield
    except ApiException as error:
        raise from_api_exception(error) from error
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        raise Unavailable(f"Kubernetes API unreachable: {error}") from error
