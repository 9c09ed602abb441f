"""Dev mode shows failures honestly: unknown images fail, GPU instance types wait for GPUs
the node does not have, and the log has a line per phase change; flags and the state
directory's images.txt add images, ``--gpus`` adds GPUs."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from devkit import DevMode, graphql

pytestmark = pytest.mark.timeout(180)

CREATE = """mutation($id: ID!, $image: String!, $type: String!) { createPhDeployment(data: {
  id: $id, name: "demo", groupId: "demo", instanceType: $type, modelImage: $image,
  replicas: 1, endpointAccessType: "private"}) { id } }"""
STATUS = """query($id: ID!) { phDeployment(where: {id: $id}) { status message } }"""
DEMO = "infuseai/sklearn-prepackaged:v0.1.0"


@pytest.fixture
async def stopping() -> AsyncIterator[list[DevMode]]:
    """Dev modes a test starts, stopped at its end."""
    started: list[DevMode] = []
    yield started
    for dev in started:
        if dev.process is not None:
            await dev.stop()


async def start(stopping: list[DevMode], directory: Path, *options: str) -> DevMode:
    dev = DevMode(directory, *options)
    stopping.append(dev)
    await dev.start()
    return dev


async def settles(dev: DevMode, name: str, image: str, instance_type: str,
                  phase: str, message: str) -> dict[str, Any]:
    """Create a deployment; wait until its status is ``phase`` with ``message`` in it."""
    await graphql(dev, CREATE, id=name, image=image, type=instance_type)
    async with asyncio.timeout(30):
        while True:
            found: dict[str, Any] = (await graphql(dev, STATUS, id=name))["phDeployment"]
            if found["status"] == phase and message in (found["message"] or ""):
                return found
            await asyncio.sleep(0.2)


async def test_typos_fail_and_gpus_are_missing_by_default(
        stopping: list[DevMode], tmp_path: Path) -> None:
    """A typo is Failed with ErrImagePull, gpu-1 is unschedulable, and the log (INFO, asked
    for after the subcommand) has a phase-change line for each step."""
    dev = await start(stopping, tmp_path, "--log-level", "INFO")
    assert any("no GPUs: gpu-1 pods stay unschedulable" in printed for printed in dev.lines)
    failed = await settles(dev, "typo", "infuseai/sklearn-prepackged:v0.1.0", "cpu-1",
                           "Failed", "Failed because of wrong image settings.")
    assert "ErrImagePull" in failed["message"] or "ImagePullBackOff" in failed["message"]
    waiting = await settles(dev, "needs-gpu", DEMO, "gpu-1", "Deploying",
                            "Certain pods unschedulable.")
    assert "Insufficient nvidia.com/gpu" in waiting["message"]
    line = re.compile(r"INFO gateway\.controller\.reconciling: phase changed deployment=typo "
                      r"phase=Failed detail=\"Failed because of wrong image settings\. ")
    async with asyncio.timeout(10):
        await dev.wait_for(line)
    assert any("phase changed deployment=needs-gpu phase=Deploying" in printed
               for printed in dev.lines)


async def test_images_and_gpus_can_be_added(stopping: list[DevMode], tmp_path: Path) -> None:
    """--image and images.txt make images pullable; --gpus 1 lets gpu-1 deploy; with
    --log-format json the phase changes are JSON lines with the same fields."""
    (tmp_path / ".model-gateway").mkdir(mode=0o700)
    (tmp_path / ".model-gateway" / "images.txt").write_text("team/from-file\n")
    dev = await start(stopping, tmp_path, "--image", "team/from-flag:1", "--gpus", "1",
                      "--log-level", "INFO", "--log-format", "json")
    assert any("local node    1 GPU\n" in printed for printed in dev.lines)
    await settles(dev, "flagged", "team/from-flag:1", "cpu-1", "Deployed", "")
    await settles(dev, "filed", "team/from-file:7", "cpu-1", "Deployed", "")
    deployed = await settles(dev, "gpu", DEMO, "gpu-1", "Deployed", "")
    async with asyncio.timeout(10):
        await dev.wait_for(re.compile(r'"message":"phase changed","deployment":"gpu",'
                                      r'"phase":"Deployed"'))
    [line] = [json.loads(printed) for printed in dev.lines
              if '"deployment":"gpu","phase":"Deployed"' in printed]
    assert (line["logger"], line["level"], line["message"]) == (
        "gateway.controller.reconciling", "INFO", "phase changed")
    assert line["detail"] == deployed["message"]
