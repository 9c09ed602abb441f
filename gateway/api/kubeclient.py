"""The Kubernetes ``ApiClient`` the API uses, configured from its settings.

Found in order: an explicit server URL (the local cluster, ``kubectl proxy``: plain HTTP, no
credentials), a kubeconfig file, the in-cluster service account.
"""

from __future__ import annotations

from kubernetes_asyncio import config
from kubernetes_asyncio.client import ApiClient, Configuration

from gateway.api.settings import ApiSettings


async def api_client(settings: ApiSettings) -> ApiClient:
    configuration = Configuration()
    if settings.kubernetes_url is not None:
        configuration.host = settings.kubernetes_url
    elif settings.kubeconfig is not None:
        await config.load_kube_config(config_file=settings.kubeconfig,
                                      client_configuration=configuration, persist_config=False)
    else:
        config.load_incluster_config(  # type: ignore[no-untyped-call]  # untyped library
            client_configuration=configuration)
    return ApiClient(configuration)
