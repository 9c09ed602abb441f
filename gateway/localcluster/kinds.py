"""The resource kinds the local cluster serves: built-in ones, and those CRDs add at run time.

A :class:`Kind` carries everything the server needs to route and treat a request: its group,
version and plural (the URL), whether it is namespaced, which subresources it has, which field
selectors it supports, and for custom resources the compiled schema. The storage key is
``group/plural``: every served version of a kind shares one set of objects, as in a real
cluster whose CRDs use the ``None`` conversion strategy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.localcluster.structural import StructuralSchema

_BASE_FIELDS = frozenset({"metadata.name", "metadata.namespace"})


@dataclass(frozen=True)
class Kind:
    """One served resource: ``pods``, ``deployments.apps``, ``phdeployments.primehub.io``..."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    subresources: frozenset[str] = frozenset()
    field_selectors: frozenset[str] = _BASE_FIELDS
    schema: StructuralSchema | None = field(default=None, compare=False)
    list_map_keys: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    builtin: bool = True
    tracks_generation: bool = False  # metadata.generation counts spec changes (not every kind)
    # Deployments also count annotation changes: they are copied to the ReplicaSets.
    annotations_bump_generation: bool = False

    @property
    def key(self) -> str:
        """The storage key shared by every version of this kind."""
        return f"{self.group}/{self.plural}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def has_status(self) -> bool:
        """True when ``/status`` is a separate subresource (writes split between the two)."""
        return "status" in self.subresources

    def discovery_entries(self) -> list[dict[str, object]]:
        """This kind's entries in an ``APIResourceList``, subresources included."""
        verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update",
                 "watch"]
        entries: list[dict[str, object]] = [{
            "name": self.plural,
            "singularName": self.singular or self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": verbs,
            **({"shortNames": list(self.short_names)} if self.short_names else {}),
        }]
        for sub in sorted(self.subresources):
            sub_kind, sub_verbs = {
                "status": (self.kind, ["get", "patch", "update"]),
                "scale": ("Scale", ["get", "patch", "update"]),
                "log": ("Pod", ["get"]),
            }[sub]
            entry: dict[str, object] = {
                "name": f"{self.plural}/{sub}", "singularName": "",
                "namespaced": self.namespaced, "kind": sub_kind, "verbs": sub_verbs,
            }
            if sub == "scale":
                entry.update(group="autoscaling", version="v1")
            entries.append(entry)
        return entries


def _builtin(group: str, version: str, plural: str, kind: str, *, namespaced: bool = True,
             short: Iterable[str] = (), subresources: Iterable[str] = (),
             fields: Iterable[str] = (), generation: bool = False,
             annotations_bump_generation: bool = False) -> Kind:
    return Kind(group=group, version=version, plural=plural, kind=kind, namespaced=namespaced,
                singular=kind.lower(), short_names=tuple(short),
                subresources=frozenset(subresources),
                field_selectors=_BASE_FIELDS | frozenset(fields), tracks_generation=generation,
                annotations_bump_generation=annotations_bump_generation)


BUILTIN_KINDS: tuple[Kind, ...] = (
    _builtin("", "v1", "namespaces", "Namespace", namespaced=False, short=["ns"],
             subresources=["status"], fields=["status.phase"]),
    _builtin("", "v1", "pods", "Pod", short=["po"], subresources=["status", "log"],
             fields=["status.phase", "spec.nodeName", "status.podIP"]),
    _builtin("", "v1", "services", "Service", short=["svc"], subresources=["status"]),
    _builtin("", "v1", "secrets", "Secret", fields=["type"]),
    _builtin("", "v1", "configmaps", "ConfigMap", short=["cm"]),
    _builtin("", "v1", "events", "Event", short=["ev"],
             fields=["involvedObject.name", "involvedObject.kind", "involvedObject.uid",
                     "reason", "type"]),
    _builtin("apps", "v1", "deployments", "Deployment", short=["deploy"],
             subresources=["status", "scale"], generation=True,
             annotations_bump_generation=True),
    _builtin("coordination.k8s.io", "v1", "leases", "Lease"),
    _builtin("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler",
             short=["hpa"], subresources=["status"], generation=True),
    _builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions",
             "CustomResourceDefinition", namespaced=False, short=["crd", "crds"],
             subresources=["status"], generation=True),
)


class KindRegistry:
    """Looks kinds up by URL coordinates; CRDs register and unregister theirs at run time."""

    def __init__(self, kinds: Iterable[Kind] = BUILTIN_KINDS) -> None:
        self._by_url: dict[tuple[str, str, str], Kind] = {}
        for kind in kinds:
            self.add(kind)

    def add(self, kind: Kind) -> None:
        self._by_url[(kind.group, kind.version, kind.plural)] = kind

    def remove_group_resource(self, group: str, plural: str) -> None:
        """Stop serving every version of ``plural.group``."""
        for url_key in [k for k in self._by_url if k[0] == group and k[2] == plural]:
            del self._by_url[url_key]

    def find(self, group: str, version: str, plural: str) -> Kind | None:
        return self._by_url.get((group, version, plural))

    def by_key(self, key: str) -> list[Kind]:
        """Every served version of the kind stored under ``key``."""
        return [kind for kind in self._by_url.values() if kind.key == key]

    def for_api_version(self, api_version: str, kind_name: str) -> Kind | None:
        """The kind named by an object's ``apiVersion`` and ``kind`` (owner references)."""
        group, _, version = api_version.rpartition("/")
        for kind in self._by_url.values():
            if (kind.group, kind.version, kind.kind) == (group, version, kind_name):
                return kind
        return None

    def group_versions(self) -> dict[str, list[str]]:
        """Served versions per group, for discovery (core group under "")."""
        versions: dict[str, list[str]] = {}
        for group, version, _ in self._by_url:
            listed = versions.setdefault(group, [])
            if version not in listed:
                listed.append(version)
        return versions

    def in_group_version(self, group: str, version: str) -> list[Kind]:
        return sorted((k for k in self._by_url.values()
                       if (k.group, k.version) == (group, version)), key=lambda k: k.plural)

    def all(self) -> list[Kind]:
        return list(self._by_url.values())
