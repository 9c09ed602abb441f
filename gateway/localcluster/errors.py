"""The local cluster's errors, each one a ``metav1.Status`` body with kube-apiserver's wording.

Handlers raise :class:`ApiError`; the server turns it into the JSON ``Status`` object a real
API server sends, so clients (kubernetes-asyncio, kubectl) see the codes and reasons they
expect: 404 NotFound, 409 AlreadyExists/Conflict, 422 Invalid with field causes, 410 Gone...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Cause:
    """One field-level problem, as in ``Status.details.causes``."""

    reason: str  # FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, ...
    message: str
    field: str

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}


@dataclass
class ApiError(Exception):
    """A failed request, rendered as a ``metav1.Status`` with ``status: Failure``."""

    code: int
    reason: str
    message: str
    kind: str | None = None
    name: str | None = None
    group: str | None = None
    causes: list[Cause] = field(default_factory=list)
    retry_after_seconds: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def to_status(self) -> dict[str, Any]:
        """The ``Status`` object body for this error."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details: dict[str, Any] = {}
        if self.name is not None:
            details["name"] = self.name
        if self.group is not None:
            details["group"] = self.group
        if self.kind is not None:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = [cause.to_dict() for cause in self.causes]
        if self.retry_after_seconds is not None:
            details["retryAfterSeconds"] = self.retry_after_seconds
        if details:
            body["details"] = details
        return body


class PageNotFound(Exception):
    """A path under no served API group and version. kube-apiserver's request router answers
    these itself, with a plain-text ``404 page not found`` rather than a ``metav1.Status``."""


def qualified(plural: str, group: str) -> str:
    """``deployments.apps`` or ``pods`` (core), the resource spelling used in messages."""
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(plural, group)} "{name}" not found',
                    kind=plural, name=name, group=group or None)


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(plural, group)} "{name}" already exists',
                    kind=plural, name=name, group=group or None)


def conflict(plural: str, group: str, name: str, why: str) -> ApiError:
    return ApiError(
        409, "Conflict",
        f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": {why}',
        kind=plural, name=name, group=group or None,
    )


def invalid(kind: str, group: str, name: str, causes: list[Cause]) -> ApiError:
    """422 Invalid; the message lists every cause like kube-apiserver does."""
    listed = ", ".join(f"{cause.field}: {cause.message}" for cause in causes)
    what = f"{kind}.{group}" if group else kind
    message = f'{what} "{name}" is invalid: '
    message += f"[{listed}]" if len(causes) > 1 else listed
    return ApiError(422, "Invalid", message, kind=kind, name=name, group=group or None,
                    causes=causes)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource")


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType",
                    f'the body of the request was in an unknown format - accepted media types '
                    f'include: application/json-patch+json, application/merge-patch+json, '
                    f'application/apply-patch+yaml; got "{content_type}"')


def patch_failed() -> ApiError:
    """422 Invalid with the generic text kube-apiserver sends when a patch cannot be applied.

    The apiserver drops the specific reason (a JSON patch ``test`` that failed, a missing path);
    raise this ``from`` an exception that carries it, so logs keep the detail.
    """
    return ApiError(422, "Invalid",
                    "the server rejected our request due to an error in our request")
