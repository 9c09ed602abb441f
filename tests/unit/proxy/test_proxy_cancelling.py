"""A loop notices a cancellation that a library swallowed."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from proxy.cancelling import raise_if_cancelled


async def test_a_swallowed_cancellation_still_stops_the_loop() -> None:
    """After a cancel that an await swallowed, the next check raises CancelledError."""
    turns = 0

    async def loop() -> None:
        nonlocal turns
        while True:
            with contextlib.suppress(asyncio.CancelledError):  # a misbehaving library
                await asyncio.sleep(1)
            turns += 1
            raise_if_cancelled()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert turns == 1


async def test_an_uncancelled_task_goes_on() -> None:
    """Without a cancellation request the check does nothing."""
    raise_if_cancelled()
