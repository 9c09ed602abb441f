"""Pod hardening in every scenario: security contexts, service account tokens, resources, probes."""

from __future__ import annotations

from typing import Any

from chartkit import PREFIX, Rendered, containers, pod_spec


def _effective(pod: dict[str, Any], container: dict[str, Any], field: str) -> Any:
    """A security setting as Kubernetes applies it: the container's, else the pod's."""
    own = container.get("securityContext", {})
    return own[field] if field in own else pod.get("securityContext", {}).get(field)


def test_every_container_is_locked_down(rendered: Rendered) -> None:
    """Non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp."""
    for workload in rendered.workloads():
        pod = pod_spec(workload)
        for container in containers(workload):
            where = f"{rendered.name}: {workload['metadata']['name']}/{container['name']}"
            context = container.get("securityContext", {})
            assert _effective(pod, container, "runAsNonRoot") is True, where
            assert (_effective(pod, container, "runAsUser") or 0) > 0, where
            assert context.get("readOnlyRootFilesystem") is True, where
            assert context.get("allowPrivilegeEscalation") is False, where
            assert context.get("privileged", False) is False, where
            assert context.get("capabilities") == {"drop": ["ALL"]}, where
            seccomp = _effective(pod, container, "seccompProfile")
            assert seccomp == {"type": "RuntimeDefault"}, where


def test_no_pod_touches_the_host(rendered: Rendered) -> None:
    """No host namespaces, host ports or hostPath volumes anywhere."""
    for workload in rendered.workloads():
        pod = pod_spec(workload)
        name = workload["metadata"]["name"]
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(flag), f"{name}: {flag}"
        assert all("hostPath" not in volume for volume in pod.get("volumes", [])), name
        for container in containers(workload):
            assert all("hostPort" not in port for port in container.get("ports", [])), name


def test_only_the_api_and_controller_get_a_kubernetes_token(rendered: Rendered) -> None:
    """Service accounts mount no token by default; only the api and controller pods opt in."""
    for account in rendered.of_kind("ServiceAccount"):
        assert account["automountServiceAccountToken"] is False, account["metadata"]["name"]
    wanted = {f"{PREFIX}-api": True, f"{PREFIX}-controller": True, f"{PREFIX}-proxy": False,
              f"{PREFIX}-redis": False}
    for workload in rendered.workloads():
        name = workload["metadata"]["name"]
        pod = pod_spec(workload)
        assert pod["automountServiceAccountToken"] is wanted[name], name
        assert pod["serviceAccountName"] == name, name


def test_every_container_has_requests_and_a_memory_limit(rendered: Rendered) -> None:
    """Requests for scheduling, and a memory limit so one leak cannot starve a node."""
    for workload in rendered.workloads():
        for container in containers(workload):
            resources = container.get("resources", {})
            where = f"{workload['metadata']['name']}/{container['name']}"
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), where
            assert "memory" in resources.get("limits", {}), where


def test_every_container_has_probes_on_its_own_ports(rendered: Rendered) -> None:
    """Startup, liveness and readiness probes on each container, aimed at a declared port."""
    for workload in rendered.workloads():
        for container in containers(workload):
            where = f"{workload['metadata']['name']}/{container['name']}"
            ports = {port["name"] for port in container.get("ports", [])}
            ports |= {port["containerPort"] for port in container.get("ports", [])}
            for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
                probe = container.get(kind)
                assert probe, f"{where}: no {kind}"
                target = probe.get("httpGet") or probe.get("tcpSocket")
                if target is not None:
                    assert target["port"] in ports, f"{where}: {kind} on an undeclared port"
                else:
                    assert probe["exec"]["command"], where


def test_app_probes_use_the_health_endpoints(default: Rendered) -> None:
    """Liveness asks /healthz (process up); readiness asks /readyz (caches or routes loaded)."""
    for component in ("api", "controller", "proxy"):
        (container,) = containers(default.component(component))
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", component
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", component
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", component


def test_writable_paths_are_only_declared_volumes(rendered: Rendered) -> None:
    """With a read-only root filesystem, /tmp (and Redis's /data) are explicit volumes."""
    for workload in rendered.workloads():
        names = {volume["name"] for volume in pod_spec(workload).get("volumes", [])}
        names |= {claim["metadata"]["name"]
                  for claim in workload["spec"].get("volumeClaimTemplates", [])}
        for container in containers(workload):
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            assert "/tmp" in mounts, workload["metadata"]["name"]  # noqa: S108  a mount path
            assert set(mounts.values()) <= names
