"""Saving the local cluster's state: a real change is written, a lease renewal alone is not."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from gateway.localcluster.persistence import StateFile
from gateway.localcluster.store import Store


def _object(name: str) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": "default"}}


def _saved_version(path: Path) -> int:
    return int(json.loads(path.read_text())["resourceVersion"]) if path.exists() else 0


async def _until_saved(path: Path, version: int) -> None:
    for _ in range(1000):  # up to 10 s on a loaded machine; a save takes milliseconds
        if _saved_version(path) == version:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"version {version} was never saved (saved: {_saved_version(path)})")


async def test_a_change_is_saved_and_a_lease_renewal_alone_is_not(tmp_path: Path) -> None:
    """A lease write schedules no save; the next real change saves both."""
    store = Store(history=10)
    state = StateFile(tmp_path, store, delay=0.01)
    state.watch()
    store.put("/pods", _object("a"), external=True)
    await _until_saved(state.path, 1)
    store.put("coordination.k8s.io/leases", _object("leader"), external=True)
    await asyncio.sleep(0.2)  # ample for a save that was scheduled (none must be)
    assert _saved_version(state.path) == 1
    store.put("/pods", _object("b"), external=True)
    await _until_saved(state.path, 3)
    saved = json.loads(state.path.read_text())["objects"]
    assert [item["metadata"]["name"] for item in saved["coordination.k8s.io/leases"]] == [
        "leader"]
    state.close()


async def test_close_saves_what_a_lease_renewal_changed(tmp_path: Path) -> None:
    """A clean stop writes everything, lease renewals included."""
    store = Store(history=10)
    state = StateFile(tmp_path, store, delay=0.01)
    state.watch()
    store.put("coordination.k8s.io/leases", _object("leader"), external=True)
    state.close()
    assert _saved_version(state.path) == 1
