"""Fixtures of the ``realcluster`` tier: the chart installed into the real control plane and
the product running against it, once per session; a check after every test that no component
was refused anything by RBAC.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from helm.helmbinary import HelmUnavailable, ensure_helm
from kubernetes_asyncio.client import ApiClient

from realcluster.auditing import AuditLog
from realcluster.chartinstall import Installed, install
from realcluster.controlplane import ControlPlane, client_configuration
from realcluster.product import Product, running

PRODUCT_NAMESPACE = "models"


@pytest.fixture(scope="session")
def installed(control_plane: ControlPlane) -> Installed:
    """The chart's CRDs and rendered RBAC, applied into ``models``."""
    try:
        helm = ensure_helm()
    except HelmUnavailable as error:
        pytest.fail(f"helm is required to render the chart's RBAC: {error}", pytrace=False)
    return install(control_plane, helm, PRODUCT_NAMESPACE)


@pytest.fixture(scope="session")
def audit(control_plane: ControlPlane) -> AuditLog:
    """The apiserver's audit log, read from where the product tier started."""
    log = AuditLog(control_plane.audit_log)
    log.skip_to_end()
    return log


@pytest.fixture(scope="session")
def product(control_plane: ControlPlane, installed: Installed, audit: AuditLog,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    """Redis, the controller, the API and the proxy, running as their chart identities."""
    with running(control_plane, installed, tmp_path_factory.mktemp("product")) as started:
        yield started


@pytest.fixture(autouse=True)
def no_refusals(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each product test: any 403 answered to a component fails, naming the rule."""
    yield
    if "product" not in request.fixturenames:
        return
    product: Product = request.getfixturevalue("product")
    audit: AuditLog = request.getfixturevalue("audit")
    refused = audit.refusals(set(product.users))
    if refused:
        pytest.fail("the chart's RBAC refused a component:\n"
                    + "\n".join(str(refusal) for refusal in refused), pytrace=False)


@pytest.fixture
async def admin(control_plane: ControlPlane) -> AsyncIterator[ApiClient]:
    """The test's cluster admin (a client certificate in ``system:masters``), to inspect."""
    async with ApiClient(client_configuration(control_plane.admin)) as api:
        yield api
