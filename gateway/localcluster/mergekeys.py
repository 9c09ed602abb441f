"""Which lists merge by key, for strategic merge patch and server-side apply.

A real API server reads this from the Go types' ``patchMergeKey``/``patchStrategy`` tags (and
``listType``/``listMapKey`` for apply); we keep one table for the built-in kinds we serve, and
both strategic merge patch and server-side apply use it, so a list is keyed the same way
whichever verb writes it. Differences from kube-apiserver, on purpose: apply keys container
ports by ``containerPort`` and service ports by ``port`` alone (kube adds ``protocol``), and
``containerStatuses`` merge by ``name``. Every list not in the table is atomic (replaced as a
whole): tolerations, args, command...

Paths are tuples of field names from the object's root with list items transparent:
``("spec", "containers", "env")`` is the ``env`` list of every container. Custom resources get
the metadata rules plus the ``x-kubernetes-list-map-keys`` of their schema, passed in as dotted
paths (``{"spec.endpoint.clients": ("name",)}``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FieldNames = tuple[str, ...]


@dataclass(frozen=True)
class ListRule:
    """How one list merges: as a map keyed by ``keys``, or (no keys) as a set of scalars."""

    keys: tuple[str, ...] = ()

    @property
    def is_set(self) -> bool:
        return not self.keys


@dataclass(frozen=True)
class MergeSchema:
    """The keyed and set-like lists of one kind; any other list is atomic."""

    lists: Mapping[FieldNames, ListRule]

    def rule(self, names: FieldNames) -> ListRule | None:
        return self.lists.get(names)


def _by(*keys: str) -> ListRule:
    return ListRule(keys)


_METADATA: dict[FieldNames, ListRule] = {
    ("metadata", "ownerReferences"): _by("uid"),
    ("metadata", "finalizers"): ListRule(),
}
_CONDITIONS: dict[FieldNames, ListRule] = {("status", "conditions"): _by("type")}
_CONTAINER_LISTS = {"env": _by("name"), "ports": _by("containerPort"),
                    "volumeMounts": _by("mountPath")}


def _pod_spec(at: FieldNames) -> dict[FieldNames, ListRule]:
    rules = {(*at, "volumes"): _by("name"), (*at, "imagePullSecrets"): _by("name")}
    for containers in ("containers", "initContainers"):
        rules[(*at, containers)] = _by("name")
        rules.update({(*at, containers, name): rule for name, rule in _CONTAINER_LISTS.items()})
    return rules


def _schema(*parts: Mapping[FieldNames, ListRule]) -> MergeSchema:
    lists = dict(_METADATA)
    for part in parts:
        lists.update(part)
    return MergeSchema(lists)


_POD_STATUS: dict[FieldNames, ListRule] = {
    ("status", "containerStatuses"): _by("name"),
    ("status", "initContainerStatuses"): _by("name"),
}

# kind -> (API group, schema); built-in kind names are unique, the group tells a custom
# resource that reuses a built-in name apart.
_BUILTIN: dict[str, tuple[str, MergeSchema]] = {
    "Pod": ("", _schema(_pod_spec(("spec",)), _CONDITIONS, _POD_STATUS)),
    "Deployment": ("apps", _schema(_pod_spec(("spec", "template", "spec")), _CONDITIONS)),
    "Service": ("", _schema({("spec", "ports"): _by("port")})),
    "Namespace": ("", _schema(_CONDITIONS)),
    "Secret": ("", _schema()),
    "ConfigMap": ("", _schema()),
    "Event": ("", _schema()),
    "Lease": ("coordination.k8s.io", _schema()),
    "CustomResourceDefinition": ("apiextensions.k8s.io", _schema(_CONDITIONS)),
}


def supports_strategic(kind: str) -> bool:
    """True for the built-in kinds strategic merge patch knows (custom resources get 415)."""
    return kind in _BUILTIN


def strategic_schema(kind: str) -> MergeSchema | None:
    """The built-in kind's merge rules, or None when strategic merge patch does not apply."""
    found = _BUILTIN.get(kind)
    return found[1] if found else None


def apply_schema(api_version: str, kind: str,
                 list_map_keys: Mapping[str, Sequence[str]] | None = None) -> MergeSchema:
    """The merge rules for server-side apply: the built-in table, or metadata plus CRD keys."""
    group = api_version.rpartition("/")[0]
    found = _BUILTIN.get(kind)
    if found is not None and found[0] == group:
        return found[1]
    custom = {tuple(path.split(".")): ListRule(tuple(keys))
              for path, keys in (list_map_keys or {}).items()}
    return _schema(custom)
