"""Filtering and cursor paging of deployment lists: pure functions over cached views.

PrimeHub's semantics, kept exactly: the input is already in list order (newest
``lastUpdatedTime`` first); ``search`` matches id or name case-insensitively, ``name_contains``
the name case-sensitively, ``groupId_in`` is intersected with the caller's groups, ``mine``
keeps what the caller last created, updated, started or stopped. The cursor is the
deployment id: ``before`` keeps the rows ahead of it, ``after`` the rows behind it (an unknown
cursor keeps everything), then ``first``/``last`` take from the front/back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.kube.phdeployments import PhDeployment


@dataclass(frozen=True)
class Filter:
    id: str | None = None
    group_ids: frozenset[str] | None = None  # None: any group
    name_contains: str | None = None
    search: str | None = None
    user_id: str | None = None  # ``mine``: the caller's id


@dataclass(frozen=True)
class Page:
    rows: list[PhDeployment]
    has_next: bool
    has_previous: bool
    current_page: int
    total_pages: int


def allowed_groups(requested: Sequence[str | None] | None,
                   visible: frozenset[str] | None) -> frozenset[str] | None:
    """``groupId_in`` intersected with what the caller may see (``None``: no restriction)."""
    wanted = frozenset(item for item in requested or () if item is not None) or None
    if visible is None:
        return wanted
    return visible if wanted is None else visible & wanted


def select(ordered: Sequence[PhDeployment], where: Filter) -> list[PhDeployment]:
    search = where.search.lower() if where.search else None
    found = []
    for item in ordered:
        spec = item.spec
        if where.id is not None and item.name != where.id:
            continue
        if where.group_ids is not None and spec.group_id not in where.group_ids:
            continue
        if where.user_id is not None and spec.user_id != where.user_id:
            continue
        name = spec.display_name or ""
        if where.name_contains and where.name_contains not in name:
            continue
        if search and search not in item.name.lower() and search not in name.lower():
            continue
        found.append(item)
    return found


def paginate(rows: Sequence[PhDeployment], *, first: int | None = None,
             last: int | None = None, before: str | None = None,
             after: str | None = None) -> Page:
    """One page of ``rows`` and where it lies (pages are ``first`` rows long). As in PrimeHub,
    an empty page has neither a next nor a previous page."""
    start, end = 0, len(rows)
    if before is not None:
        end = next((index for index, row in enumerate(rows) if row.name == before), end)
    if after is not None:
        start = next((index + 1 for index in range(end - 1, -1, -1)
                      if rows[index].name == after), start)
    if first is not None:
        end = min(end, start + max(first, 0))
    if last is not None:
        start = max(start, end - max(last, 0))
    start = min(start, end)
    size = first if first else (last if last else 0)
    total_pages = max(1, -(-len(rows) // size)) if size else 1
    page = list(rows[start:end])
    return Page(rows=page, has_next=bool(page) and end < len(rows),
                has_previous=bool(page) and start > 0,
                current_page=(start // size + 1) if size else 1, total_pages=total_pages)
