"""The controller's own writes, remembered until its watch caches show them.

Watches deliver each kind on its own stream, so a reconcile triggered by one object's event
can run before the cache of another object shows the write the previous reconcile made (a
Deployment event arrives before the PhDeployment event of the finalizer just added). Acting
on such a stale copy costs a 409 and a retry, or a redundant apply. So every write's answer
is kept, together with the resourceVersions it is known to supersede (the one it replaced,
and those that one superseded when we wrote several times in a row), and
:meth:`RecentWrites.latest` prefers it while the cache still holds one of those. As soon as
the cache shows anything else (our last write, or someone's newer one) the memory is dropped
and the cache is the truth again. Resource versions are only compared for equality, never
ordered, as Kubernetes requires.
"""

from __future__ import annotations

from gateway.kube.client import Object, Resource

_Key = tuple[str, str]


def _version(obj: Object | None) -> str:
    return str((obj or {}).get("metadata", {}).get("resourceVersion") or "")


class RecentWrites:
    def __init__(self) -> None:
        self._after: dict[_Key, tuple[frozenset[str], Object]] = {}

    def remember(self, resource: Resource, name: str, *, before: Object | None,
                 after: Object) -> None:
        """``after`` is what the API server stored in place of ``before`` (None: created)."""
        key = (resource.plural, name)
        superseded = {_version(before)}
        earlier = self._after.get(key)
        if earlier is not None and _version(earlier[1]) == _version(before):
            superseded |= earlier[0]
        self._after[key] = (frozenset(superseded), after)

    def latest(self, resource: Resource, name: str, cached: Object | None) -> Object | None:
        """The freshest known version: our write while the cache still predates it."""
        remembered = self._after.get((resource.plural, name))
        if remembered is None:
            return cached
        superseded, after = remembered
        if _version(cached) in superseded:
            return after
        del self._after[resource.plural, name]
        return cached

    def forget(self, resource: Resource, name: str) -> None:
        """Drop what we remember of an object we deleted."""
        self._after.pop((resource.plural, name), None)
