"""The images dev mode's local cluster can pull: the demo images, the controller's own, and
the user's.

Dev mode runs the demo model whatever the image says, so without a catalog a typo in an
image name would show ``Deployed``. With one, only these images pull and anything else fails
as on a real cluster (``ErrImagePull``, then ``Failed`` with the reason). The catalog is the
images the README and the PrimeHub demos use, the storage initializers the controller adds
for model URIs, every ``--image`` flag, and the lines of ``images.txt`` in the state
directory, read again at each pull, so adding a line there needs no restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

from gateway.localcluster.images import ImageCatalog
from gateway.sources import DEFAULT_INITIALIZERS

IMAGES_FILE: Final = "images.txt"
DEMO_IMAGES: Final = (
    "infuseai/sklearn-prepackaged:v0.1.0",
    "infuseai/sklearn-prepackaged:v0.2.0",
)


def dev_catalog(state_dir: Path, extra: Iterable[str] = ()) -> ImageCatalog:
    """The dev cluster's catalog: demo and controller images, ``extra``, and the file."""
    return ImageCatalog(images=frozenset((*DEMO_IMAGES, *DEFAULT_INITIALIZERS.values(), *extra)),
                        file=state_dir / IMAGES_FILE)
