"""In-flight counting: the mean concurrency of a period, and the load record's shape."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from proxy.inflight import Inflight
from proxy.records import Load, RecordError, decode_load, encode_load, split_target


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def counter(clock: Clock) -> Inflight:
    # Never connects: only take() is used, which does no I/O.
    return Inflight(redis=Redis(), interval=1.0, proxy_id="0" * 32, clock=clock)


def test_a_period_reports_mean_concurrency_and_admissions() -> None:
    """Two requests for half the period each and one throughout: mean 2, three admitted."""
    clock = Clock()
    inflight = counter(clock)
    inflight.take()
    for _ in range(3):
        inflight.started("iris@predictor1")
    clock.now += 0.5
    inflight.ended("iris@predictor1")
    inflight.ended("iris@predictor1")
    clock.now += 0.5
    assert inflight.take() == {"iris@predictor1": Load(2.0, 3)}
    clock.now += 1.0
    assert inflight.take() == {"iris@predictor1": Load(1.0, 0)}
    inflight.ended("iris@predictor1")
    clock.now += 1.0
    assert inflight.take() == {"iris@predictor1": Load(0.0, 0)}
    assert inflight.take() == {}


def test_load_records_round_trip_and_refuse_garbage() -> None:
    """A load is '<concurrency> <requests>'; anything else is a RecordError."""
    assert decode_load(encode_load(Load(2.5, 7))) == Load(2.5, 7)
    for raw in ("2.5", "-1 3", "1 2\n", "x y", "1e9 1"):
        with pytest.raises(RecordError):
            decode_load(raw)


def test_targets_name_a_deployment_and_a_predictor() -> None:
    """``<id>@<predictor>`` splits back; a malformed one is refused."""
    assert split_target("iris@predictor1") == ("iris", "predictor1")
    for raw in ("iris", "@p", "iris@", "iris@Bad", "a@b@c"):
        with pytest.raises(RecordError):
            split_target(raw)
