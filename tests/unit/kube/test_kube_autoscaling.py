"""The stored ``autoscaling`` block: parsed, written back, and refused when broken."""

from __future__ import annotations

import pytest

from gateway.kube import autoscaling
from gateway.kube.autoscaling import Autoscaling
from gateway.kube.views import MalformedObject


def test_block_round_trips() -> None:
    """What the builder writes, the parser reads back unchanged."""
    block = Autoscaling(min_replicas=0, max_replicas=4, target_concurrency=2.5,
                        scale_to_zero_after_seconds=30)
    assert autoscaling.parse({"autoscaling": autoscaling.body(block)}, where="p") == block


def test_absent_block_means_fixed_replicas() -> None:
    """No block (or null) is no autoscaling."""
    assert autoscaling.parse({}, where="p") is None
    assert autoscaling.parse({"autoscaling": None}, where="p") is None


@pytest.mark.parametrize("block", [
    {"minReplicas": 2, "maxReplicas": 1, "targetConcurrency": 1},
    {"minReplicas": 1, "maxReplicas": 2},
    {"minReplicas": 1, "maxReplicas": 2, "targetConcurrency": "1"},
    "fast",
])
def test_a_broken_stored_block_is_malformed(block: object) -> None:
    """A block written around the API (kubectl) that breaks a rule is reported, not guessed."""
    with pytest.raises(MalformedObject, match=r"p\.autoscaling"):
        autoscaling.parse({"autoscaling": block}, where="p")


def test_clamp_and_idle_default() -> None:
    """Decisions stay within the bounds; scale to zero waits 300 s unless told."""
    block = Autoscaling(min_replicas=0, max_replicas=3, target_concurrency=1)
    assert (block.clamp(-1), block.clamp(2), block.clamp(9)) == (0, 2, 3)
    assert block.idle_seconds == 300
