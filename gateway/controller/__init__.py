"""The controller: PhDeployments become Deployments and Services, honest status, and Redis.

``serve(settings)`` runs one replica; ``ControllerSettings.from_env(os.environ)`` builds its
settings. See :mod:`gateway.controller.reconciling` for the loop.
"""

from gateway.controller.running import serve
from gateway.controller.settings import ControllerSettings

__all__ = ["ControllerSettings", "serve"]
