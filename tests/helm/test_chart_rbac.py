"""RBAC per component, exactly: what the api and the controller may do, and that the proxy
and Redis may do nothing at all. Rules are compared as sets of (group, resource, name, verb)."""

from __future__ import annotations

from typing import Any, Final

from chartkit import NAMESPACE, PREFIX, Manifest, Rendered, containers, crd_documents, env_of

READ: Final = ("get", "list", "watch")
WRITE: Final = ("create", "update", "patch", "delete")

Grant = tuple[str, str, str, str]  # api group, resource, resource name ("" = any), verb


def _grants(group: str, resource: str, verbs: tuple[str, ...], name: str = "") -> set[Grant]:
    return {(group, resource, name, verb) for verb in verbs}


def _custom(plurals: dict[str, str], *, verbs: tuple[str, ...]) -> set[Grant]:
    found: set[Grant] = set()
    for plural, group in plurals.items():
        found |= _grants(group, plural, verbs)
    return found


def _crd_plurals() -> dict[str, str]:
    return {crd["spec"]["names"]["plural"]: crd["spec"]["group"] for crd in crd_documents()}


def _role_grants(role: Manifest) -> set[Grant]:
    found: set[Grant] = set()
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for name in rule.get("resourceNames") or [""]:
                    found |= _grants(group, resource, tuple(rule["verbs"]), name)
    return found


def _controller_env(rendered: Rendered) -> dict[str, Any]:
    (container,) = containers(rendered.component("controller"))
    return env_of(container)


def test_api_role_is_exactly_its_job(rendered: Rendered) -> None:
    """Custom resources read/write, Secrets it manages read/write, pods and their logs read."""
    expected = (_custom(_crd_plurals(), verbs=READ + WRITE)
                | _grants("", "secrets", READ + WRITE)
                | _grants("", "pods", READ)
                | _grants("", "pods/log", ("get",)))
    assert _role_grants(rendered.get("Role", f"{PREFIX}-api")) == expected


def test_controller_role_is_exactly_its_job(rendered: Rendered) -> None:
    """PhDeployments and status, children (an HPA applied and deleted, never PUT), Secrets,
    pods read, its own Lease, Events."""
    lease = _controller_env(rendered)["MODEL_GATEWAY_CONTROLLER_LEASE_NAME"]["value"]
    others = {plural: group for plural, group in _crd_plurals().items()
              if plural != "phdeployments"}
    expected = (_grants("primehub.io", "phdeployments", (*READ, "update", "patch"))
                | _grants("primehub.io", "phdeployments/status", ("get", "update", "patch"))
                | _grants("primehub.io", "phdeployments/finalizers", ("update",))
                | _custom(others, verbs=READ)
                | _grants("apps", "deployments", READ + WRITE)
                | _grants("autoscaling", "horizontalpodautoscalers",
                          (*READ, "create", "patch", "delete"))
                | _grants("", "services", READ + WRITE)
                | _grants("", "secrets", (*READ, "update", "patch"))
                | _grants("", "pods", READ)
                | _grants("coordination.k8s.io", "leases", ("create",))
                | _grants("coordination.k8s.io", "leases", ("get", "update"), lease)
                | _grants("", "events", ("create", "patch")))
    assert _role_grants(rendered.get("Role", f"{PREFIX}-controller")) == expected


def test_roles_live_where_the_deployments_live(rendered: Rendered) -> None:
    """Roles and bindings are in the namespace both processes are told to manage."""
    (api,) = containers(rendered.component("api"))
    namespace = _controller_env(rendered)["MODEL_GATEWAY_NAMESPACE"]["value"]
    assert env_of(api)["MODEL_GATEWAY_NAMESPACE"]["value"] == namespace
    for kind in ("Role", "RoleBinding"):
        for item in rendered.of_kind(kind):
            assert item["metadata"]["namespace"] == namespace


def test_nothing_is_cluster_wide(rendered: Rendered) -> None:
    """No ClusterRole or ClusterRoleBinding, and no wildcard in any rule."""
    assert not rendered.of_kind("ClusterRole")
    assert not rendered.of_kind("ClusterRoleBinding")
    for role in rendered.of_kind("Role"):
        for rule in role["rules"]:
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule[field], role["metadata"]["name"]


def test_each_binding_gives_one_component_its_own_role(rendered: Rendered) -> None:
    """api and controller accounts are bound to their Roles; the proxy and Redis to nothing."""
    bindings = {binding["metadata"]["name"]: binding
                for binding in rendered.of_kind("RoleBinding")}
    assert set(bindings) == {f"{PREFIX}-api", f"{PREFIX}-controller"}
    for name, binding in bindings.items():
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                      "name": name}
        (subject,) = binding["subjects"]
        assert subject == {"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}
    assert {role["metadata"]["name"] for role in rendered.of_kind("Role")} == set(bindings)
