"""Rendering the chart with the real helm binary and reading the manifests it produces.

Scenarios are the default values plus every values file under ``helm/model-gateway/ci/``
(the files ``helm lint`` and chart-testing also use). Rendering uses a fixed release name and
namespace so assertions can name objects. :func:`crd_json_schema` turns a CRD's structural
``openAPIV3Schema`` into a JSON Schema that rejects unknown fields, as the API server does with
strict field validation, so custom resources the chart renders are checked against it.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

REPO: Final = Path(__file__).resolve().parents[2]
CHART: Final = REPO / "helm" / "model-gateway"
RELEASE: Final = "mg"
NAMESPACE: Final = "models"
PREFIX: Final = f"{RELEASE}-model-gateway"
COMPONENTS: Final = ("api", "controller", "proxy")

Manifest = dict[str, Any]


def scenario_files() -> dict[str, Path | None]:
    """Scenario name -> values file (``None`` for the chart's defaults)."""
    scenarios: dict[str, Path | None] = {"default": None}
    for path in sorted((CHART / "ci").glob("*-values.yaml")):
        scenarios[path.name.removesuffix("-values.yaml")] = path
    return scenarios


class HelmFailed(AssertionError):
    """helm exited non-zero; the message carries its output."""


def run_helm(helm: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603  the pinned helm, an argument list, no shell
        [str(helm), *args], capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise HelmFailed(f"helm {' '.join(args)} failed:\n{done.stderr}{done.stdout}")
    return done.stdout


def template_args(values: Path | None, settings: Sequence[str] = (),
                  json_settings: Sequence[str] = ()) -> list[str]:
    """``helm template`` arguments; ``settings`` go to ``--set``, ``json_settings`` to
    ``--set-json`` (``path=<JSON>``, for maps and typed values)."""
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE]
    if values is not None:
        args += ["--values", str(values)]
    for setting in settings:
        args += ["--set", setting]
    for setting in json_settings:
        args += ["--set-json", setting]
    return args


def render(helm: Path, values: Path | None = None, settings: Sequence[str] = (),
           json_settings: Sequence[str] = (), *, fresh: bool = False) -> list[Manifest]:
    """The manifests ``helm template`` renders, empty documents dropped.

    Renders are memoised (many tests share a baseline; callers must not mutate them) unless
    ``fresh``: generated secrets differ only between real renders.
    """
    key = (helm, values, tuple(settings), tuple(json_settings))
    if fresh:
        return list(_rendered.__wrapped__(*key))
    return list(_rendered(*key))


@functools.cache
def _rendered(helm: Path, values: Path | None, settings: tuple[str, ...],
              json_settings: tuple[str, ...]) -> tuple[Manifest, ...]:
    output = run_helm(helm, *template_args(values, settings, json_settings))
    return tuple(doc for doc in yaml.safe_load_all(output) if doc)


@dataclass(frozen=True)
class Rendered:
    """One scenario's manifests with lookups by kind and name."""

    name: str
    manifests: list[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] == kind]

    def get(self, kind: str, name: str) -> Manifest:
        found = [m for m in self.of_kind(kind) if m["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.name}: expected one {kind} {name}, found {len(found)}"
        return found[0]

    def has(self, kind: str, name: str) -> bool:
        return any(m["metadata"]["name"] == name for m in self.of_kind(kind))

    def workloads(self) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] in ("Deployment", "StatefulSet")]

    def component(self, component: str) -> Manifest:
        """The Deployment of ``api``, ``controller`` or ``proxy``."""
        return self.get("Deployment", f"{PREFIX}-{component}")


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Manifest) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Environment variables by name (each the whole EnvVar)."""
    return {item["name"]: item for item in container.get("env", [])}


@functools.cache
def crd_documents() -> list[Manifest]:
    docs: list[Manifest] = []
    for path in sorted((CHART / "crds").glob("*.yaml")):
        docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def crd_for(api_version: str, kind: str) -> tuple[Manifest, Manifest] | None:
    """``(crd, version entry)`` of the chart's CRD serving ``api_version``/``kind``."""
    group, _, version = api_version.rpartition("/")
    for crd in crd_documents():
        spec = crd["spec"]
        if spec["group"] != group or spec["names"]["kind"] != kind:
            continue
        for entry in spec["versions"]:
            if entry["name"] == version and entry.get("served", True):
                return crd, entry
    return None


def crd_json_schema(structural: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema equivalent of a structural schema, unknown fields rejected."""
    converted: dict[str, Any] = {}
    for key, value in structural.items():
        if key == "properties":
            converted[key] = {name: crd_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            converted[key] = crd_json_schema(value)
        elif key in ("anyOf", "allOf", "oneOf"):
            converted[key] = [crd_json_schema(sub) for sub in value]
        elif key == "not":
            converted[key] = crd_json_schema(value)
        elif key == "nullable":
            continue
        elif not key.startswith("x-kubernetes-"):
            converted[key] = value
    if structural.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    if structural.get("x-kubernetes-int-or-string"):
        converted.pop("type", None)
    preserves = structural.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in converted and "additionalProperties" not in converted and not preserves:
        converted["additionalProperties"] = False
    return converted


def documented_paths(values: dict[str, Any], prefix: str = "") -> Iterable[str]:
    """Every leaf path of a values tree (a non-empty map is a branch, anything else a leaf)."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and not _is_free_form(path):
            yield from documented_paths(value, f"{path}.")
        else:
            yield path


# Maps whose keys are data (Kubernetes objects passed through), documented as one value.
FREE_FORM: Final = frozenset({
    "podSecurityContext", "containerSecurityContext", "redis.podSecurityContext",
    "redis.containerSecurityContext", "metrics.grafanaDashboard.labels",
})


def _is_free_form(path: str) -> bool:
    return path in FREE_FORM or path.endswith(".resources")


_KEY_LINE: Final = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+):")


def value_descriptions(text: str) -> dict[str, str | None]:
    """Each leaf path of values.yaml -> its ``# --`` description (``None`` when missing).

    A description is the ``# -- `` comment line directly above the key.
    """
    leaves = set(documented_paths(yaml.safe_load(text)))
    stack: list[tuple[int, str]] = []
    found: dict[str, str | None] = {}
    previous = ""
    for line in text.splitlines():
        match = _KEY_LINE.match(line)
        if match:
            indent = len(match["indent"])
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, match["key"]))
            path = ".".join(key for _, key in stack)
            if path in leaves:
                comment = previous.strip()
                found[path] = comment.removeprefix("# -- ") if comment.startswith("# -- ") \
                    else None
        if line.strip():
            previous = line
    return found


def values_table(text: str) -> str:
    """The README's table of values: path, default (as JSON), description."""
    values = yaml.safe_load(text)
    rows = ["| Value | Default | Description |", "| --- | --- | --- |"]
    for path, description in value_descriptions(text).items():
        default: Any = values
        for key in path.split("."):
            default = default[key]
        shown = json.dumps(default, separators=(", ", ": ")).replace("|", "\\|")
        rows.append(f"| `{path}` | `{shown}` | {description} |")
    return "\n".join(rows)
