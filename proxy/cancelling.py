"""Stopping loops whose task was cancelled, even when the cancellation got lost.

redis-py's asyncio client (seen with redis 8.1 on Python 3.11) sometimes returns normally from
a command during which the calling task was cancelled, swallowing the ``CancelledError``. A
loop that then went on would never stop, and shutdown would hang; every long-lived loop that
talks to Redis calls :func:`raise_if_cancelled` once per turn. The task still knows it was
asked to stop (``Task.cancelling()``), so nothing is guessed.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Raise ``CancelledError`` when the current task has a pending cancellation request."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
