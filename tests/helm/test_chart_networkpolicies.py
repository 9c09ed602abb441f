"""NetworkPolicies select what they mean to: model pods by the labels the controller really
sets, the proxy and Redis by the labels of the pods the chart really runs."""

from __future__ import annotations

from typing import Any

from chartkit import NAMESPACE, PREFIX, Rendered, containers, env_of

from gateway.controller.labels import pod_labels


def _matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels selectors are used"
    return all(labels.get(key) == value for key, value in selector["matchLabels"].items())


def _pod_labels(rendered: Rendered, kind: str, name: str) -> dict[str, str]:
    labels: dict[str, str] = rendered.get(kind, name)["spec"]["template"]["metadata"]["labels"]
    return labels


def _env(rendered: Rendered, component: str) -> dict[str, Any]:
    (container,) = containers(rendered.component(component))
    return env_of(container)


def test_model_pods_admit_only_the_proxy_on_the_model_port(rendered: Rendered) -> None:
    """Every model pod is selected; only proxy pods of this release reach it, on its port."""
    if not rendered.has("NetworkPolicy", f"{PREFIX}-model-pods"):
        assert rendered.name == "minimal"
        return
    policy = rendered.get("NetworkPolicy", f"{PREFIX}-model-pods")
    controller = _env(rendered, "controller")
    assert policy["metadata"]["namespace"] == controller["MODEL_GATEWAY_NAMESPACE"]["value"]
    for group in ("Data Team", "ops"):
        assert _matches(policy["spec"]["podSelector"],
                        pod_labels(deployment_id="iris-x1b2c", group_name=group))
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    (peer,) = rule["from"]
    assert _matches(peer["podSelector"], _pod_labels(rendered, "Deployment", f"{PREFIX}-proxy"))
    for component in ("api", "controller"):
        assert not _matches(peer["podSelector"],
                            _pod_labels(rendered, "Deployment", f"{PREFIX}-{component}"))
    assert peer["namespaceSelector"] == {
        "matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}}
    model_port = int(controller["MODEL_GATEWAY_CONTROLLER_MODEL_PORT"]["value"])
    assert rule["ports"] == [{"port": model_port, "protocol": "TCP"}]


def test_redis_admits_exactly_the_components_that_use_it(rendered: Rendered) -> None:
    """Redis peers are the components configured with MODEL_GATEWAY_REDIS_URL, no others."""
    if not rendered.has("StatefulSet", f"{PREFIX}-redis") or rendered.name == "minimal":
        assert not rendered.has("NetworkPolicy", f"{PREFIX}-redis")
        return
    policy = rendered.get("NetworkPolicy", f"{PREFIX}-redis")
    assert _matches(policy["spec"]["podSelector"],
                    _pod_labels(rendered, "StatefulSet", f"{PREFIX}-redis"))
    (rule,) = policy["spec"]["ingress"]
    admitted = {component for component in ("api", "controller", "proxy")
                if any(_matches(peer["podSelector"],
                                _pod_labels(rendered, "Deployment", f"{PREFIX}-{component}"))
                       for peer in rule["from"])}
    users = {component for component in ("api", "controller", "proxy")
             if "MODEL_GATEWAY_REDIS_URL" in _env(rendered, component)}
    assert admitted == users
    assert rule["ports"] == [{"port": 6379, "protocol": "TCP"}]


def test_policies_can_be_turned_off(rendered_scenarios: dict[str, Rendered]) -> None:
    """networkPolicy.enabled=false renders none (for clusters whose CNI ignores them)."""
    assert rendered_scenarios["minimal"].of_kind("NetworkPolicy") == []
    assert len(rendered_scenarios["default"].of_kind("NetworkPolicy")) == 2
