"""Loopback address pools for cluster IPs and pod IPs."""

from __future__ import annotations

import pytest

from gateway.localcluster.addresses import AddressPool


def test_addresses_are_distinct_and_skip_network_and_broadcast() -> None:
    """Each allocation is new and never ends in .0 or .255."""
    pool = AddressPool("127.1.0.250", "127.1.1.5")
    given = [pool.allocate() for _ in range(10)]
    assert len(set(given)) == 10
    assert not any(address.endswith((".0", ".255")) for address in given)


def test_released_and_reserved_addresses() -> None:
    """Reserved addresses are never handed out; released ones come back after a wrap."""
    pool = AddressPool("127.1.0.1", "127.1.0.3")
    pool.reserve(["127.1.0.2"])
    first, second = pool.allocate(), pool.allocate()
    assert {first, second} == {"127.1.0.1", "127.1.0.3"}
    with pytest.raises(RuntimeError):
        pool.allocate()
    pool.release(first)
    assert pool.allocate() == first


def test_clusters_start_at_random_points_of_their_pools() -> None:
    """Two clusters' first pod IPs differ, so two dev modes on one machine do not clash."""
    from gateway.localcluster.addresses import pod_pool

    firsts = {pod_pool().allocate() for _ in range(5)}
    assert len(firsts) > 1
