"""Pod logs: lines appended through Python, read back through ``pods/<name>/log``.

A real kubelet keeps each container's output; here tests and the dev model runtime append
lines with :meth:`PodLogs.append`, and the HTTP endpoint serves them with the kubelet's query
parameters: ``container`` (required when the pod has several), ``tailLines``, ``timestamps``
(RFC 3339 with nanoseconds before each line), ``limitBytes``, and ``follow``, which keeps the
response open and streams new lines until the client leaves or the pod is deleted. Each
container keeps its newest ``max_lines`` lines.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

LogKey = tuple[str, str, str]  # namespace, pod, container


@dataclass
class ContainerLog:
    """One container's lines; a follower keeps this object, so it sees the pod go away."""

    lines: deque[tuple[str, str]]  # (timestamp, line)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    total: int = 0  # lines ever appended, so a follower can tell what is new
    closed: bool = False

    def snapshot(self, *, tail: int | None) -> tuple[list[tuple[str, str]], int]:
        """The last ``tail`` lines (all when None) and the count of lines appended so far."""
        lines = list(self.lines)
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        return lines, self.total

    async def wait_newer(self, seen: int) -> tuple[list[tuple[str, str]], int]:
        """Wait for lines after the first ``seen`` (or the end); returns them and the count."""
        while self.total <= seen and not self.closed:
            await self.changed.wait()
        fresh = min(self.total - seen, len(self.lines))
        return list(self.lines)[len(self.lines) - fresh:], self.total

    def wake(self) -> None:
        """Release every waiter; later waiters wait on a fresh event."""
        self.changed.set()
        self.changed = asyncio.Event()


class PodLogs:
    """Every container's log lines, bounded, with waiting for new ones."""

    def __init__(self, *, max_lines: int = 10_000) -> None:
        self._max_lines = max_lines
        self._logs: dict[LogKey, ContainerLog] = {}

    def open(self, namespace: str, pod: str, container: str) -> ContainerLog:
        key = (namespace, pod, container)
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = ContainerLog(deque(maxlen=self._max_lines))
        return log

    def append(self, namespace: str, pod: str, container: str, line: str) -> None:
        """Add one line (a trailing newline is dropped; embedded ones split the line)."""
        log = self.open(namespace, pod, container)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
        for part in line.rstrip("\n").split("\n"):
            log.lines.append((stamp, part))
            log.total += 1
        log.wake()

    def forget_pod(self, namespace: str, pod: str) -> None:
        """The pod is gone: wake its followers so they finish, and drop its lines."""
        for key in [k for k in self._logs if k[:2] == (namespace, pod)]:
            log = self._logs.pop(key)
            log.closed = True
            log.wake()
