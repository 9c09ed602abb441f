"""Finding the Kubernetes API: an explicit URL, a kubeconfig file, or the in-cluster account.

Tried in that order, as every component documents: an explicit ``MODEL_GATEWAY_KUBERNETES_URL``
(the local cluster, ``kubectl proxy``: plain HTTP, no credentials), a kubeconfig file
(``MODEL_GATEWAY_KUBECONFIG``), the service account a pod runs as. When none works, the
operator gets one sentence saying what to set, not a traceback from the client library.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from kubernetes_asyncio import config
from kubernetes_asyncio.client import ApiClient, Configuration
from kubernetes_asyncio.config.config_exception import ConfigException


class NoKubernetesConfig(Exception):
    """No way to reach the Kubernetes API was configured or found."""


async def configuration(*, url: str | None, kubeconfig: str | None) -> Configuration:
    """The client configuration for the first source that is set (or found in-cluster)."""
    found = Configuration()
    if url is not None:
        found.host = url
        return found
    try:
        if kubeconfig is not None:
            await config.load_kube_config(config_file=kubeconfig, client_configuration=found,
                                          persist_config=False)
        else:
            config.load_incluster_config(  # type: ignore[no-untyped-call]  # untyped library
                client_configuration=found)
    except (ConfigException, OSError) as error:
        where = (f"the kubeconfig {kubeconfig!r} cannot be used" if kubeconfig is not None
                 else "not running in a cluster")
        raise NoKubernetesConfig(
            f"cannot reach Kubernetes: {where} ({error}); set MODEL_GATEWAY_KUBERNETES_URL or "
            "MODEL_GATEWAY_KUBECONFIG") from error
    return found


@contextlib.asynccontextmanager
async def connected(*, url: str | None, kubeconfig: str | None) -> AsyncIterator[ApiClient]:
    """An ``ApiClient`` for the process's lifetime (one connection pool), closed on exit."""
    async with ApiClient(await configuration(url=url, kubeconfig=kubeconfig)) as api:
        yield api
