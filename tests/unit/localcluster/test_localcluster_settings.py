"""The local cluster's image catalog and GPU settings come from the environment, checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.localcluster import LocalClusterSettings
from gateway.localcluster.images import ImageCatalog
from gateway.settings import SettingsError


def test_catalog_gpus_and_back_off_are_read(tmp_path: Path) -> None:
    """IMAGE_CATALOG names a file, GPUS a count, PULL_BACK_OFF seconds; unset means none."""
    listed = tmp_path / "images.txt"
    listed.write_text("nginx\n")
    settings = LocalClusterSettings.from_env({
        "MODEL_GATEWAY_KUBE_IMAGE_CATALOG": str(listed), "MODEL_GATEWAY_KUBE_GPUS": "2",
        "MODEL_GATEWAY_KUBE_PULL_BACK_OFF": "1.5"})
    assert settings.image_catalog == ImageCatalog(file=listed)
    assert (settings.gpus, settings.pull_back_off) == (2, 1.5)
    defaults = LocalClusterSettings.from_env({})
    assert (defaults.image_catalog, defaults.gpus) == (None, None)


def test_bad_catalog_and_gpu_values_are_reported_together(tmp_path: Path) -> None:
    """A catalog that is not a file and a negative GPU count: both named at once."""
    with pytest.raises(SettingsError) as raised:
        LocalClusterSettings.from_env({
            "MODEL_GATEWAY_KUBE_IMAGE_CATALOG": str(tmp_path / "missing"),
            "MODEL_GATEWAY_KUBE_GPUS": "-1"})
    assert [problem.split(":")[0] for problem in raised.value.problems] == [
        "MODEL_GATEWAY_KUBE_IMAGE_CATALOG", "MODEL_GATEWAY_KUBE_GPUS"]
