"""Dev mode's image catalog pulls every image the README uses, except the quickstart's
deliberate typo, and the controller's own storage initializers."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.dev.images import IMAGES_FILE, dev_catalog
from gateway.sources import DEFAULT_INITIALIZERS

README = Path(__file__).resolve().parents[3] / "README.md"
TYPO_STEP = re.compile(r"<!-- step: fails -->\s*```sh\n(?P<body>.*?)```", re.DOTALL)
IMAGE = re.compile(r'modelImage: \\"(?P<image>[^\\"]+)\\"')


def test_readme_images_pull_and_the_typo_does_not(tmp_path: Path) -> None:
    """Each modelImage in the README pulls in dev mode; the one of the failing step does not."""
    text = README.read_text()
    typo_step = TYPO_STEP.search(text)
    assert typo_step is not None
    typos = {found["image"] for found in IMAGE.finditer(typo_step["body"])}
    images = {found["image"] for found in IMAGE.finditer(text)} - typos
    assert typos
    assert images
    catalog = dev_catalog(tmp_path)
    for image in images | set(DEFAULT_INITIALIZERS.values()):
        assert catalog.pull(image) is None, image
    for image in typos:
        assert catalog.pull(image) is not None, image


def test_flags_and_the_state_file_add_images(tmp_path: Path) -> None:
    """--image values and lines of images.txt pull too."""
    (tmp_path / IMAGES_FILE).write_text("team/from-file\n")
    catalog = dev_catalog(tmp_path, ["team/from-flag:2"])
    assert catalog.pull("team/from-file:9") is None
    assert catalog.pull("team/from-flag:2") is None
    assert catalog.pull("team/from-flag:3") is not None
