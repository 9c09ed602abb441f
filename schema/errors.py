"""Expected GraphQL failures: data for the client, with PrimeHub's codes in ``extensions.code``.

Resolvers raise these; graphql-core copies ``extensions`` onto the error it reports, and
:mod:`schema.masking` lets them through unchanged. Every other exception is unexpected and
masked. The tree::

    ApiError
    ├── NotAuth            NOT_AUTH            no or bad credentials, not a member, not admin
    ├── Unauthenticated    UNAUTHENTICATED     a genuine API token that expired, saying so
    ├── Forbidden          FORBIDDEN           the token's scopes do not allow this, saying
    │                                          which scope it needs (or which field of a new
    │                                          token asks for more than the issuer has)
    ├── ResourceNotFound   RESOURCE_NOT_FOUND  (deployments: PrimeHub's exact sentence)
    ├── BadUserInput       BAD_USER_INPUT      names the offending ``field``
    ├── IllegalEnvName     ILLEGAL_ENV_NAME    PrimeHub's sentence, naming the variable
    ├── ExceedQuota        EXCEED_QUOTA        maxDeploy, licence limit, group quota
    ├── LicenseError       LICENSE_ERROR       the licence expired
    ├── Busy               CONFLICT            concurrent writers kept winning; try again
    └── Unavailable        SERVICE_UNAVAILABLE the cluster cannot take writes right now, or
                                               the data plane did not confirm a token in time
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

from gateway.kube import errors as kube


class ApiError(Exception):
    """A failure the client caused or must know about; ``message`` is shown as is."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class NotAuth(ApiError):
    code = "NOT_AUTH"

    def __init__(self, message: str = "user not auth") -> None:
        super().__init__(message)


class Unauthenticated(ApiError):
    code = "UNAUTHENTICATED"


class Forbidden(ApiError):
    code = "FORBIDDEN"


class ResourceNotFound(ApiError):
    code = "RESOURCE_NOT_FOUND"


class BadUserInput(ApiError):
    code = "BAD_USER_INPUT"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", field=field)
        self.field = field


class IllegalEnvName(ApiError):
    code = "ILLEGAL_ENV_NAME"

    def __init__(self, name: str) -> None:
        super().__init__(
            f'EnvVar name "{name}" is invalid, a valid environment variable name must consist '
            "of alphabetic characters, digits, '_', '-', or '.', and must not start with a "
            "digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
            "validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')", field="env")


class ExceedQuota(ApiError):
    code = "EXCEED_QUOTA"


class LicenseError(ApiError):
    code = "LICENSE_ERROR"


class Busy(ApiError):
    code = "CONFLICT"

    def __init__(self) -> None:
        super().__init__("the object kept changing while being written; nothing was changed, "
                         "try again")


class Unavailable(ApiError):
    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str = "the cluster cannot be reached right now; nothing was "
                                      "changed, try again") -> None:
        super().__init__(message)


def deployment_not_found(deployment_id: str) -> ResourceNotFound:
    """PrimeHub's not-found error; the SDK parses exactly this sentence."""
    return ResourceNotFound(f'phdeployments.primehub.io "{deployment_id}" not found')


@contextlib.contextmanager
def kube_errors(*, what: str, name: str) -> Iterator[None]:
    """Translate the Kubernetes errors a write may meet into client-facing ones.

    ``what`` is the resource as the client knows it (``phdeployments.primehub.io``): a 404
    becomes ``<what> "<name>" not found``. The API server's own messages name internals, so
    only the fields of a 422 are passed on.
    """
    try:
        yield
    except kube.NotFound as error:
        raise ResourceNotFound(f'{what} "{name}" not found') from error
    except kube.Invalid as error:
        fields = ", ".join(sorted({cause.field for cause in error.causes if cause.field}))
        raise BadUserInput(fields or "data", "rejected by the resource schema") from error
    except kube.Conflict as error:
        raise Busy() from error
    except kube.Unavailable as error:
        raise Unavailable() from error
