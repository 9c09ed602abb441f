"""Simulated image pulls: which images "exist", and what a kubelet reports for those that don't.

Without a catalog every image pulls (tests and ``model-gateway localcluster`` use any name).
With one, only the catalog's images pull, so a typo fails the way it does on a real node: the
container waits with ``ErrImagePull`` and containerd's message, then ``ImagePullBackOff``,
and the pull is retried after a back-off, so an image added to the catalog file meanwhile
comes up. A name that is not a valid reference is ``InvalidImageName``, which no retry fixes.

A catalog is a set of references plus, optionally, a file of them (one per line, ``#``
comments) that is read again at every pull, so adding a line needs no restart. An entry
with a tag or digest allows exactly that image; an entry without allows every tag of its
repository. References are compared the way a container runtime resolves them:
``sklearn`` is ``docker.io/library/sklearn:latest``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

DEFAULT_REGISTRY: Final = "docker.io"
_COMPONENT: Final = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH: Final = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_HOST: Final = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?")
_TAG: Final = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST: Final = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")


@dataclass(frozen=True)
class Reference:
    """An image reference resolved as a runtime does; ``version`` None: any tag (entries)."""

    repository: str  # registry/path, e.g. docker.io/library/nginx
    version: str | None  # ":tag" or "@digest"

    def __str__(self) -> str:
        return self.repository + (self.version or "")


def parse(text: str, *, default_tag: str | None = "latest") -> Reference | None:
    """``text`` as a reference, or None when it is not a valid one; no tag means
    ``default_tag`` (None for catalog entries: every tag)."""
    name, at, digest = text.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        return None
    slash, colon = name.rfind("/"), name.rfind(":")
    tag = name[colon + 1:] if colon > slash else None
    if tag is not None:
        name = name[:colon]
        if not _TAG.fullmatch(tag):
            return None
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
        if not _HOST.fullmatch(host):
            return None
    else:
        host, path = DEFAULT_REGISTRY, name
    if not _PATH.fullmatch(path):
        return None
    if host == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    version = f"@{digest}" if at else f":{tag}" if tag else (
        f":{default_tag}" if default_tag else None)
    return Reference(f"{host}/{path}", version)


@dataclass(frozen=True)
class Pull:
    """A failed pull as the kubelet reports it in the container's waiting state."""

    reason: str
    message: str
    retried: bool  # False: no back-off and retry will change it


@dataclass(frozen=True)
class ImageCatalog:
    """The images that exist: ``images``, plus the lines of ``file`` when it exists."""

    images: frozenset[str] = field(default_factory=frozenset)
    file: Path | None = None

    def entries(self) -> list[Reference]:
        lines: Iterable[str] = self.images
        if self.file is not None and self.file.is_file():
            lines = [*lines, *self.file.read_text().splitlines()]
        found = []
        for line in lines:
            text = line.partition("#")[0].strip()
            if not text:
                continue
            entry = parse(text, default_tag=None)
            if entry is None:
                log.warning("image catalog: %r is not an image reference; ignored", text)
            else:
                found.append(entry)
        return found

    def pull(self, image: str) -> Pull | None:
        """None when ``image`` pulls; otherwise what the kubelet would report."""
        wanted = parse(image)
        if wanted is None:
            return Pull("InvalidImageName", f'Failed to apply default image tag "{image}": '
                        f'couldn\'t parse image name "{image}": invalid reference format',
                        retried=False)
        entries = self.entries()
        if any(entry.repository == wanted.repository and entry.version in (None, wanted.version)
               for entry in entries):
            return None
        if any(entry.repository == wanted.repository for entry in entries):
            cause = f"{wanted}: not found"
            code = "NotFound"
        else:
            cause = ("pull access denied, repository does not exist or may require "
                     "authorization: server message: insufficient_scope: authorization failed")
            code = "Unknown"
        return Pull("ErrImagePull", f'rpc error: code = {code} desc = failed to pull and unpack '
                    f'image "{wanted}": failed to resolve reference "{wanted}": {cause}',
                    retried=True)


def back_off(image: str) -> Pull:
    """What the kubelet reports between retries of a failed pull."""
    return Pull("ImagePullBackOff", f'Back-off pulling image "{image}"', retried=True)
