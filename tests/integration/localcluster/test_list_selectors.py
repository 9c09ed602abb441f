"""List filtering and paging: label selectors, field selectors, ``limit`` and ``continue``.

Every fixture object carries ``suite=lists`` and every selector starts with it, so the
expectations hold on a real cluster too, where each namespace also holds kube-root-ca.crt.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubekit import config_map, failure, namespace, secret
from kubernetes_asyncio.client import CoreV1Api

LABELS: dict[str, dict[str, str]] = {
    "a": {"app": "web", "env": "prod", "tier": "front"},
    "b": {"app": "web", "env": "dev"},
    "c": {"app": "db", "env": "prod", "tier": "back"},
    "d": {"app": "db", "env": "staging"},
    "e": {},
}


async def create_fixture_objects(core: CoreV1Api, *, ns: str) -> None:
    for name, labels in LABELS.items():
        body = config_map(name, labels={"suite": "lists", **labels})
        await core.create_namespaced_config_map(ns, body)


async def names(core: CoreV1Api, *, ns: str, **options: Any) -> set[str]:
    listed = await core.list_namespaced_config_map(ns, **options)
    return {item.metadata.name for item in listed.items}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", {"a", "b"}),
        ("app==web", {"a", "b"}),
        ("app!=web", {"c", "d", "e"}),
        ("env in (prod,staging)", {"a", "c", "d"}),
        ("env notin (prod)", {"b", "d", "e"}),
        ("tier", {"a", "c"}),
        ("!tier", {"b", "d", "e"}),
        ("app=web,env=prod", {"a"}),
        ("app in (web,db),!tier", {"b", "d"}),
    ],
)
async def test_label_selector(core: CoreV1Api, selector: str, expected: set[str], ns: str) -> None:
    """Equality and set-based label selectors, including != and notin matching absent keys."""
    await create_fixture_objects(core, ns=ns)
    assert await names(core, label_selector=f"suite=lists,{selector}", ns=ns) == expected


async def test_field_selector_on_name(core: CoreV1Api, ns: str) -> None:
    """fieldSelector metadata.name=, == and != select by object name."""
    await create_fixture_objects(core, ns=ns)
    assert await names(core, field_selector="metadata.name=c", ns=ns) == {"c"}
    assert await names(core, field_selector="metadata.name==c", ns=ns) == {"c"}
    assert await names(
        core, label_selector="suite=lists", field_selector="metadata.name!=c"
    , ns=ns) == {"a", "b", "d", "e"}


async def test_field_and_label_selectors_combine(core: CoreV1Api, ns: str) -> None:
    """A list with both selectors returns objects matching both."""
    await create_fixture_objects(core, ns=ns)
    selected = await names(core, label_selector="app=web", field_selector="metadata.name=b", ns=ns)
    assert selected == {"b"}


async def test_field_selector_on_namespace_across_namespaces(core: CoreV1Api, ns: str) -> None:
    """A cluster-wide list with metadata.namespace= returns only that namespace's objects."""
    await core.create_namespace(namespace("other"))
    await core.create_namespaced_config_map(ns, config_map("here", labels={"suite": "ns"}))
    await core.create_namespaced_config_map("other", config_map("there", labels={"suite": "ns"}))

    everywhere = await core.list_config_map_for_all_namespaces(label_selector="suite=ns")
    assert {(i.metadata.namespace, i.metadata.name) for i in everywhere.items} == {
        (ns, "here"),
        ("other", "there"),
    }
    only_other = await core.list_config_map_for_all_namespaces(
        label_selector="suite=ns", field_selector="metadata.namespace=other"
    )
    assert [(i.metadata.namespace, i.metadata.name) for i in only_other.items] == [
        ("other", "there")
    ]


async def test_unsupported_field_label_is_bad_request(core: CoreV1Api, ns: str) -> None:
    """A field selector on a field the kind does not index answers 400 BadRequest."""
    status = await failure(core.list_namespaced_config_map(ns, field_selector="data.k=v"))
    assert status["code"] == 400
    assert status["reason"] == "BadRequest"
    assert "data.k" in status["message"]


async def test_unparsable_label_selector_is_bad_request(core: CoreV1Api, ns: str) -> None:
    """A label selector that does not parse answers 400 BadRequest."""
    status = await failure(core.list_namespaced_config_map(ns, label_selector="app in ("))
    assert status["code"] == 400
    assert status["reason"] == "BadRequest"


async def test_limit_and_continue_page_through_everything_in_name_order(
    core: CoreV1Api,
) -> None:
    """limit=3 over 7 objects gives pages 3, 3, 1 linked by continue tokens, in name order."""
    await core.create_namespace(namespace("paged"))
    expected = [f"item-{n}" for n in range(7)]
    for name in reversed(expected):
        await core.create_namespaced_secret("paged", secret(name))

    first = await core.list_namespaced_secret("paged", limit=3)
    assert [i.metadata.name for i in first.items] == expected[:3]
    assert first.metadata._continue
    assert first.metadata.remaining_item_count == 4

    second = await core.list_namespaced_secret("paged", limit=3, _continue=first.metadata._continue)
    assert [i.metadata.name for i in second.items] == expected[3:6]
    assert second.metadata._continue

    last = await core.list_namespaced_secret("paged", limit=3, _continue=second.metadata._continue)
    assert [i.metadata.name for i in last.items] == expected[6:]
    assert not last.metadata._continue
    assert not last.metadata.remaining_item_count


async def test_paging_with_a_selector_returns_each_match_once(core: CoreV1Api, ns: str) -> None:
    """Following continue tokens with a label selector yields exactly the matching objects."""
    await create_fixture_objects(core, ns=ns)
    selector = "suite=lists,app"
    page = await core.list_namespaced_config_map(ns, label_selector=selector, limit=2)
    seen = [item.metadata.name for item in page.items]
    while page.metadata._continue:
        page = await core.list_namespaced_config_map(
            ns, label_selector=selector, limit=2, _continue=page.metadata._continue
        )
        assert len(page.items) <= 2
        seen += [item.metadata.name for item in page.items]
    assert sorted(seen) == ["a", "b", "c", "d"]
