"""Where models come from: the settings the API and the controller both read.

The API accepts a model URI only if the controller will be able to build a pod for it (an
accepted input must never fail later for being unsupported), so both read the same
variables through :func:`read_sources`, and the chart gives both the same values:

- ``CONTROLLER_STORAGE_INITIALIZERS``: ``scheme=image`` pairs separated by commas [gs, s3,
  http and https: KServe's storage-initializer]; those schemes are downloaded;
- ``PHFS_CLAIM``: the PersistentVolumeClaim of PrimeHub's file system; ``phfs://<path>`` is
  its ``groups/<group>/<path>``, mounted read-only [unset: ``phfs://`` is refused];
- ``PROTECTED_CLAIMS``, ``PROTECTED_SECRETS``: names no group may ever be assigned (the chart
  lists Redis's claim and its own Secrets), see :mod:`gateway.kube.references`.

``pvc://<claim>/<path>`` is always understood (the claim mounted read-only), subject to the
group's allow-list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from gateway.kube.references import Protected
from gateway.settings import SettingsReader

DEFAULT_INITIALIZER: Final = "kserve/storage-initializer:v0.14.1"
DEFAULT_INITIALIZERS: Final = MappingProxyType(
    dict.fromkeys(("gs", "s3", "http", "https"), DEFAULT_INITIALIZER))
_NAME: Final = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


@dataclass(frozen=True)
class Sources:
    """How each model URI scheme reaches ``/mnt/models``, and what no group may use."""

    initializers: Mapping[str, str] = field(default_factory=lambda: DEFAULT_INITIALIZERS)
    phfs_claim: str | None = None
    protected: Protected = field(default_factory=Protected)

    @property
    def schemes(self) -> tuple[str, ...]:
        """Every scheme a pod can be built for, sorted."""
        mounted = ("pvc", "phfs") if self.phfs_claim else ("pvc",)
        return tuple(sorted({*self.initializers, *mounted}))


def read_sources(read: SettingsReader, problems: list[str]) -> Sources:
    """The sources from the ``MODEL_GATEWAY_*`` variables; bad values go to ``problems``."""
    claim = read.optional_text("PHFS_CLAIM")
    if claim is not None and not _NAME.fullmatch(claim):
        problems.append(f"MODEL_GATEWAY_PHFS_CLAIM: {claim!r} is not a claim name")
        claim = None
    return Sources(
        initializers=_initializers(read.optional_text("CONTROLLER_STORAGE_INITIALIZERS"),
                                   problems),
        phfs_claim=claim,
        protected=Protected(claims=_names(read, "PROTECTED_CLAIMS", problems),
                            secrets=_names(read, "PROTECTED_SECRETS", problems)))


def _names(read: SettingsReader, name: str, problems: list[str]) -> frozenset[str]:
    found = [part.strip() for part in (read.optional_text(name) or "").split(",")
             if part.strip()]
    bad = [item for item in found if not _NAME.fullmatch(item)]
    if bad:
        problems.append(f"MODEL_GATEWAY_{name}: {bad[0]!r} is not a resource name")
        return frozenset()
    return frozenset(found)


def _initializers(raw: str | None, problems: list[str]) -> Mapping[str, str]:
    if raw is None:
        return DEFAULT_INITIALIZERS
    found: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        scheme, equals, image = (text.strip() for text in pair.partition("="))
        if not equals or not scheme or not image or not scheme.isalnum() or \
                scheme.lower() in ("pvc", "phfs"):
            problems.append("MODEL_GATEWAY_CONTROLLER_STORAGE_INITIALIZERS: expected "
                            f"scheme=image pairs separated by commas, got {pair!r}")
            return DEFAULT_INITIALIZERS
        found[scheme.lower()] = image
    return MappingProxyType(found)
