"""What the product tier's deployments need, created through GraphQL as an admin would: a
group whose members may deploy, a CPU instance type and a GPU one (no simulated node has a
GPU, so the scheduler can never place its pods)."""

from __future__ import annotations

from typing import Final

from realcluster.graphqlkit import gql
from realcluster.product import Product

GROUP: Final = "data-team"
INSTANCE_TYPE: Final = "cpu-1"
GPU_INSTANCE_TYPE: Final = "gpu-1"


async def seed(product: Product) -> None:
    """Create the group and instance types unless an earlier test did."""
    found = await gql(product, "{ groups { name } instanceTypes { name } }")
    types = {item["name"] for item in found["instanceTypes"]}
    for name, gpus in ((INSTANCE_TYPE, 0), (GPU_INSTANCE_TYPE, 1)):
        if name not in types:
            await gql(product, """mutation($data: InstanceTypeCreateInput!) {
                createInstanceType(data: $data) { name } }""", data={
                "name": name, "cpuLimit": 1, "memoryLimit": 1, "cpuRequest": 0.5,
                "memoryRequest": 0.5, "gpuLimit": gpus})
    if GROUP not in {item["name"] for item in found["groups"]}:
        await gql(product, """mutation($data: GroupCreateInput!) {
            createGroup(data: $data) { name } }""", data={
            "name": GROUP, "members": ["admin"], "enabledDeployment": True,
            "instanceTypes": [INSTANCE_TYPE, GPU_INSTANCE_TYPE]})


async def create_deployment(product: Product, name: str, *, image: str,
                            instance_type: str = INSTANCE_TYPE) -> str:
    """Create a private one-replica deployment in the group; its id."""
    created = await gql(product, """mutation($data: PhDeploymentCreateInput!) {
        createPhDeployment(data: $data) { id } }""", data={
        "id": name, "name": name, "groupId": GROUP, "instanceType": instance_type,
        "replicas": 1, "modelImage": image, "endpointAccessType": "private"})
    deployment_id: str = created["createPhDeployment"]["id"]
    return deployment_id
