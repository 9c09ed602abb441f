"""Read your writes: a mutation returns only once the watch cache shows what it wrote.

Reads are served from the caches, which learn of a write through the watch a moment later; a
client that reads right after a mutation must see it. The wait is bounded: a slow watch costs
freshness, never an error (the mutation already succeeded).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final, TypeVar

from gateway.api.indexes import Index

T = TypeVar("T")
WAIT: Final = 2.0


async def caught_up(index: Index[T], name: str, version: str | None) -> None:
    """Wait until ``index`` holds ``name`` at ``version`` (``None``: until it is gone)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(WAIT):
            await index.observed(name, version)
