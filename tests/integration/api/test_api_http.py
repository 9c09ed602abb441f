"""The HTTP surface: transports, GraphiQL, limits, health, readiness, metrics, request ids."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest
import sdkdocs
from apikit import BOOTSTRAP, Api, StartApi, World, deployment, eventually
from kubernetes_asyncio.client import ApiClient, Configuration

from gateway.api.server import running
from gateway.api.settings import ApiSettings
from gateway.kube import crds
from gateway.kube.client import Kube
from gateway.localcluster import LocalCluster, LocalClusterSettings

AUTH = {"Authorization": f"Bearer {BOOTSTRAP}"}


async def test_queries_may_come_by_get_but_mutations_not(api: Api) -> None:
    """GET runs queries (both /graphql and /api/graphql); a mutation by GET is refused."""
    for path in ("/graphql", "/api/graphql"):
        async with api.session.get(f"{api.url}{path}", headers=AUTH,
                                   params={"query": "{ me { username } }"}) as response:
            assert response.status == 200
            assert await response.json() == {"data": {"me": {"username": "admin"}}}
    async with api.session.get(f"{api.url}/graphql", headers=AUTH, params={
            "query": 'mutation { deletePhDeployment(where: {id: "x"}) { id } }'}) as response:
        assert response.status == 400


async def test_console_json_and_sdk_form_posts_agree(api: Api, world: World) -> None:
    """The same document answers the same through JSON and form-encoded POSTs."""
    await api.data(sdkdocs.CREATE, {"data": deployment("iris-00001")}, token=world.alice)
    variables = {"where": {"id": "iris-00001"}}
    as_json = await api.data(sdkdocs.GET, variables, token=world.alice)
    as_form = await api.data(sdkdocs.GET, variables, token=world.alice, form=True)
    assert as_json == as_form


async def test_malformed_form_posts_are_bad_requests(api: Api) -> None:
    """A form without ``query`` or with non-JSON ``variables`` is HTTP 400."""
    for form in ({"variables": "{}"}, {"query": "{ me { id } }", "variables": "{oops"},
                 {"query": "{ me { id } }", "variables": "[1]"}):
        async with api.session.post(f"{api.url}/graphql", data=form,
                                    headers=AUTH) as response:
            assert response.status == 400, form


async def test_depth_and_size_limits(start_api: StartApi) -> None:
    """Queries deeper or longer than the limits are refused before running."""
    api = await start_api(max_depth=3, max_tokens=60)
    deep = await api.error("{ me { effectiveGroups { instanceTypes { tolerations { key } } } } }")
    assert "exceeds maximum operation depth of 3" in deep["message"]
    long = await api.error("{ " + " ".join(f"a{index}: me {{ id }}" for index in range(20))
                           + " }")
    assert "more than 60 tokens" in long["message"]


async def test_health_readiness_and_metrics(api: Api) -> None:
    """/healthz and /readyz answer ok; /metrics counts requests and cached objects."""
    for path in ("/healthz", "/readyz"):
        async with api.session.get(f"{api.url}{path}") as response:
            assert (response.status, await response.text()) == (200, "ok\n")
    await api.data("{ me { id } }")
    async with api.session.get(f"{api.url}/metrics") as response:
        text = await response.text()
    assert response.headers["Content-Type"].startswith("text/plain")
    assert 'model_gateway_api_requests_total{method="POST",route="/graphql",status="200"}' \
        in text
    assert "model_gateway_api_caches_synced 1.0" in text
    assert 'model_gateway_api_cached_objects{kind="phdeployments"} 0.0' in text


async def test_request_ids_are_echoed_or_made(api: Api) -> None:
    """A sane X-Request-Id comes back unchanged; otherwise the server makes one."""
    async with api.session.get(f"{api.url}/healthz",
                               headers={"X-Request-Id": "abc-123"}) as response:
        assert response.headers["X-Request-Id"] == "abc-123"
    async with api.session.get(f"{api.url}/healthz",
                               headers={"X-Request-Id": "bad id\twith tab"}) as response:
        made = response.headers["X-Request-Id"]
    assert len(made) == 32
    assert made.isalnum()


async def test_not_ready_until_the_caches_load(http: aiohttp.ClientSession) -> None:
    """With no reachable cluster the API is alive but not ready, and GraphQL answers 503."""
    settings = ApiSettings(port=0, kubernetes_url="http://127.0.0.1:9", bootstrap_token="x")
    async with running(settings) as url:
        async with http.get(f"{url}/healthz") as response:
            assert response.status == 200
        async with http.get(f"{url}/readyz") as response:
            assert response.status == 503
        async with http.post(f"{url}/graphql", json={"query": "{ me { id } }"}) as response:
            assert response.status == 503
            assert "loading" in json.loads(await response.text())["errors"][0]["message"]


async def test_reads_survive_a_cluster_outage_and_writes_fail_clearly(
        http: aiohttp.ClientSession) -> None:
    """With the cluster gone, reads come from the caches and writes say so, changing nothing."""
    cluster = LocalCluster(LocalClusterSettings())
    await cluster.start()
    try:
        async with ApiClient(Configuration(host=cluster.url)) as client:
            await crds.install(Kube(client))
        settings = ApiSettings(port=0, kubernetes_url=cluster.url, bootstrap_token=BOOTSTRAP)
        async with running(settings) as url:
            api = Api(http, url)

            async def readiness(expected: str) -> None:
                async with http.get(f"{url}/readyz") as response:
                    assert (response.status, await response.text()) == (200, expected)

            await eventually(lambda: readiness("ok\n"))
            await api.data('mutation { createInstanceType(data: {name: "cpu-1", cpuLimit: 1, '
                           "memoryLimit: 1}) { id } }")
            await cluster.stop()
            await eventually(lambda: readiness("ok (stale)\n"))
            got = await api.data('{ instanceType(where: {id: "cpu-1"}) { cpuLimit } }')
            assert got == {"instanceType": {"cpuLimit": 1.0}}
            error = await api.error('mutation { deleteInstanceType(where: {id: "cpu-1"}) '
                                    "{ id } }")
            assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert "nothing was changed" in error["message"]
    finally:
        await cluster.stop()  # again, when the test failed before it stopped it


async def test_access_lines_are_structured_and_keep_no_query(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """One line per request with the proxy's fields; the query string never reaches it."""
    caplog.set_level(logging.INFO, logger="gateway.api.access")
    # a new connection: aiohttp decides per connection whether its access log is on
    async with aiohttp.ClientSession() as fresh, fresh.get(f"{api.url}/graphql", params={
            "query": "{ me { username } }", "code": "one-time-secret"},
            headers={**AUTH, "X-Request-Id": "req-42"}) as response:
        assert response.status == 200

    async def logged() -> logging.LogRecord:
        found = [r for r in caplog.records if r.name == "gateway.api.access"]
        assert found
        return found[0]

    record = await eventually(logged)
    fields = record.fields  # type: ignore[attr-defined]
    assert {key: fields[key] for key in ("request_id", "method", "path", "status")} == {
        "request_id": "req-42", "method": "GET", "path": "/graphql", "status": 200}
    assert fields["address"] == "127.0.0.1"
    assert fields["seconds"] >= 0
    assert "one-time-secret" not in repr(record.__dict__)
