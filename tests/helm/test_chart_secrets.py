"""Secret material: never a chart value, always referenced from a Secret, generated on install
and kept across upgrades. Upgrades are checked against the local cluster: helm's ``lookup``
reads the Secret a previous install left, exactly as during ``helm upgrade``."""

from __future__ import annotations

import asyncio
import base64
import os
import re
from pathlib import Path
from typing import Any, Final

import yaml
from chartkit import (
    CHART,
    NAMESPACE,
    PREFIX,
    Rendered,
    containers,
    documented_paths,
    env_of,
    render,
    template_args,
)
from kubernetes_asyncio.client import ApiClient, CoreV1Api, V1Namespace, V1ObjectMeta, V1Secret

from gateway.localcluster import LocalCluster

SECRET_ENV: Final = re.compile(r"(PASSWORD|PEPPER|SECRET|TOKEN)$")
SECRET_VALUE_NAME: Final = re.compile(r"(password|token|pepper)$", re.IGNORECASE)


def _decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def test_values_hold_no_secret_material() -> None:
    """No value is a password, token or pepper: only Secret names and keys."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    offenders = [path for path in documented_paths(values)
                 if SECRET_VALUE_NAME.search(path.rsplit(".", 1)[-1])]
    assert offenders == []


def test_secret_settings_come_from_secrets(rendered: Rendered) -> None:
    """Every password, pepper, secret or token variable is a secretKeyRef, never a literal."""
    for workload in rendered.workloads():
        for container in containers(workload):
            for name, item in env_of(container).items():
                if SECRET_ENV.search(name):
                    assert "value" not in item, f"{rendered.name}: {name} is a literal"
                    assert "secretKeyRef" in item["valueFrom"], name


def test_secret_values_appear_nowhere_else(rendered: Rendered) -> None:
    """Generated secrets are only in their Secret: not in ConfigMaps, env or annotations."""
    secrets = [value for secret in rendered.of_kind("Secret")
               for value in _decoded(secret).values()]
    others = yaml.safe_dump_all([m for m in rendered.manifests if m["kind"] != "Secret"])
    for value in secrets:
        assert value not in others


def test_install_generates_strong_distinct_secrets(helm: Path, default: Rendered) -> None:
    """Pepper, bootstrap token and Redis password: long, random, different on every install."""
    again = Rendered("again", render(helm, fresh=True))
    for name in (PREFIX, f"{PREFIX}-redis"):
        first = _decoded(default.get("Secret", name))
        second = _decoded(again.get("Secret", name))
        for key, value in first.items():
            assert len(value) >= 32, key
            assert value != second[key], key
    assert set(_decoded(default.get("Secret", PREFIX))) == {"pepper", "bootstrap-admin-token"}


def test_the_bootstrap_token_is_a_mounted_file(default: Rendered) -> None:
    """The API reads the bootstrap token from a file, so it is not in the process environment."""
    (api,) = containers(default.component("api"))
    path = env_of(api)["MODEL_GATEWAY_API_BOOTSTRAP_TOKEN_FILE"]["value"]
    mount = next(m for m in api["volumeMounts"] if path.startswith(m["mountPath"] + "/"))
    volume = next(v for v in default.component("api")["spec"]["template"]["spec"]["volumes"]
                  if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == PREFIX
    assert volume["secret"]["items"] == [{"key": "bootstrap-admin-token",
                                          "path": path.rsplit("/", 1)[-1]}]


def test_existing_secrets_replace_generated_ones(rendered_scenarios: dict[str, Rendered]) -> None:
    """With existingSecret set, the chart creates no Secret and points every reference at it."""
    rendered = rendered_scenarios["ingress-tls"]
    assert rendered.of_kind("Secret") == []
    references = {item["valueFrom"]["secretKeyRef"]["name"]
                  for workload in rendered.workloads() for container in containers(workload)
                  for item in env_of(container).values() if "valueFrom" in item
                  and "secretKeyRef" in item["valueFrom"]}
    assert references == {"model-gateway-secrets", "model-gateway-redis", "sso-shared-secret"}


async def _helm_against(helm: Path, cluster: LocalCluster, scratch: Path) -> Rendered:
    """``helm template`` with lookups served by ``cluster``, as an upgrade would see them."""
    env = {**os.environ, "KUBECONFIG": os.devnull, "HELM_CACHE_HOME": str(scratch / "cache"),
           "HELM_CONFIG_HOME": str(scratch / "config"), "HELM_DATA_HOME": str(scratch / "data")}
    process = await asyncio.create_subprocess_exec(
        str(helm), *template_args(None), "--dry-run=server", "--kube-apiserver", cluster.url,
        "--kube-insecure-skip-tls-verify",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    output, errors = await process.communicate()
    assert process.returncode == 0, errors.decode()
    return Rendered("upgrade", [doc for doc in yaml.safe_load_all(output) if doc])


async def test_upgrades_keep_generated_secrets(helm: Path, cluster: LocalCluster,
                                               kube: ApiClient, tmp_path: Path) -> None:
    """Values already in the cluster are rendered again unchanged; missing keys are generated."""
    core = CoreV1Api(kube)
    await core.create_namespace(V1Namespace(metadata=V1ObjectMeta(name=NAMESPACE)))
    await core.create_namespaced_secret(NAMESPACE, V1Secret(
        metadata=V1ObjectMeta(name=PREFIX),
        string_data={"pepper": "pepper-from-the-first-install"}))
    await core.create_namespaced_secret(NAMESPACE, V1Secret(
        metadata=V1ObjectMeta(name=f"{PREFIX}-redis"),
        string_data={"redis-password": "password-from-the-first-install"}))
    upgraded = await _helm_against(helm, cluster, tmp_path)
    secrets = _decoded(upgraded.get("Secret", PREFIX))
    assert secrets["pepper"] == "pepper-from-the-first-install"
    assert len(secrets["bootstrap-admin-token"]) >= 32
    redis = _decoded(upgraded.get("Secret", f"{PREFIX}-redis"))
    assert redis == {"redis-password": "password-from-the-first-install"}
