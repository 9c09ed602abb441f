"""CRD schema enforcement: 422 with field causes, defaults, pruning, and the status split."""

from __future__ import annotations

from kubekit import MERGE_PATCH, STRATEGIC_MERGE_PATCH, causes, failure
from kubernetes_asyncio.client import ApiextensionsV1Api, CustomObjectsApi
from widgetcrd import GROUP, VERSION, WIDGETS, create_widget, get_widget, install, widget


async def test_schema_violations_are_invalid_with_field_causes(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api, ns: str
) -> None:
    """A missing required field, an out-of-range number and a non-enum value answer 422."""
    await install(extensions)
    body = widget("bad", replicas=11, mode="turbo")
    del body["spec"]["image"]
    status = await failure(create_widget(custom, body, ns=ns))
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    assert status["message"].startswith(f'Widget.{GROUP} "bad" is invalid: ')
    assert status["details"]["kind"] == "Widget"
    assert status["details"]["group"] == GROUP
    assert causes(status) == {
        ("spec.image", "FieldValueRequired"),
        ("spec.replicas", "FieldValueInvalid"),
        ("spec.mode", "FieldValueNotSupported"),
    }


async def test_wrong_type_is_type_invalid(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api, ns: str
) -> None:
    """A string where the schema says integer answers 422 FieldValueTypeInvalid."""
    await install(extensions)
    status = await failure(create_widget(custom, widget("bad", replicas="three"), ns=ns))
    assert causes(status) == {("spec.replicas", "FieldValueTypeInvalid")}


async def test_schema_is_enforced_on_patches(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api, ns: str
) -> None:
    """A patch that would make the object invalid answers 422 and changes nothing."""
    await install(extensions)
    await create_widget(custom, widget("w", replicas=1), ns=ns)
    status = await failure(
        custom.patch_namespaced_custom_object(
            GROUP, VERSION, ns, WIDGETS, "w", {"spec": {"replicas": 99}}, **MERGE_PATCH
        )
    )
    assert causes(status) == {("spec.replicas", "FieldValueInvalid")}
    assert (await get_widget(custom, "w", ns=ns))["spec"]["replicas"] == 1


async def test_defaults_are_applied(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api, ns: str
) -> None:
    """A field with a schema default is filled in when the client omits it."""
    await install(extensions)
    created = await create_widget(custom, widget("w"), ns=ns)
    assert created["spec"]["mode"] == "fast"


async def test_unknown_fields_are_pruned_unless_preserved(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api, ns: str
) -> None:
    """Fields the schema does not declare are dropped, except under preserve-unknown-fields."""
    await install(extensions)
    body = widget("w", unknown="dropped", extra={"free": {"form": [1, 2]}})
    body["junk"] = True
    created = await create_widget(custom, body, ns=ns)
    assert "unknown" not in created["spec"]
    assert "junk" not in created
    assert created["spec"]["extra"] == {"free": {"form": [1, 2]}}


async def test_status_subresource_splits_writes(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api, ns: str
) -> None:
    """Create and main writes drop status; /status writes keep only status; generation follows."""
    await install(extensions)
    body = widget("w")
    body["status"] = {"phase": "Forged"}
    created = await create_widget(custom, body, ns=ns)
    assert "status" not in created or created["status"].get("phase") != "Forged"

    created["status"] = {"phase": "Forged"}
    replaced = await custom.replace_namespaced_custom_object(
        GROUP, VERSION, ns, WIDGETS, "w", created
    )
    assert replaced.get("status", {}).get("phase") != "Forged"
    assert replaced["metadata"]["generation"] == 1

    replaced["status"] = {"phase": "Deployed", "replicas": 1}
    replaced["spec"]["replicas"] = 7
    replaced["metadata"]["labels"] = {"sneaky": "yes"}
    status_written = await custom.replace_namespaced_custom_object_status(
        GROUP, VERSION, ns, WIDGETS, "w", replaced
    )
    assert status_written["status"] == {"phase": "Deployed", "replicas": 1}
    assert "replicas" not in status_written["spec"]
    assert "labels" not in status_written["metadata"]
    assert status_written["metadata"]["generation"] == 1

    relabelled = await custom.patch_namespaced_custom_object(
        GROUP, VERSION, ns, WIDGETS, "w", {"metadata": {"labels": {"a": "b"}}},
        **MERGE_PATCH,
    )
    assert relabelled["metadata"]["generation"] == 1
    respecced = await custom.patch_namespaced_custom_object(
        GROUP, VERSION, ns, WIDGETS, "w", {"spec": {"replicas": 2}}, **MERGE_PATCH
    )
    assert respecced["metadata"]["generation"] == 2
    assert respecced["status"] == {"phase": "Deployed", "replicas": 1}


async def test_strategic_merge_is_unsupported_for_custom_objects(
    custom: CustomObjectsApi, extensions: ApiextensionsV1Api, ns: str
) -> None:
    """A strategic merge patch to a custom object answers 415 UnsupportedMediaType."""
    await install(extensions)
    await create_widget(custom, widget("w"), ns=ns)
    status = await failure(
        custom.patch_namespaced_custom_object(
            GROUP, VERSION, ns, WIDGETS, "w", {"spec": {"replicas": 2}},
            **STRATEGIC_MERGE_PATCH,
        )
    )
    assert status["code"] == 415
    assert status["reason"] == "UnsupportedMediaType"
