"""Read deadlines on a hand-driven clock: when a slow head or body closes its connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from proxy.readdeadlines import ReadDeadline, ReadTimeouts

TIMEOUTS = ReadTimeouts(idle=75, header=10, body=30, body_min_rate=100)


class Clock:
    """The three event-loop calls ReadDeadline makes, on time that moves only when told."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[Timer] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(when, callback)
        self.timers.append(timer)
        return timer

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.call_at(self.now + delay, callback)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        while due := sorted((t for t in self.timers if t.when <= self.now and not t.cancelled),
                            key=lambda t: t.when):
            due[0].cancelled = True
            due[0].callback()


class Timer:
    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when, self.callback, self.cancelled = when, callback, False

    def cancel(self) -> None:
        self.cancelled = True


def deadline() -> tuple[Clock, ReadDeadline, list[float]]:
    clock, expired = Clock(), []
    loop: Any = clock
    return clock, ReadDeadline(loop, TIMEOUTS, lambda: expired.append(clock.now)), expired


def test_a_head_must_be_complete_within_the_header_timeout_of_its_first_byte() -> None:
    """More bytes do not move the deadline; completing the head stops it."""
    clock, reading, expired = deadline()
    reading.head_started()
    clock.advance(6)
    reading.head_started()  # more bytes of the same head
    clock.advance(4)
    assert expired == [10]
    clock, reading, expired = deadline()
    reading.head_started()
    clock.advance(9)
    reading.stop()
    clock.advance(100)
    assert expired == []


def test_a_body_earns_a_second_per_min_rate_bytes() -> None:
    """At the minimum rate or faster a body is never cut; below it, it is."""
    clock, reading, expired = deadline()
    reading.body_started()
    for _ in range(100):
        clock.advance(1)
        reading.body_progress(100)  # exactly the minimum rate
    assert expired == []
    clock, reading, expired = deadline()
    reading.body_started()
    for _ in range(100):
        clock.advance(1)
        reading.body_progress(50)  # half the rate: 30 s + t/2 = t at about t = 60
    assert len(expired) == 1
    assert 58 <= expired[0] <= 60


def test_time_the_server_is_not_reading_is_not_counted() -> None:
    """While the server pauses reading, the body's clock stops, even past its deadline."""
    clock, reading, expired = deadline()
    reading.body_started()
    clock.advance(20)
    reading.paused()
    clock.advance(100)
    assert expired == []
    reading.resumed()
    clock.advance(9)
    assert expired == []
    clock.advance(1)
    assert expired == [130]
