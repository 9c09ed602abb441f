"""``python -m proxy``: run the auth proxy with settings from the environment."""

import os
import sys

from proxy.environment import SettingsError
from proxy.logformats import LogSettings
from proxy.serving import run
from proxy.settings import ProxySettings

try:
    settings = ProxySettings.from_env(os.environ)
    log_settings = LogSettings.from_env(os.environ)
except SettingsError as error:
    sys.exit(str(error))
run(settings, log=log_settings)
