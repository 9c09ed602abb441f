"""Pod logs through the API on real Kubernetes, where the apiserver fetches them from the
node's kubelet. The simulated kubelets serve no logs, which is how a log request meets a node
whose kubelet is down; the local cluster serves logs itself and never shows this."""

from __future__ import annotations

import aiohttp
import pytest

from realcluster.graphqlkit import gql, wait_status
from realcluster.product import Product
from realcluster.seeding import create_deployment, seed

pytestmark = [pytest.mark.realcluster, pytest.mark.timeout(240)]


async def test_a_log_the_kubelet_cannot_serve_is_a_502_naming_the_pod(product: Product) -> None:
    """The apiserver cannot reach the pod's kubelet: 502 naming the pod, not "the cluster
    cannot be reached" (503) and never a 200 with an empty body."""
    await seed(product)
    await create_deployment(product, "logs", image="registry.example.com/iris:1")
    await wait_status(product, "logs", "Deployed")
    found = await gql(product,
                      '{ phDeployment(where: {id: "logs"}) { pods { name logEndpoint } } }')
    (pod,) = found["phDeployment"]["pods"]
    async with aiohttp.ClientSession() as session, session.get(
            pod["logEndpoint"] + "?tailLines=10",
            headers={"Authorization": f"Bearer {product.admin_token}"}) as answer:
        assert (answer.status, await answer.text()) == (
            502, f"the node running pod {pod['name']!r} did not serve its log\n")
    await gql(product, 'mutation { deletePhDeployment(where: {id: "logs"}) { id } }')
