"""The real control plane is started like a real cluster: TLS only, no anonymous admin, RBAC
and Node authorization, default admission (quota), service-account tokens from TokenRequest,
and simulated kubelets that run scheduled pods."""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator

import pytest
from kubernetes_asyncio.client import (
    ApiClient,
    AppsV1Api,
    AuthenticationV1Api,
    AuthorizationV1Api,
    CoreV1Api,
)
from kubernetes_asyncio.client.exceptions import ApiException

from realcluster.controlplane import NODE, ControlPlane, client_configuration

pytestmark = pytest.mark.realcluster


@pytest.fixture
async def namespace(admin: ApiClient) -> AsyncIterator[str]:
    """A fresh namespace for one test, deleted after it."""
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    core = CoreV1Api(admin)
    await core.create_namespace({"metadata": {"name": name}})
    yield name
    await core.delete_namespace(name)


def test_anonymous_requests_get_no_admin(control_plane: ControlPlane) -> None:
    """Without a client certificate or token, listing secrets is 403 over verified TLS."""
    context = ssl.create_default_context(cafile=str(control_plane.admin.ca))
    request = urllib.request.Request(control_plane.admin.url + "/api/v1/secrets")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, context=context, timeout=30)  # noqa: S310
    assert refused.value.code == 403
    assert json.loads(refused.value.read())["details"]["kind"] == "secrets"


async def test_a_deployment_runs_on_the_simulated_node(admin: ApiClient, namespace: str) -> None:
    """A Deployment's pod is scheduled onto the kwok node and reported Running and Ready."""
    apps, core = AppsV1Api(admin), CoreV1Api(admin)
    await apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "web:1"}]}}}})
    for _ in range(1200):
        pods = (await core.list_namespaced_pod(namespace)).items
        status = (await apps.read_namespaced_deployment("web", namespace)).status
        if pods and pods[0].status.phase == "Running" and status.ready_replicas == 1:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"no ready pod: {pods}")
    assert pods[0].spec.node_name == NODE
    assert [c.status for c in pods[0].status.conditions if c.type == "Ready"] == ["True"]


async def test_token_request_tokens_authenticate_and_rbac_limits_them(
        control_plane: ControlPlane, admin: ApiClient, namespace: str) -> None:
    """A TokenRequest token is the ServiceAccount; with no binding it may not list pods."""
    core = CoreV1Api(admin)
    await core.create_namespaced_service_account(namespace, {"metadata": {"name": "robot"}})
    issued = await core.create_namespaced_service_account_token(
        "robot", namespace, {"spec": {"expirationSeconds": 600}})
    configuration = client_configuration(control_plane.admin, token=issued.status.token)
    async with ApiClient(configuration) as robot:
        review = await AuthenticationV1Api(robot).create_self_subject_review({})
        assert review.status.user_info.username == f"system:serviceaccount:{namespace}:robot"
        with pytest.raises(ApiException) as refused:
            await CoreV1Api(robot).list_namespaced_pod(namespace)
    assert refused.value.status == 403


async def test_node_authorization_limits_a_kubelet_to_its_own_node(admin: ApiClient) -> None:
    """The Node authorizer lets a node read its own Node, not another node's pods' secrets."""
    authorization = AuthorizationV1Api(admin)

    async def allowed(verb: str, resource: str, name: str) -> bool:
        review = await authorization.create_subject_access_review({"spec": {
            "user": f"system:node:{NODE}", "groups": ["system:nodes"],
            "resourceAttributes": {"verb": verb, "resource": resource, "name": name,
                                   "namespace": "" if resource == "nodes" else "default"}}})
        return bool(review.status.allowed)

    assert await allowed("get", "nodes", NODE)
    assert not await allowed("get", "secrets", "anything")


async def test_resource_quota_is_enforced_at_admission(admin: ApiClient, namespace: str) -> None:
    """The ResourceQuota admission plugin is on: a pod over the quota is forbidden."""
    core = CoreV1Api(admin)
    await core.create_namespaced_resource_quota(namespace, {
        "metadata": {"name": "compute"}, "spec": {"hard": {"limits.cpu": "1"}}})

    async def quota_counted() -> bool:
        quota = await core.read_namespaced_resource_quota("compute", namespace)
        return bool(quota.status and quota.status.hard)

    for _ in range(400):
        if await quota_counted():
            break
        await asyncio.sleep(0.05)
    with pytest.raises(ApiException) as refused:
        await core.create_namespaced_pod(namespace, {
            "metadata": {"name": "big"},
            "spec": {"containers": [{"name": "big", "image": "big:1", "resources": {
                "limits": {"cpu": "2"}}}]}})
    assert refused.value.status == 403
    assert "exceeded quota: compute" in json.loads(refused.value.body)["message"]
