"""Finding the Kubernetes API: explicit URL first, then kubeconfig, then in-cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.kube.connecting import NoKubernetesConfig, configuration


async def test_an_explicit_url_wins() -> None:
    """A URL is used as it is, even when a kubeconfig is also named."""
    found = await configuration(url="http://127.0.0.1:6443", kubeconfig="/nonexistent")
    assert found.host == "http://127.0.0.1:6443"


async def test_outside_a_cluster_with_nothing_set_the_error_says_what_to_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No URL, no kubeconfig and no service account: one sentence naming both settings."""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(NoKubernetesConfig, match="MODEL_GATEWAY_KUBERNETES_URL"):
        await configuration(url=None, kubeconfig=None)


async def test_a_broken_kubeconfig_is_named(tmp_path: Path) -> None:
    """An unusable kubeconfig file is reported with its path."""
    broken = tmp_path / "config"
    broken.write_text("apiVersion: v1\nkind: Config\n")
    with pytest.raises(NoKubernetesConfig, match=str(broken)):
        await configuration(url=None, kubeconfig=str(broken))
