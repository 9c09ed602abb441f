"""A PhDeployment's spec history (pure): newest first, at most 32, no token hashes.

Each entry is ``{time, spec}``. The spec is stored in the API's canonical form
(:func:`gateway.kube.phdeployments.spec_body` of the parsed spec), which is what keeps hashes
out: the parser drops the ``token`` fields PrimeHub kept beside client names. Entries already
present are rewritten the same way, so a resource migrated from PrimeHub loses old hashes from
its history on the controller's first pass; an entry that cannot be parsed is dropped rather
than copied unread.

A new entry is added only when the spec *really* changes: who pressed the button
(``userId``/``userName``), when (``updateTime``) and the note they left (``updateMessage``)
are recorded in the entry, but a write that changes nothing else is not a new version.
The entry's time is the spec's ``updateTime`` when the API set a new one, else the
controller's clock at the moment it noticed (a ``kubectl edit`` leaves ``updateTime`` as it
was, and two versions must not share a time).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from gateway.kube.client import Object
from gateway.kube.phdeployments import MAX_HISTORY, parse_spec, spec_body, timestamp
from gateway.kube.views import MalformedObject

_NOT_A_CHANGE: Final = ("updateTime", "updateMessage", "userId", "userName")


def canonical(spec: Mapping[str, Any]) -> Object:
    """``spec`` as the API writes it, without any token hash."""
    return spec_body(parse_spec(spec))


def _essence(spec: Object) -> Object:
    return {key: value for key, value in spec.items() if key not in _NOT_A_CHANGE}


def updated(previous: Any, spec: Mapping[str, Any], *, now: datetime) -> list[Object]:
    """The history after observing ``spec`` (``previous``: the stored ``status.history``)."""
    entries: list[Object] = []
    for item in previous if isinstance(previous, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("spec"), dict):
            continue
        try:
            entries.append({"time": str(item.get("time") or ""),
                            "spec": canonical(item["spec"])})
        except MalformedObject:
            continue
    current = canonical(spec)
    if not entries or _essence(entries[0]["spec"]) != _essence(current):
        stamped = current.get("updateTime")
        fresh = stamped and (not entries or stamped != entries[0]["time"])
        entries.insert(0, {"time": stamped if fresh else timestamp(now), "spec": current})
    return entries[:MAX_HISTORY]
