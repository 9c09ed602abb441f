"""The work queue: coalescing, per-key exclusion, backoff and delayed adds."""

from __future__ import annotations

import asyncio

import pytest

from gateway.controller.queueing import QueueShutDown, WorkQueue


def make() -> WorkQueue[str]:
    return WorkQueue(retry_base=0.01, retry_cap=0.04)


async def test_adds_of_a_waiting_key_coalesce() -> None:
    """A key added three times before it is taken is handed out once."""
    queue = make()
    for key in ("a", "b", "a", "a"):
        queue.add(key)
    assert len(queue) == 2
    assert [await queue.get(), await queue.get()] == ["a", "b"]
    assert len(queue) == 0


async def test_a_key_added_while_held_comes_back_after_done_and_not_before() -> None:
    """An event during a reconcile is kept; the key is never handed to two workers."""
    queue = make()
    queue.add("a")
    held = await queue.get()
    assert not queue.idle
    queue.add("a")
    second = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not second.done()
    queue.done(held)
    assert await asyncio.wait_for(second, 1) == "a"
    queue.done("a")
    assert queue.idle


async def test_retry_backs_off_exponentially_up_to_the_cap_and_forget_resets() -> None:
    """Delays double per failure, stop at the cap, and start over after forget."""
    queue = make()
    delays = [queue.retry("a") for _ in range(4)]
    assert delays == [0.01, 0.02, 0.04, 0.04]
    queue.forget("a")
    assert queue.retry("a") == 0.01


async def test_add_after_delivers_later_and_keeps_only_the_earliest() -> None:
    """A delayed key arrives after its delay; an earlier schedule replaces a later one."""
    queue = make()
    loop = asyncio.get_running_loop()
    queue.add_after("a", 5)
    queue.add_after("a", 0.05)
    queue.add_after("a", 3)
    started = loop.time()
    assert await asyncio.wait_for(queue.get(), 2) == "a"
    assert 0.04 <= loop.time() - started < 2
    queue.done("a")


async def test_shutdown_wakes_every_waiting_worker() -> None:
    """Workers blocked in get() all end with QueueShutDown."""
    queue = make()
    waiters = [asyncio.create_task(queue.get()) for _ in range(3)]
    await asyncio.sleep(0)
    queue.shutdown()
    for waiter in waiters:
        with pytest.raises(QueueShutDown):
            await asyncio.wait_for(waiter, 1)
    queue.add("late")
    assert len(queue) == 0
