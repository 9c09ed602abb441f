"""Dev mode's fixed loopback ports, checked before anything starts.

A newcomer who already runs something on 8080 should read which flag moves dev mode's API,
not a traceback from deep inside the third component to start.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping


class PortInUse(Exception):
    """A port dev mode needs is taken; the message says which flag moves it."""


def check_ports(host: str, ports: Mapping[str, int]) -> None:
    """Fail before starting anything when a port (keyed by its flag) is taken; 0 is any."""
    for flag, port in ports.items():
        if port == 0:
            continue
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                raise PortInUse(f"port {port} on {host} is in use ({error.strerror}); "
                                f"choose another with {flag}") from error
