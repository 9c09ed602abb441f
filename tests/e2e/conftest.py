"""The one ``dev`` fixture every end-to-end test starts from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from devkit import DevMode


@pytest.fixture
async def dev(tmp_path: Path) -> AsyncIterator[DevMode]:
    """Dev mode in an empty directory (its state goes to ./.model-gateway), stopped with
    Ctrl-C at the end unless the test already stopped it."""
    running = DevMode(tmp_path)
    await running.start()
    yield running
    if running.process is not None:
        await running.stop()
