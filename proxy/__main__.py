"""``python -m proxy``: run the auth proxy with settings from the environment."""

import os
import sys

from proxy.serving import run
from proxy.settings import ProxySettings, ProxySettingsError

try:
    settings = ProxySettings.from_env(os.environ)
except ProxySettingsError as error:
    sys.exit(str(error))
run(settings)
