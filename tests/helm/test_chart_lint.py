"""helm lint on every scenario, and values.schema.json refusing values that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest
from chartkit import CHART, NAMESPACE, HelmFailed, render, run_helm, scenario_files


@pytest.mark.parametrize("scenario", sorted(scenario_files()))
def test_lint_passes_strictly(helm: Path, scenario: str) -> None:
    """`helm lint --strict` passes with the defaults and with every ci values file."""
    values = scenario_files()[scenario]
    args = ["lint", str(CHART), "--strict", "--namespace", NAMESPACE]
    if values is not None:
        args += ["--values", str(values)]
    output = run_helm(helm, *args)
    assert "0 chart(s) failed" in output


@pytest.mark.parametrize(("setting", "complaint"), [
    ("proxy.workerz=2", "Additional property workerz is not allowed"),
    ("proxy.workers=0", "proxy.workers"),
    ("api.logLevel=LOUD", "api.logLevel"),
    ("tokenHashScheme=md5", "tokenHashScheme"),
    ("image.digest=latest", "image.digest"),
    ("redis.enabled=false", "redis.external.url"),
    ("ingress.enabled=true", "ingress.host"),
    ("redis.external.url=redis://:hunter2@redis:6379/0", "redis.external.url"),
])
def test_schema_rejects_bad_values(helm: Path, setting: str, complaint: str) -> None:
    """A typo, an out-of-range number or a password in a URL stops the install with a message."""
    with pytest.raises(HelmFailed, match="values don't meet the specifications") as failure:
        render(helm, settings=[setting])
    assert complaint in str(failure.value)


def test_tls_needs_a_certificate_secret(helm: Path) -> None:
    """Turning TLS on without naming the certificate Secret is refused, not rendered broken."""
    settings = ["ingress.enabled=true", "ingress.host=models.example.com",
                "ingress.tls.enabled=true"]
    with pytest.raises(HelmFailed, match=r"ingress\.tls\.secretName"):
        render(helm, settings=settings)
