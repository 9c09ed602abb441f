"""Types of PrimeHub features that live elsewhere: images and datasets (notebooks, jobs).

PrimeHub's console selects them on every page (``CurrentUser`` asks each group for its
``images`` and ``datasets``), so the types exist here, typed exactly as PrimeHub types them,
and every field returning them answers PrimeHub's empty value, an empty list. Nothing here is
ever filled with made-up data: model deployment needs neither images nor datasets.
"""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON


def not_here(what: str) -> str:
    """The description of a field that is always PrimeHub's empty value."""
    return (f"Always empty: {what} belong to PrimeHub's notebooks and jobs, which this product "
            "does not have (PrimeHub's empty value, kept so its console works).")



@strawberry.enum
class QueryImageMode(Enum):
    SYSTEM_ONLY = "SYSTEM_ONLY"
    GROUP_ONLY = "GROUP_ONLY"
    ALL = "ALL"


@strawberry.type(description="PrimeHub's notebook image. " + not_here("images"))
class Image:
    id: strawberry.ID
    name: str
    display_name: str | None = None
    description: str | None = None
    type: str | None = None
    url: str | None = None
    url_for_gpu: str | None = None
    group_name: str | None = None
    is_global: bool | None = strawberry.field(name="global", default=None)
    spec: JSON | None = None
    use_image_pull_secret: str | None = None
    is_ready: bool | None = None
    log_endpoint: str | None = None


@strawberry.type(description="PrimeHub's dataset. " + not_here("datasets"))
class Dataset:
    id: strawberry.ID
    name: str
    display_name: str | None = None
    description: str | None = None
    is_global: bool | None = strawberry.field(name="global", default=None)
    type: str | None = None
    url: str | None = None
    variables: JSON | None = None
    writable: bool | None = None
    spec: JSON | None = None
    mount_root: str | None = None
    home_symlink: bool | None = None
    launch_group_only: bool | None = None
    volume_name: str | None = None
    volume_size: float | None = None
    enable_upload_server: bool | None = None
    upload_server_link: str | None = None
