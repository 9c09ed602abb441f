"""Read-modify-write with optimistic concurrency: the one way views write an existing object.

:func:`modify` reads the object, lets a pure function compute the new body from the current
one, and PUTs it with the ``resourceVersion`` it read; when someone else wrote in between the
API server answers 409 Conflict and the whole cycle runs again on the fresh object, so no
concurrent change is lost and the function always decides on what is really stored. The
function may raise to abort (a rule no longer holds on the fresh object) or return ``None``
when nothing needs writing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Final

from gateway.kube.client import Kube, Object, Resource
from gateway.kube.errors import Conflict

ATTEMPTS: Final = 8

Change = Callable[[Object], Object | None]


class TooManyConflicts(Conflict):
    """Every attempt met a concurrent write; the caller should report a busy object."""


async def modify(kube: Kube, resource: Resource, *, namespace: str | None, name: str,
                 change: Change, subresource: str | None = None,
                 attempts: int = ATTEMPTS) -> Object:
    """Apply ``change`` to the stored object until it lands; return what was stored.

    ``change`` receives a private deep copy (it may edit and return it) and returns the body
    to write, or ``None`` to write nothing (then the current object is returned).
    """
    for _ in range(attempts):
        current = await kube.get(resource, namespace=namespace, name=name)
        wanted = change(copy.deepcopy(current))
        if wanted is None:
            return current
        wanted.setdefault("metadata", {})["resourceVersion"] = (
            current["metadata"]["resourceVersion"])
        try:
            return await kube.replace(resource, namespace=namespace, name=name, body=wanted,
                                      subresource=subresource)
        except Conflict:
            continue
    raise TooManyConflicts(f"{resource.plural} {name!r} kept changing; gave up after "
                           f"{attempts} attempts", 409)


def with_spec_keys(obj: Object, spec: Object, owned: Iterable[str]) -> Object:
    """``obj`` whose ``owned`` spec keys are replaced by ``spec``'s; other keys stay.

    Keys a newer version (or another tool) added are kept, so a view that knows only some of
    the spec never deletes what it does not understand.
    """
    current = obj.get("spec")
    kept = {key: value for key, value in (current if isinstance(current, dict) else {}).items()
            if key not in owned}
    return {**obj, "spec": {**kept, **spec}}
