"""Migrating a PrimeHub install: its objects as PrimeHub leaves them, real ``$apr1$`` hashes
made by ``htpasswd -m``, groups from a Keycloak admin API, then our controller and proxy.

The local cluster runs the pods for real (a small server on each pod's address answering as
the model would, with the caller it was told about), and forwards Service traffic, so a
request through the proxy reaches the adopted PrimeHub pod. The command runs as a user runs
it: ``model-gateway migrate-from-primehub`` in a child process.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis
from redis_server import RedisServer

from gateway.controller.labels import pod_labels
from gateway.controller.running import ControllerProcess
from gateway.controller.settings import ControllerSettings
from gateway.kube import crds, groups, secretdata
from gateway.kube.client import DEPLOYMENTS, PODS, SECRETS, Kube, Object
from gateway.kube.clientsecrets import secret_name
from gateway.kube.connecting import connected
from gateway.kube.errors import NotFound
from gateway.kube.instancetypes import INSTANCETYPES
from gateway.kube.phdeployments import PHDEPLOYMENTS
from gateway.localcluster import LocalCluster, LocalClusterSettings
from proxy.serving import RunningProxy, start
from proxy.settings import ProxySettings

pytestmark = pytest.mark.timeout(120)

T = TypeVar("T")
NAMESPACE = "default"
KEYCLOAK_GROUP_ID = "0b4a8c1e-7d6f-4a7e-9a51-3f3d2c1b0a99"
MODEL_PORT = 9000


async def eventually(probe: Callable[[], Awaitable[T]], *, within: float = 20.0) -> T:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            return await probe()
        except AssertionError:
            if loop.time() >= deadline:
                raise
        await asyncio.sleep(0.05)


def htpasswd(client: str, token: str) -> str:
    """The ``$apr1$`` hash ``htpasswd -m`` makes, as PrimeHub stored it (apache2-utils;
    ``.ci/run`` installs it)."""
    assert shutil.which("htpasswd"), "htpasswd is missing: apt-get install -y apache2-utils"
    made = subprocess.run(["htpasswd", "-nbm", client, token],  # noqa: S603, S607
                          capture_output=True, text=True, check=True)
    return made.stdout.strip().split(":", 1)[1]


class ModelRuntime:
    """Runs each pod as a server on its address: it answers with the caller it was told."""

    def __init__(self) -> None:
        self.runners: dict[tuple[str, str], web.AppRunner] = {}

    async def start(self, pod: Object, address: str) -> None:
        async def predict(request: web.Request) -> web.Response:
            return web.json_response({"user": request.headers.get("X-Forwarded-User")})

        app = web.Application()
        app.router.add_post("/api/v1.0/predictions", predict)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, address, MODEL_PORT).start()
        self.runners[(pod["metadata"]["namespace"], pod["metadata"]["name"])] = runner

    async def stop(self, namespace: str, name: str) -> None:
        runner = self.runners.pop((namespace, name), None)
        if runner is not None:
            await runner.cleanup()


def keycloak_app() -> web.Application:
    """Keycloak's admin REST API as PrimeHub's realm answers it (just what is read)."""
    groups_ = [{"id": KEYCLOAK_GROUP_ID, "name": "data_team",
                "attributes": {"enabled-deployment": ["true"], "max-deploy": ["3"],
                               "project-quota-cpu": ["8"], "project-quota-memory": ["16G"]}},
               {"id": "everyone-id", "name": "everyone", "attributes": {}}]
    members = {KEYCLOAK_GROUP_ID: [{"username": "alice"}, {"username": "bob"}],
               "everyone-id": [{"username": "alice"}, {"username": "bob"}]}
    roles = {KEYCLOAK_GROUP_ID: [{"name": "it:gpu-1"}, {"name": "offline_access"}],
             "everyone-id": [{"name": "it:cpu-1"}]}

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        if (form.get("client_id"), form.get("client_secret")) != ("migrator", "s3cret"):
            return web.json_response({"error": "unauthorized_client"}, status=401)
        return web.json_response({"access_token": "kc-token"})

    def authorized(handler: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
        async def checked(request: web.Request) -> web.Response:
            if request.headers.get("Authorization") != "Bearer kc-token":
                return web.json_response({}, status=401)
            return web.json_response(handler(request))
        return checked

    app = web.Application()
    app.router.add_post("/realms/primehub/protocol/openid-connect/token", token)
    app.router.add_get("/admin/realms/primehub/groups", authorized(lambda _: groups_))
    app.router.add_get("/admin/realms/primehub/groups/{id}/members",
                       authorized(lambda request: members[request.match_info["id"]]))
    app.router.add_get("/admin/realms/primehub/groups/{id}/role-mappings/realm",
                       authorized(lambda request: roles[request.match_info["id"]]))
    return app


@pytest.fixture
async def live() -> AsyncIterator[LocalCluster]:
    """A local cluster whose pods really serve, with Service traffic forwarded."""
    runtime = ModelRuntime()
    settings = LocalClusterSettings(pod_start_delay=0.05, serve_services=True)
    async with LocalCluster.running(settings, runtime=runtime) as running:
        yield running
    for namespace, name in list(runtime.runners):
        await runtime.stop(namespace, name)


@pytest.fixture
async def keycloak() -> AsyncIterator[str]:
    runner = web.AppRunner(keycloak_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def kube(live: LocalCluster) -> AsyncIterator[Kube]:
    async with connected(url=live.url, kubeconfig=None) as api:
        client = Kube(api)
        await crds.install(client)
        yield client


async def primehub_objects(kube: Kube, tokens: dict[str, str]) -> Object:
    """What PrimeHub leaves: instance types, a private PhDeployment with $apr1$ client
    hashes, and the Deployment PrimeHub's controller made for it (engine and model)."""
    for name, cpu in (("cpu-1", 1), ("gpu-1", 4)):
        await kube.create(INSTANCETYPES, namespace=NAMESPACE, body={
            "apiVersion": INSTANCETYPES.api_version, "kind": INSTANCETYPES.kind,
            "metadata": {"name": name},
            "spec": {"displayName": name, "limits.cpu": cpu, "limits.memory": "2G",
                     "requests.cpu": cpu, "requests.memory": "2G"}})
    deployment = await kube.create(PHDEPLOYMENTS, namespace=NAMESPACE, body={
        "apiVersion": PHDEPLOYMENTS.api_version, "kind": PHDEPLOYMENTS.kind,
        "metadata": {"name": "iris"},
        "spec": {"displayName": "iris", "userId": "u-1", "userName": "alice",
                 "groupId": KEYCLOAK_GROUP_ID, "groupName": "data_team", "stop": False,
                 "description": "", "updateMessage": "",
                 "predictors": [{"name": "predictor1", "replicas": 1,
                                 "modelImage": "infuseai/sklearn-prepackaged:v0.1.0",
                                 "instanceType": "cpu-1", "metadata": {}}],
                 "endpoint": {"accessType": "private", "clients": [
                     {"name": name, "token": htpasswd(name, token)}
                     for name, token in tokens.items()]}}})
    labels = pod_labels(deployment_id="iris", group_name="data_team")
    await kube.create(DEPLOYMENTS, namespace=NAMESPACE, body={
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "deploy-iris", "labels": labels, "ownerReferences": [{
            "apiVersion": PHDEPLOYMENTS.api_version, "kind": PHDEPLOYMENTS.kind,
            "name": "iris", "uid": deployment["metadata"]["uid"], "controller": True,
            "blockOwnerDeletion": True}]},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                     {"name": "seldon-container-engine",
                      "image": "seldonio/seldon-core-executor:1.1.0",
                      "ports": [{"containerPort": 8000}]},
                     {"name": "model", "image": "infuseai/sklearn-prepackaged:v0.1.0",
                      "ports": [{"containerPort": MODEL_PORT}]}]}}}})
    return deployment


async def migrate(live: LocalCluster, keycloak: str, *options: str) -> str:
    """``model-gateway migrate-from-primehub`` as a child process; its output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli", "migrate-from-primehub", "--namespace", NAMESPACE,
        "--kubernetes-url", live.url, "--keycloak-url", keycloak, *options,
        env={**os.environ, "MODEL_GATEWAY_KEYCLOAK_CLIENT_ID": "migrator",
             "MODEL_GATEWAY_KEYCLOAK_CLIENT_SECRET": "s3cret"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def running_pods(kube: Kube) -> list[str]:
    listed = await kube.list(PODS, namespace=NAMESPACE,
                             label_selector="primehub.io/phdeployment=iris")
    names = sorted(pod["metadata"]["name"] for pod in listed["items"]
                   if (pod.get("status") or {}).get("podIP"))
    assert names
    return names


@contextlib.asynccontextmanager
async def controller_and_proxy(live: LocalCluster,
                               redis_server: RedisServer) -> AsyncIterator[RunningProxy]:
    """Our controller (leading) and proxy against this cluster and Redis."""
    settings = ControllerSettings(
        namespace=NAMESPACE, kubernetes_url=live.url, redis_url=redis_server.url,
        identity="migration-test", hash_upgrade_period=0.1, resync_period=30.0,
        retry_base=0.01, retry_cap=0.5, lease_duration=1.0, renew_deadline=0.6,
        retry_period=0.1, health_port=0, model_port=MODEL_PORT)
    redis = Redis.from_url(redis_server.url)
    async with connected(url=live.url, kubeconfig=None) as api:
        process = ControllerProcess(kube=Kube(api), redis=redis, settings=settings)
        task = asyncio.create_task(process.run())
        proxy = await start(ProxySettings(host="127.0.0.1", port=0, metrics_port=0,
                                          redis_url=redis_server.url, shutdown_timeout=5.0,
                                          read_timeout=5.0))
        try:
            yield proxy
        finally:
            await proxy.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await redis.aclose()


async def test_migration_moves_groups_hashes_and_adopts_pods_and_old_tokens_keep_working(
        live: LocalCluster, kube: Kube, keycloak: str, redis_server: RedisServer) -> None:
    """Dry run writes nothing; --apply creates the group from Keycloak, moves the $apr1$
    hashes, adopts the running pods; the old tokens work through the proxy and are upgraded."""
    tokens = {"my-app": "OldPrimeHubToken1", "batch_job": "OldPrimeHubToken2"}
    created = await primehub_objects(kube, tokens)
    before = await eventually(lambda: running_pods(kube))

    dry = await migrate(live, keycloak)
    assert "group/data-team: create from Keycloak group 'data_team' (2 members" in dry
    assert "phdeployment/iris: 2 client token hashes moved; Deployment adopted" in dry
    assert "dry run: nothing was written" in dry
    with pytest.raises(NotFound):
        await kube.get(SECRETS, namespace=NAMESPACE, name=secret_name("iris"))
    with pytest.raises(NotFound):
        await kube.get(groups.GROUPS, namespace=NAMESPACE, name="data-team")

    applied = await migrate(live, keycloak, "--apply")
    assert "done: phdeployment/iris: 2 client hashes in deploy-iris-clients" in applied
    group = groups.parse(await kube.get(groups.GROUPS, namespace=NAMESPACE, name="data-team"))
    assert (group.spec.members, group.spec.enabled_deployment, group.spec.max_deploy,
            group.spec.instance_types) == (("alice", "bob"), True, 3, ("cpu-1", "gpu-1"))
    stored = await kube.get(PHDEPLOYMENTS, namespace=NAMESPACE, name="iris")
    assert stored["spec"]["groupId"] == "data-team"
    assert all("token" not in client for client in stored["spec"]["endpoint"]["clients"])
    hashes = secretdata.decode(await kube.get(SECRETS, namespace=NAMESPACE,
                                              name=secret_name("iris")))
    assert set(hashes) == set(tokens)
    assert all(value.startswith("$apr1$") for value in hashes.values())
    again = await migrate(live, keycloak, "--apply")
    assert "group/data-team: exists, kept as it is" in again
    assert "phdeployment/iris: no client hashes" in again

    async with controller_and_proxy(live, redis_server) as proxy, \
            aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{proxy.port}/deployment/iris/api/v1.0/predictions"

        async def call(client: str, token: str) -> tuple[int, Any]:
            basic = base64.b64encode(f"{client}:{token}".encode()).decode()
            async with http.post(url, json={"data": {"ndarray": [[1]]}},
                                 headers={"Authorization": f"Basic {basic}"}) as response:
                body = await response.text()
                return response.status, json.loads(body) if response.status == 200 else body

        async def answers() -> None:
            assert await call("my-app", tokens["my-app"]) == (200, {"user": "my-app"})

        await eventually(answers)
        assert (await call("my-app", "not-the-token"))[0] == 401
        assert await call("batch_job", tokens["batch_job"]) == (200, {"user": "batch_job"})

        async def upgraded() -> None:
            current = secretdata.decode(await kube.get(SECRETS, namespace=NAMESPACE,
                                                       name=secret_name("iris")))
            assert all(h.startswith("$pbkdf2-sha256$") for h in current.values()), current

        await eventually(upgraded)
        assert await call("my-app", tokens["my-app"]) == (200, {"user": "my-app"})
        assert await running_pods(kube) == before  # adopted: no pod was restarted
        child = await kube.get(DEPLOYMENTS, namespace=NAMESPACE, name="deploy-iris")
        names = [item["name"] for item in child["spec"]["template"]["spec"]["containers"]]
        assert names == ["seldon-container-engine", "model"]
        status = (await kube.get(PHDEPLOYMENTS, namespace=NAMESPACE, name="iris"))["status"]
        assert status["phase"] == "Deployed", status
    assert created["metadata"]["uid"] == stored["metadata"]["uid"]
