"""Turning a kube-apiserver URL path into what it names.

Paths follow the API server's layout::

    /api/v1/<plural>[/<name>[/<subresource>]]                        cluster-wide
    /api/v1/namespaces/<ns>/<plural>[/<name>[/<subresource>]]        namespaced
    /apis/<group>/<version>/...                                      same, for named groups

``/api/v1/namespaces/<name>/status`` is the Namespace's own subresource, not a collection
called "status" in it: a segment after ``namespaces/<name>`` is a subresource when the
Namespace kind has one of that name.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.localcluster import errors
from gateway.localcluster.kinds import Kind, KindRegistry


@dataclass(frozen=True)
class Target:
    """What a resource URL addresses: a collection, an object, or an object's subresource."""

    kind: Kind
    namespace: str | None  # None: all namespaces (or a cluster-scoped kind)
    name: str | None
    subresource: str | None


@dataclass(frozen=True)
class GroupVersion:
    """A discovery URL: ``/api/v1`` or ``/apis/<group>/<version>``."""

    group: str
    version: str


def parse(path: str, kinds: KindRegistry) -> Target | GroupVersion:
    """The target of a resource path. A group and version the server does not serve is
    :class:`errors.PageNotFound`; anything else it does not serve is a 404 NotFound Status."""
    segments = [segment for segment in path.split("/") if segment]
    if segments[:1] == ["api"] and len(segments) >= 2:
        group, version, rest = "", segments[1], segments[2:]
    elif segments[:1] == ["apis"] and len(segments) >= 3:
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        raise errors.PageNotFound(path)
    if not kinds.in_group_version(group, version):
        raise errors.PageNotFound(path)
    if not rest:
        return GroupVersion(group, version)
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and not _is_namespace_subresource(
            group, rest[2], kinds):
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        raise _not_served(path)
    kind = kinds.find(group, version, rest[0])
    if kind is None:
        raise _not_served(path)
    name = rest[1] if len(rest) >= 2 else None
    subresource = rest[2] if len(rest) == 3 else None
    if subresource is not None and subresource not in kind.subresources:
        raise _not_served(path)
    if not kind.namespaced and namespace is not None:
        raise _not_served(path)
    if kind.namespaced and name is not None and namespace is None:
        raise _not_served(path)
    return Target(kind, namespace, name, subresource)


def _is_namespace_subresource(group: str, segment: str, kinds: KindRegistry) -> bool:
    """Whether ``namespaces/<name>/<segment>`` names the Namespace's own subresource."""
    namespaces = kinds.find("", "v1", "namespaces")
    return group == "" and namespaces is not None and segment in namespaces.subresources


def _not_served(path: str) -> errors.ApiError:
    return errors.ApiError(404, "NotFound",
                           f"the server could not find the requested resource ({path})")
