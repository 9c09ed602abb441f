"""Create, get, list and delete, and the Status errors each verb answers with."""

from __future__ import annotations

import re
import uuid

import aiohttp
from kubekit import absent, causes, config_map, deployment, failure, namespace
from kubernetes_asyncio.client import ApiClient, AppsV1Api, CoreV1Api

from gateway.localcluster import LocalCluster


async def test_create_answers_201_with_server_set_metadata(core: CoreV1Api, ns: str) -> None:
    """Create returns 201 and the stored object with uid, creationTimestamp, resourceVersion."""
    created, code, headers = await core.create_namespaced_config_map_with_http_info(
        ns, config_map("settings", data={"mode": "fast"})
    )
    assert code == 201
    assert headers["Content-Type"].startswith("application/json")
    assert created.metadata.name == "settings"
    assert created.metadata.namespace == ns
    assert uuid.UUID(created.metadata.uid)
    assert created.metadata.creation_timestamp.tzinfo is not None
    assert created.metadata.resource_version
    assert created.data == {"mode": "fast"}


async def test_get_returns_what_create_stored(core: CoreV1Api, ns: str) -> None:
    """Get answers the same uid, resourceVersion and data that create returned."""
    created = await core.create_namespaced_config_map(ns, config_map("a", data={"k": "v"}))
    read = await core.read_namespaced_config_map("a", ns)
    assert read.metadata.uid == created.metadata.uid
    assert read.metadata.resource_version == created.metadata.resource_version
    assert read.data == {"k": "v"}


async def test_generate_name_appends_five_random_characters(core: CoreV1Api, ns: str) -> None:
    """generateName yields distinct names: the prefix plus five lowercase alphanumerics."""
    body = config_map(generate_name="job-")
    first = await core.create_namespaced_config_map(ns, body)
    second = await core.create_namespaced_config_map(ns, body)
    for made in (first, second):
        assert re.fullmatch(r"job-[a-z0-9]{5}", made.metadata.name), made.metadata.name
        assert made.metadata.generate_name == "job-"
    assert first.metadata.name != second.metadata.name


async def test_deployment_starts_at_generation_one(apps: AppsV1Api, ns: str) -> None:
    """A created Deployment has metadata.generation 1."""
    created = await apps.create_namespaced_deployment(ns, deployment("web", replicas=0))
    assert created.metadata.generation == 1


async def test_namespace_is_active_and_labelled_with_its_name(core: CoreV1Api, ns: str) -> None:
    """A new Namespace is phase Active and carries kubernetes.io/metadata.name."""
    created = await core.create_namespace(namespace("team-a"))
    assert created.status.phase == "Active"
    assert created.metadata.labels["kubernetes.io/metadata.name"] == "team-a"
    names = [ns.metadata.name for ns in (await core.list_namespace()).items]
    assert {ns, "team-a"} <= set(names)


async def test_list_answers_a_typed_list_with_a_resource_version(core: CoreV1Api, ns: str) -> None:
    """List answers kind ConfigMapList, apiVersion v1 and a list resourceVersion."""
    await core.create_namespaced_config_map(ns, config_map("one"))
    listed = await core.list_namespaced_config_map(ns)
    assert listed.kind == "ConfigMapList"
    assert listed.api_version == "v1"
    assert listed.metadata.resource_version
    assert "one" in [item.metadata.name for item in listed.items]


async def test_create_existing_name_is_already_exists(core: CoreV1Api, ns: str) -> None:
    """Creating a taken name answers 409 AlreadyExists naming the resource."""
    await core.create_namespaced_config_map(ns, config_map("dup"))
    status = await failure(core.create_namespaced_config_map(ns, config_map("dup")))
    assert status["code"] == 409
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == 'configmaps "dup" already exists'
    assert status["details"]["name"] == "dup"
    assert status["details"]["kind"] == "configmaps"


async def test_get_missing_is_not_found(core: CoreV1Api, ns: str) -> None:
    """Reading a missing core object answers 404 NotFound with name and kind."""
    status = await failure(core.read_namespaced_config_map("ghost", ns))
    assert status["code"] == 404
    assert status["reason"] == "NotFound"
    assert status["message"] == 'configmaps "ghost" not found'
    assert status["details"]["name"] == "ghost"
    assert status["details"]["kind"] == "configmaps"


async def test_not_found_in_a_named_group_qualifies_the_resource(apps: AppsV1Api, ns: str) -> None:
    """A missing Deployment's Status names deployments.apps and details.group apps."""
    status = await failure(apps.read_namespaced_deployment("ghost", ns))
    assert status["reason"] == "NotFound"
    assert status["message"] == 'deployments.apps "ghost" not found'
    assert status["details"]["group"] == "apps"


async def test_create_in_missing_namespace_is_not_found(core: CoreV1Api) -> None:
    """Creating into a namespace that does not exist answers 404 for the namespace."""
    status = await failure(core.create_namespaced_config_map("nowhere", config_map("a")))
    assert status["code"] == 404
    assert status["message"] == 'namespaces "nowhere" not found'


async def test_missing_name_is_invalid(core: CoreV1Api, ns: str) -> None:
    """Create without name or generateName answers 422 Invalid, cause metadata.name Required."""
    status = await failure(core.create_namespaced_config_map(ns, config_map()))
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "ConfigMap"
    assert causes(status) == {("metadata.name", "FieldValueRequired")}
    assert "name or generateName is required" in status["message"]


async def test_malformed_name_is_invalid(core: CoreV1Api, ns: str) -> None:
    """A name that is not a DNS-1123 subdomain answers 422 with a metadata.name cause."""
    status = await failure(core.create_namespaced_config_map(ns, config_map("Bad_Name")))
    assert status["code"] == 422
    assert status["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name')
    assert causes(status) == {("metadata.name", "FieldValueInvalid")}


async def test_body_namespace_must_match_the_url(core: CoreV1Api, ns: str) -> None:
    """A body namespace that differs from the URL's answers 400 BadRequest."""
    body = config_map("a", namespace="elsewhere")
    status = await failure(core.create_namespaced_config_map(ns, body))
    assert status["code"] == 400
    assert status["reason"] == "BadRequest"
    assert status["message"] == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )


async def test_body_name_must_match_the_url_on_update(core: CoreV1Api, ns: str) -> None:
    """Replacing /configmaps/a with a body named b answers 400 BadRequest."""
    await core.create_namespaced_config_map(ns, config_map("a"))
    status = await failure(core.replace_namespaced_config_map("a", ns, config_map("b")))
    assert status["code"] == 400
    assert status["reason"] == "BadRequest"
    assert status["message"] == "the name of the object (b) does not match the name on the URL (a)"


async def test_malformed_json_is_bad_request(cluster: LocalCluster) -> None:
    """A body that is not JSON answers 400 BadRequest as a Status."""
    async with aiohttp.ClientSession() as session, session.post(
        f"{cluster.url}/api/v1/namespaces/default/configmaps",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
        status = await response.json()
    assert status["kind"] == "Status"
    assert status["reason"] == "BadRequest"


async def test_unsupported_method_is_method_not_allowed(kube: ApiClient) -> None:
    """PUT on a collection answers 405 MethodNotAllowed as a Status."""
    status = await failure(
        kube.call_api(
            "/api/v1/namespaces/default/configmaps",
            "PUT",
            body=config_map("a"),
            header_params={"Content-Type": "application/json", "Accept": "application/json"},
            response_types_map={200: "object"},
            _return_http_data_only=True,
        )
    )
    assert status["code"] == 405
    assert status["reason"] == "MethodNotAllowed"
    assert status["message"] == "the server does not allow this method on the requested resource"


async def test_delete_removes_the_object(core: CoreV1Api, ns: str) -> None:
    """After delete the object reads as 404 and is gone from lists."""
    await core.create_namespaced_config_map(ns, config_map("brief"))
    await core.delete_namespaced_config_map("brief", ns)
    await absent(lambda: core.read_namespaced_config_map("brief", ns))
    listed = await core.list_namespaced_config_map(ns)
    assert "brief" not in [item.metadata.name for item in listed.items]


async def test_delete_missing_is_not_found(core: CoreV1Api, ns: str) -> None:
    """Deleting a missing object answers 404 NotFound."""
    status = await failure(core.delete_namespaced_config_map("ghost", ns))
    assert status["reason"] == "NotFound"
