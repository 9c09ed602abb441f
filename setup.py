"""The package build hook: the web console's front-end build runs before the files are packed.

``pip install .`` and ``pip install -e .`` both run setuptools' ``build_py``; this one first
runs, in ``console/``, ``npm ci`` (only when ``node_modules`` is missing or older than
``package-lock.json``) and ``npm run build``, which writes ``gateway/console_dist/``. Those
files are package data, so the wheel ships the built console and nothing is fetched at run
time. Without npm the build stops and says what to install.
``MODEL_GATEWAY_SKIP_CONSOLE_BUILD=1`` skips the step (the container image builds the console
in a stage of its own and copies the result in). Everything else about the package is in
``pyproject.toml``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CONSOLE = ROOT / "console"
OUTPUT = ROOT / "gateway" / "console_dist"


class ConsoleBuildError(RuntimeError):
    """The console could not be built; the message says why and what to do."""


def _run(command: list[str], *, console: Path) -> None:
    print(f"console build: {' '.join(command)} (in {console})", flush=True)
    try:
        subprocess.run(command, cwd=console, check=True)  # noqa: S603 (fixed commands)
    except subprocess.CalledProcessError as error:
        raise ConsoleBuildError(
            f"`{' '.join(command)}` failed in {console} (exit {error.returncode}); its output "
            "is above") from error


def build_console(console: Path = CONSOLE, output: Path = OUTPUT) -> None:
    """Build the console into ``output`` (see the module docstring)."""
    if os.environ.get("MODEL_GATEWAY_SKIP_CONSOLE_BUILD") == "1":
        print("console build: skipped (MODEL_GATEWAY_SKIP_CONSOLE_BUILD=1)", flush=True)
        return
    if not (console / "package.json").is_file():
        print(f"console build: no {console / 'package.json'}, nothing to build", flush=True)
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ConsoleBuildError(
            "Building model-gateway needs npm (Node.js 18 or newer) to build the web "
            "console: install Node.js (Debian: apt-get install nodejs npm) and run pip "
            "again, or set MODEL_GATEWAY_SKIP_CONSOLE_BUILD=1 to build without the console.")
    lock = console / "package-lock.json"
    installed = console / "node_modules" / ".package-lock.json"
    if not installed.is_file() or (lock.is_file() and
                                   installed.stat().st_mtime < lock.stat().st_mtime):
        _run([npm, "ci", "--no-audit", "--no-fund"], console=console)
    _run([npm, "run", "build"], console=console)
    if not (output / "index.html").is_file():
        raise ConsoleBuildError(f"`npm run build` wrote no {output / 'index.html'}")


class BuildPyWithConsole(build_py):
    """``build_py`` that builds the console first, so its files are found as package data."""

    def run(self) -> None:
        build_console()
        super().run()


if __name__ == "__main__":  # how pip's build backend runs this file
    setup(cmdclass={"build_py": BuildPyWithConsole})
