"""Loopback address pools for Service cluster IPs and pod IPs.

Every cluster IP and pod IP is a distinct 127.x.y.z address, so dev mode can bind a real HTTP
server on each pod IP and reach a Service at its cluster IP with nothing but the loopback
interface (Linux routes all of 127.0.0.0/8 to ``lo``). Services draw from 127.1.0.0/16, pods
from 127.2.0.0 up to 127.63.255.255; an address is reused only after it is released. Each
cluster starts at a random point of its pools, so two local clusters on one machine (two dev
modes, parallel test runs) practically never hand out the same address.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterable


class AddressPool:
    """Hands out unused IPv4 addresses from a range, lowest first after the last one given."""

    def __init__(self, first: str, last: str, *, start: str | None = None) -> None:
        self._first = int(ipaddress.IPv4Address(first))
        self._last = int(ipaddress.IPv4Address(last))
        self._used: set[int] = set()
        self._next = self._first if start is None else int(ipaddress.IPv4Address(start))

    def reserve(self, addresses: Iterable[str]) -> None:
        """Mark addresses already held by stored objects (after a reload)."""
        for address in addresses:
            value = int(ipaddress.IPv4Address(address))
            if self._first <= value <= self._last:
                self._used.add(value)

    def allocate(self) -> str:
        size = self._last - self._first + 1
        if len(self._used) >= size:
            raise RuntimeError("address pool exhausted")
        candidate = self._next
        while candidate in self._used or candidate & 0xFF in (0, 255):
            candidate = self._first if candidate >= self._last else candidate + 1
        self._used.add(candidate)
        self._next = self._first if candidate >= self._last else candidate + 1
        return str(ipaddress.IPv4Address(candidate))

    def release(self, address: str) -> None:
        self._used.discard(int(ipaddress.IPv4Address(address)))


def _anywhere(pool_first: str, pool_last: str) -> AddressPool:
    first, last = int(ipaddress.IPv4Address(pool_first)), int(ipaddress.IPv4Address(pool_last))
    start = first + secrets.randbelow(last - first + 1)
    return AddressPool(pool_first, pool_last, start=str(ipaddress.IPv4Address(start)))


def service_pool() -> AddressPool:
    return _anywhere("127.1.0.1", "127.1.255.254")


def pod_pool() -> AddressPool:
    return _anywhere("127.2.0.1", "127.63.255.254")
