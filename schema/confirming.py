"""A token is returned only once the proxy can verify it (design.md, "Read-your-writes").

:func:`usable` waits, through :class:`gateway.api.dataplane.DataPlane`, until the controller
has published a private deployment's credentials to Redis. A public deployment needs no
token, so there is nothing to wait for. A deployment that is gone, or that the controller
reported ``Failed`` for this spec and cannot route, has no route the proxy could check a token
against: its credentials arrive with the route, if one ever comes, so it is settled too.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.kube.phdeployments import PhDeployment as DeploymentView
from schema.context import Context


async def usable(context: Context, deployment: DeploymentView,
                 credentials: Mapping[str, str]) -> None:
    """Return once every ``credentials`` (client -> hash) of ``deployment`` (as written) can be
    verified by the proxy; :class:`~gateway.api.dataplane.NotConfirmed` after the configured
    wait."""
    if deployment.spec.endpoint.access_type != "private" or not credentials:
        return
    cache = context.services.store.deployments

    def settled() -> bool:
        now = cache.get(deployment.name)
        if now is None or now.uid != deployment.uid:
            return True
        observed = now.status.observed_generation or 0
        return now.status.phase == "Failed" and observed >= deployment.generation

    await context.services.data_plane.confirm(deployment.name, credentials, settled=settled)

