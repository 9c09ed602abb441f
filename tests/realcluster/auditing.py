"""Reading the apiserver's audit log for requests RBAC refused.

Each product component authenticates as its own chart ServiceAccount, so a 403 in the audit
log from one of them means the chart's Role lacks a rule the code needs. :func:`refusals` turns
each such event into the rule that would have allowed it, in the chart's own terms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Refusal:
    """One request the apiserver answered 403, as the RBAC rule it lacked."""

    user: str
    verb: str
    api_group: str
    resource: str
    namespace: str
    name: str

    def __str__(self) -> str:
        group = self.api_group or '""'
        where = f" in namespace {self.namespace}" if self.namespace else " cluster-wide"
        named = f" (name {self.name})" if self.name else ""
        return (f"{self.user} was refused `{self.verb}` on {self.resource}{named}{where}: "
                f"the chart grants no rule apiGroups: [{group}], resources: [{self.resource}], "
                f"verbs: [{self.verb}]")


class AuditLog:
    """The audit log file, read incrementally (each call sees only new events)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0

    def skip_to_end(self) -> None:
        """Forget what was logged so far."""
        self._offset = self._path.stat().st_size if self._path.exists() else 0

    def refusals(self, users: set[str]) -> list[Refusal]:
        """403s answered to any of ``users`` since the last call."""
        if not self._path.exists():
            return []
        with self._path.open("rb") as log:
            log.seek(self._offset)
            chunk = log.read()
        complete = chunk[:chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        found = []
        for line in complete.splitlines():
            event = json.loads(line)
            user = (event.get("user") or {}).get("username", "")
            if user not in users or (event.get("responseStatus") or {}).get("code") != 403:
                continue
            target = event.get("objectRef") or {}
            resource = target.get("resource", event.get("requestURI", ""))
            if target.get("subresource"):
                resource += "/" + target["subresource"]
            found.append(Refusal(user=user, verb=event.get("verb", ""),
                                 api_group=target.get("apiGroup", ""), resource=resource,
                                 namespace=target.get("namespace", ""),
                                 name=target.get("name", "")))
        return found
