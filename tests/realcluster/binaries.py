"""Building the real control plane's binaries from pinned Go modules, cached by version.

Run as a script (``python tests/realcluster/binaries.py``) it builds, or finds already built,
``kube-apiserver``, ``kube-controller-manager``, ``kube-scheduler``, ``etcd`` and ``kwok`` and
prints where they are. The tests call :func:`ensure_binaries`, which does the same.

Two wrapper Go modules under ``gomod/`` are ours and committed with their ``go.sum``:

- ``gomod/kubernetes`` requires ``k8s.io/kubernetes`` :data:`KUBERNETES` and builds its three
  control-plane commands plus ``etcd`` (a three-line ``etcdmain`` main over the
  ``go.etcd.io/etcd/server/v3`` that Kubernetes itself pins). ``k8s.io/kubernetes`` requires
  every staging module at ``v0.0.0`` and its own ``replace`` lines are ignored when it is a
  dependency, so the wrapper needs one ``replace k8s.io/X => k8s.io/X v0.N.P`` per staging
  module. ``python tests/realcluster/binaries.py pin`` generates them from Kubernetes' go.mod
  and tidies; every build checks that the committed go.mod still matches what it would
  generate, so nobody edits the list by hand.
- ``gomod/kwok`` requires ``sigs.k8s.io/kwok`` :data:`KWOK`, the simulated kubelets. It is a
  module of its own so kwok's dependency choices never move the control plane's.

Binaries land in ``$MODEL_GATEWAY_REALCLUSTER_CACHE`` (default
``$XDG_CACHE_HOME/model-gateway/realcluster``) under a directory named by the versions and a
digest of the wrapper modules, written under a temporary name and renamed when complete, so a
second run builds nothing and an interrupted build never leaves half a cache entry. The Go
toolchain is never downloaded (``GOTOOLCHAIN=local``): every pinned module declares a Go the
machine's ``go`` satisfies. The build runs under ``nice`` because it is long and CPU-bound.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

KUBERNETES: Final = "v1.36.3"
KWOK: Final = "v0.8.0"
GOMOD: Final = Path(__file__).resolve().parent / "gomod"
BUILD_COMMAND: Final = "python tests/realcluster/binaries.py"

_KUBERNETES_MODULE: Final = "modelgateway.test/realcluster/kubernetes"
_KWOK_MODULE: Final = "modelgateway.test/realcluster/kwok"
_KUBE_COMMANDS: Final = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
_STAGING_REPLACE: Final = re.compile(r"(k8s\.io/[a-z0-9-]+) => \./staging/src/\1")
_GO_VERSION: Final = re.compile(r"go (\d+\.\d+(?:\.\d+)?)")


class BinariesUnavailable(RuntimeError):
    """The control plane's binaries could not be found or built; the message says how."""


@dataclass(frozen=True)
class Binaries:
    """Paths of one built control plane."""

    directory: Path

    def path(self, name: str) -> Path:
        """The executable ``name`` (``kube-apiserver``, ``etcd``, ``kwok``, ...)."""
        return self.directory / name

    @property
    def names(self) -> tuple[str, ...]:
        return (*_KUBE_COMMANDS, "etcd", "kwok")


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """Where built control planes are kept between runs."""
    explicit = environ.get("MODEL_GATEWAY_REALCLUSTER_CACHE")
    if explicit:
        return Path(explicit)
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "model-gateway" / "realcluster"


def _digest() -> str:
    """A digest of everything the build reads from the repository."""
    hashed = hashlib.sha256()
    for path in sorted(GOMOD.rglob("*")):
        if path.is_file():
            hashed.update(str(path.relative_to(GOMOD)).encode() + b"\0" + path.read_bytes())
    hashed.update(" ".join(_ldflags()).encode())
    return hashed.hexdigest()[:12]


def entry_directory(environ: Mapping[str, str] = os.environ) -> Path:
    """The cache entry for the pinned versions and the current wrapper modules."""
    return cache_root(environ) / f"kubernetes-{KUBERNETES}-kwok-{KWOK}-{_digest()}"


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise BinariesUnavailable(
            "the real control plane is built from Go modules, but `go` is not on PATH; "
            f"install Go 1.26 or newer, then run `{BUILD_COMMAND}`")
    return go


def _go_environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment["GOTOOLCHAIN"] = "local"
    environment["GOFLAGS"] = "-mod=readonly -buildvcs=false"
    environment["CGO_ENABLED"] = "0"
    return environment


def _run(command: Sequence[str], *, cwd: Path, what: str) -> str:
    done = subprocess.run(  # noqa: S603  go with fixed arguments, no shell
        list(command), cwd=cwd, env=_go_environment(), capture_output=True, text=True,
        check=False)
    if done.returncode != 0:
        raise BinariesUnavailable(
            f"{what} failed (exit {done.returncode}): `{' '.join(command)}` in {cwd}\n"
            f"{done.stderr.strip()[-4000:]}\nRun `{BUILD_COMMAND}` to retry.")
    return done.stdout


def _kubernetes_gomod_text(go: str) -> str:
    """Kubernetes' own go.mod at :data:`KUBERNETES`, from the module cache or the proxy."""
    listing = _run([go, "mod", "download", "-json", f"k8s.io/kubernetes@{KUBERNETES}"],
                   cwd=GOMOD, what="downloading k8s.io/kubernetes")
    return Path(json.loads(listing)["GoMod"]).read_text()


def staging_replaces(kubernetes_gomod: str, version: str = KUBERNETES) -> list[str]:
    """``replace`` lines pinning every staging module Kubernetes' go.mod points at
    ``./staging`` to the published ``v0.<minor>.<patch>`` of ``version``."""
    major, minor, patch = version.removeprefix("v").split(".")
    if major != "1":
        raise ValueError(f"unexpected Kubernetes version {version}")
    staging = f"v0.{minor}.{patch}"
    modules = sorted({match.group(1) for match in _STAGING_REPLACE.finditer(kubernetes_gomod)})
    if not modules:
        raise BinariesUnavailable("k8s.io/kubernetes' go.mod names no staging modules")
    return [f"{module} => {module} {staging}" for module in modules]


def kubernetes_gomod(kubernetes_gomod_text: str) -> str:
    """The wrapper module's go.mod before ``go mod tidy`` adds the rest."""
    go_version = _GO_VERSION.search(kubernetes_gomod_text)
    if go_version is None:
        raise BinariesUnavailable("k8s.io/kubernetes' go.mod has no go directive")
    replaces = "\n".join(f"\t{line}" for line in staging_replaces(kubernetes_gomod_text))
    tools = "\n".join(f"\tk8s.io/kubernetes/cmd/{name}" for name in _KUBE_COMMANDS)
    return (
        "// Generated by tests/realcluster/binaries.py pin: do not edit by hand.\n"
        f"module {_KUBERNETES_MODULE}\n\n"
        f"go {go_version.group(1)}\n\n"
        f"require k8s.io/kubernetes {KUBERNETES}\n\n"
        f"tool (\n{tools}\n)\n\n"
        f"replace (\n{replaces}\n)\n")


def _replace_block(gomod: str) -> list[str]:
    block = re.search(r"^replace \(\n(.*?)^\)", gomod, re.MULTILINE | re.DOTALL)
    return [] if block is None else [line.strip() for line in block.group(1).splitlines()]


def pin() -> None:
    """Regenerate both wrapper modules' go.mod from the pinned versions and tidy them."""
    go = _go()
    kubernetes = GOMOD / "kubernetes"
    (kubernetes / "go.mod").write_text(kubernetes_gomod(_kubernetes_gomod_text(go)))
    _tidy(go, kubernetes)
    kwok = GOMOD / "kwok"
    (kwok / "go.mod").write_text(
        "// Generated by tests/realcluster/binaries.py pin: do not edit by hand.\n"
        f"module {_KWOK_MODULE}\n\ngo 1.26.0\n\n"
        f"require sigs.k8s.io/kwok {KWOK}\n\ntool sigs.k8s.io/kwok/cmd/kwok\n")
    _tidy(go, kwok)


def _tidy(go: str, module: Path) -> None:
    environment = _go_environment()
    environment["GOFLAGS"] = "-mod=mod -buildvcs=false"
    done = subprocess.run(  # noqa: S603  go with fixed arguments, no shell
        [go, "mod", "tidy"], cwd=module, env=environment, capture_output=True, text=True,
        check=False)
    if done.returncode != 0:
        raise BinariesUnavailable(f"`go mod tidy` in {module} failed:\n{done.stderr}")


def _check_pinned(go: str) -> None:
    committed = (GOMOD / "kubernetes" / "go.mod").read_text()
    expected = _replace_block(kubernetes_gomod(_kubernetes_gomod_text(go)))
    if _replace_block(committed) != expected:
        raise BinariesUnavailable(
            f"{GOMOD / 'kubernetes' / 'go.mod'} has replace lines that differ from those "
            f"generated from k8s.io/kubernetes {KUBERNETES}'s go.mod; run "
            f"`{BUILD_COMMAND} pin` and commit the result")


def _ldflags() -> list[str]:
    """Version stamps as Kubernetes' own build sets them (hack/lib/version.sh), so the
    apiserver reports its real version to clients and kwok."""
    major, minor, _ = KUBERNETES.removeprefix("v").split(".")
    stamps = {"gitVersion": KUBERNETES, "gitMajor": major, "gitMinor": minor,
              "gitTreeState": "clean", "buildDate": "1970-01-01T00:00:00Z"}
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {package}.{name}={value}" for name, value in stamps.items()]
    return flags


def _build(go: str, into: Path) -> None:
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    ldflags = " ".join(_ldflags())
    base = [*nice, go, "build", "-trimpath", f"-ldflags={ldflags}", "-o", str(into) + "/"]
    kubernetes = GOMOD / "kubernetes"
    _run([*base, *(f"k8s.io/kubernetes/cmd/{name}" for name in _KUBE_COMMANDS), "./etcd"],
         cwd=kubernetes, what=f"building Kubernetes {KUBERNETES} and etcd")
    _run([*base, "sigs.k8s.io/kwok/cmd/kwok"], cwd=GOMOD / "kwok",
         what=f"building kwok {KWOK}")


def find_binaries(environ: Mapping[str, str] = os.environ) -> Binaries | None:
    """The cached control plane for the pinned versions, or None if it is not built."""
    binaries = Binaries(entry_directory(environ))
    if all(os.access(binaries.path(name), os.X_OK) for name in binaries.names):
        return binaries
    return None


def ensure_binaries(environ: Mapping[str, str] = os.environ) -> Binaries:
    """The cached control plane, built first if needed (many minutes the first time)."""
    found = find_binaries(environ)
    if found is not None:
        return found
    go = _go()
    _check_pinned(go)
    entry = entry_directory(environ)
    entry.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=entry.parent, prefix=".building-") as scratch:
        staged = Path(scratch) / "bin"
        staged.mkdir()
        _build(go, staged)
        binaries = Binaries(staged)
        missing = [name for name in binaries.names if not binaries.path(name).is_file()]
        if missing:
            raise BinariesUnavailable(f"the build produced no {', '.join(missing)}")
        try:
            staged.rename(entry)
        except OSError:
            if find_binaries(environ) is None:  # not a concurrent build that won the race
                raise
    return Binaries(entry)


def main(arguments: Sequence[str]) -> int:
    """``binaries.py`` builds or finds the binaries; ``binaries.py pin`` regenerates go.mod."""
    if list(arguments) == ["pin"]:
        pin()
        print(f"pinned Kubernetes {KUBERNETES} and kwok {KWOK} in {GOMOD}")
        return 0
    if arguments:
        print(f"usage: {BUILD_COMMAND} [pin]", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        binaries = ensure_binaries()
    except BinariesUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{binaries.directory} ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
