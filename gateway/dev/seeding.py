"""What a fresh dev mode starts with: a group, three instance types and an admin token.

Seeded once, on the first start of a state directory, through the same Kubernetes objects
production uses, so everything seeded can be changed or deleted through the API like
anything else: the ``demo`` group (deployment enabled, the dev user a member, every seeded
instance type allowed), the instance types ``cpu-1``, ``cpu-2`` and ``gpu-1`` with
PrimeHub-like limits, and an admin API token for the dev user, whose plain value only
``dev.json`` keeps.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Final

from gateway.api.tokens import new_api_token
from gateway.kube import apitokens, groups, instancetypes
from gateway.kube.apitokens import ApiToken
from gateway.kube.client import NAMESPACES, Kube
from gateway.kube.errors import AlreadyExists
from gateway.kube.groups import GroupSpec
from gateway.kube.instancetypes import InstanceTypeSpec
from proxy.hashing import make_context

DEV_USER: Final = "admin"
DEMO_GROUP: Final = "demo"
_GIB: Final = 1024**3

INSTANCE_TYPES: Final = {
    "cpu-1": InstanceTypeSpec(display_name="CPU 1", description="1 CPU, 1 GiB memory",
                              cpu_limit=1.0, memory_limit=1.0 * _GIB, cpu_request=0.5,
                              memory_request=0.5 * _GIB),
    "cpu-2": InstanceTypeSpec(display_name="CPU 2", description="2 CPU, 4 GiB memory",
                              cpu_limit=2.0, memory_limit=4.0 * _GIB, cpu_request=1.0,
                              memory_request=2.0 * _GIB),
    "gpu-1": InstanceTypeSpec(display_name="GPU 1", description="4 CPU, 16 GiB memory, 1 GPU",
                              cpu_limit=4.0, memory_limit=16.0 * _GIB, gpu_limit=1,
                              cpu_request=2.0, memory_request=8.0 * _GIB),
}


async def ensure_namespace(kube: Kube, namespace: str) -> None:
    with contextlib.suppress(AlreadyExists):
        await kube.create(NAMESPACES, namespace=None, body={
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})


async def seed(kube: Kube, *, namespace: str) -> str:
    """Create the demo group, the instance types and an admin token; returns the token."""
    for name, spec in INSTANCE_TYPES.items():
        await instancetypes.create(kube, namespace=namespace, name=name, spec=spec)
    await groups.create(kube, namespace=namespace, name=DEMO_GROUP, spec=GroupSpec(
        display_name="Demo", members=(DEV_USER,), enabled_deployment=True,
        instance_types=tuple(INSTANCE_TYPES)))
    token_id, plain = new_api_token()
    await apitokens.create(kube, namespace=namespace, token=ApiToken(
        id=token_id, username=DEV_USER, admin=True, created=datetime.now(UTC),
        description="dev mode admin token", hash=make_context().hash(plain)))
    return plain
