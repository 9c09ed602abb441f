"""The failed-login model's arithmetic: who waits, who is refused, and for how long."""

from __future__ import annotations

from proxy.loginlimits import FailureCount, LoginLimits, retry_after

LIMITS = LoginLimits(pair=10, address=100, backoff_after=20, backoff_max=2.0, window=300)


def test_backoff_starts_at_its_threshold_doubles_and_is_capped() -> None:
    """No wait below the threshold; 50 ms at it, doubling per failure, never past the cap."""
    assert LIMITS.backoff(0) == 0
    assert LIMITS.backoff(19) == 0
    assert LIMITS.backoff(20) == 0.05
    assert LIMITS.backoff(21) == 0.1
    assert LIMITS.backoff(10_000) == 2.0


def test_only_the_pair_and_address_limits_refuse() -> None:
    """A pair or address at its limit is refused for the counter's remaining life."""
    clean = FailureCount(0, -2)
    assert retry_after(LIMITS, pair=FailureCount(9, 5000), address=FailureCount(99, 5000)) is None
    assert retry_after(LIMITS, pair=FailureCount(10, 4200), address=clean) == 5
    assert retry_after(LIMITS, pair=clean, address=FailureCount(100, 61_000)) == 61
    assert retry_after(LIMITS, pair=FailureCount(10, -1), address=clean) == 300


def test_counters_parse_redis_replies() -> None:
    """GET and PTTL replies, including a missing key, become counts and lifetimes."""
    assert FailureCount.parse("7", 1234) == FailureCount(7, 1234)
    assert FailureCount.parse(None, -2) == FailureCount(0, -2)
    assert FailureCount.parse(None, None) == FailureCount(0, -1)
