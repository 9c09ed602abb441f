"""The chart and the processes agree on settings: every variable the chart sets is one the
component reads, the rendered environment parses without a problem, and every chart value
either changes the setting it documents or is a Kubernetes-level knob (replicas, resources...).

Settings objects are built by the components' own ``from_env`` from the rendered environment,
with Secret and downward-API references replaced by stand-in values.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pytest
import yaml
from chartkit import CHART, Rendered, containers, documented_paths, env_of, render

from gateway.api.settings import ApiSettings
from gateway.controller.settings import ControllerSettings
from proxy.logformats import LogSettings
from proxy.readdeadlines import ReadTimeouts
from proxy.settings import ProxySettings

FROM_ENV: Final[dict[str, Callable[[Mapping[str, str]], Any]]] = {
    "api": ApiSettings.from_env,
    "controller": ControllerSettings.from_env,
    "proxy": ProxySettings.from_env,
}
CLI_ENV: Final = frozenset({"MODEL_GATEWAY_LOG_LEVEL", "MODEL_GATEWAY_LOG_FORMAT"})


class Recording(Mapping[str, str]):
    """A mapping that remembers which keys were asked for."""

    def __init__(self, data: dict[str, str]) -> None:
        self._data = data
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return self._data.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def _stand_in(secret: str, key: str) -> str:
    """What a Secret reference resolves to here: it names the Secret and key it came from."""
    return f"from-secret:{secret}/{key}"


def _environment(rendered: Rendered, component: str, scratch: Path) -> dict[str, str]:
    """The container's environment as the process would see it."""
    (container,) = containers(rendered.component(component))
    env: dict[str, str] = {}
    for name, item in env_of(container).items():
        if "value" in item:
            env[name] = item["value"]
        elif "secretKeyRef" in item["valueFrom"]:
            reference = item["valueFrom"]["secretKeyRef"]
            env[name] = _stand_in(reference["name"], reference["key"])
        else:
            assert item["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
            env[name] = f"{component}-pod"
    if "MODEL_GATEWAY_API_BOOTSTRAP_TOKEN_FILE" in env:
        token = scratch / "bootstrap-admin-token"
        token.write_text(_stand_in("bootstrap", "token"))
        env["MODEL_GATEWAY_API_BOOTSTRAP_TOKEN_FILE"] = str(token)
    return env


def _settings(rendered: Rendered, component: str, scratch: Path) -> Any:
    return FROM_ENV[component](_environment(rendered, component, scratch))


@pytest.mark.parametrize("component", sorted(FROM_ENV))
def test_every_variable_set_is_read(rendered: Rendered, component: str, tmp_path: Path) -> None:
    """No dead configuration: each MODEL_GATEWAY_ variable is asked for by the settings."""
    env = Recording(_environment(rendered, component, tmp_path))
    FROM_ENV[component](env)
    unread = set(env) - env.asked - CLI_ENV
    assert unread == set(), f"{rendered.name}: {component} ignores {sorted(unread)}"
    assert all(name.startswith("MODEL_GATEWAY_") for name in env)


@pytest.mark.parametrize("component", sorted(FROM_ENV))
def test_log_settings_reach_every_component(helm: Path, component: str, tmp_path: Path) -> None:
    """logFormat (json by default) and the component's logLevel become its log settings."""
    default = Rendered("default", render(helm))
    assert LogSettings.from_env(_environment(default, component, tmp_path)) == LogSettings(
        level="INFO", format="json")
    changed = Rendered("text", render(helm, settings=["logFormat=text",
                                                      f"{component}.logLevel=DEBUG"]))
    assert LogSettings.from_env(_environment(changed, component, tmp_path)) == LogSettings(
        level="DEBUG", format="text")


# value path, new value, component, settings attribute, expected setting, values it needs
# (values are JSON, given to --set-json)
MAPPED: Final[list[tuple[str, str, str, str, Any, tuple[str, ...]]]] = [
    ("deploymentsNamespace", '\"ml\"', "api", "namespace", "ml", ()),
    ("deploymentsNamespace", '\"ml\"', "controller", "namespace", "ml", ()),
    ("publicUrl", '\"https://m.example.com\"', "api", "public_url", "https://m.example.com", ()),
    ("publicUrl", '\"https://m.example.com\"', "controller", "public_url",
     "https://m.example.com", ()),
    ("tokenHashScheme", '\"bcrypt\"', "api", "hash_scheme", "bcrypt", ()),
    ("tokenHashScheme", '\"bcrypt\"', "proxy", "hash_scheme", "bcrypt", ()),
    ("api.port", "8888", "api", "port", 8888, ()),
    ("api.publicUrl", '\"https://api.example.com\"', "api", "api_public_url",
     "https://api.example.com", ()),
    ("api.bootstrapUsername", '\"root\"', "api", "bootstrap_username", "root", ()),
    ("api.graphiql", "true", "api", "graphiql", True, ()),
    ("api.corsOrigins", '["https://console.example.com"]', "api", "cors_origins",
     frozenset({"https://console.example.com"}), ()),
    ("api.maxDepth", "5", "api", "max_depth", 5, ()),
    ("api.maxTokens", "500", "api", "max_tokens", 500, ()),
    ("api.maxReplicas", "7", "api", "max_replicas", 7, ()),
    ("api.dataPlaneWait", "4.5", "api", "data_plane_wait", 4.5, ()),
    ("api.promoteDrain", "2.5", "api", "promote_drain", 2.5, ()),
    ("audit.window", "3600", "api", "audit.window", 3600.0, ()),
    ("audit.streamCap", "500", "api", "audit.cap", 500, ()),
    ("audit.window", "3600", "proxy", "audit.window", 3600.0, ()),
    ("audit.streamCap", "500", "proxy", "audit.cap", 500, ()),
    ("redis.external.url", '"rediss://cache:6380/1"', "api", "redis_url",
     "rediss://cache:6380/1", ("redis.enabled=false", 'redis.external.url="redis://other"')),
    ("api.defaultEndpointAccess", '\"public\"', "api", "default_access_type", "public", ()),
    ("api.modelUriSchemes", '["s3", "gs"]', "api", "model_uri_schemes", ("s3", "gs"), ()),
    ("api.tokenCacheTtl", "3", "api", "token_cache_ttl", 3.0, ()),
    ("api.sessionTtl", "3600", "api", "session_ttl", 3600.0, ()),
    ("api.license.maxDeploy", "9", "api", "license_max_deploy", 9, ()),
    ("api.license.expires", '\"2031-02-03\"', "api", "license_expires",
     datetime(2031, 2, 3, tzinfo=UTC), ()),
    ("api.trustedHeader.existingSecret", '\"sso\"', "api", "trusted_header_secret",
     _stand_in("sso", "trusted-header-secret"), ()),
    ("api.trustedHeader.secretKey", '\"shared\"', "api", "trusted_header_secret",
     _stand_in("sso", "shared"), ('api.trustedHeader.existingSecret="sso"',)),
    ("api.trustedHeader.headerName", '\"X-Sso\"', "api", "trusted_header_name", "X-Sso",
     ('api.trustedHeader.existingSecret="sso"',)),
    ("api.trustedHeader.adminGroup", '\"admins\"', "api", "trusted_admin_group", "admins",
     ('api.trustedHeader.existingSecret="sso"',)),
    ("phfs.claim", '"primehub-store"', "api", "sources.phfs_claim", "primehub-store", ()),
    ("phfs.claim", '"primehub-store"', "controller", "sources.phfs_claim", "primehub-store",
     ()),
    ("controller.storageInitializers", '{"s3": "img:1"}', "api", "sources.initializers",
     {"s3": "img:1"}, ()),
    ("controller.healthPort", "8282", "controller", "health_port", 8282, ()),
    ("controller.modelPort", "7000", "controller", "model_port", 7000, ()),
    ("controller.storageInitializers", '{"s3": "img:1", "gs": "img:2"}', "controller",
     "storage_initializers", {"s3": "img:1", "gs": "img:2"}, ()),
    ("controller.availableDeadline", "60", "controller", "available_deadline", 60.0, ()),
    ("controller.resyncPeriod", "10", "controller", "resync_period", 10.0, ()),
    ("controller.leaderElection.leaseName", '\"lease-x\"', "controller", "lease_name", "lease-x",
     ()),
    ("controller.leaderElection.leaseDuration", "20", "controller", "lease_duration", 20.0, ()),
    ("controller.leaderElection.renewDeadline", "12", "controller", "renew_deadline", 12.0, ()),
    ("controller.leaderElection.retryPeriod", "3", "controller", "retry_period", 3.0, ()),
    ("proxy.port", "8181", "proxy", "port", 8181, ()),
    ("proxy.metricsPort", "9191", "proxy", "metrics_port", 9191, ()),
    ("proxy.workers", "3", "proxy", "workers", 3, ()),
    ("proxy.accessLog", "false", "proxy", "access_log", False, ()),
    ("proxy.bodyLimit", "1048576", "proxy", "body_limit", 1048576, ()),
    ("proxy.connectTimeout", "2.5", "proxy", "connect_timeout", 2.5, ()),
    ("proxy.readTimeout", "120", "proxy", "read_timeout", 120.0, ()),
    ("proxy.cacheTtl", "5", "proxy", "cache_ttl", 5.0, ()),
    ("proxy.failedLoginLimit", "3", "proxy", "failed_login_limit", 3, ()),
    ("proxy.failedLoginAddressLimit", "500", "proxy", "failed_login_address_limit", 500, ()),
    ("proxy.failedLoginBackoffAfter", "50", "proxy", "failed_login_backoff_after", 50, ()),
    ("proxy.failedLoginBackoffMax", "0.5", "proxy", "failed_login_backoff_max", 0.5, ()),
    ("proxy.failedLoginWindow", "60", "proxy", "failed_login_window", 60.0, ()),
    ("proxy.trustedHops", "2", "proxy", "trusted_hops", 2, ()),
    ("api.trustedHops", "2", "api", "trusted_hops", 2, ()),
    ("proxy.shutdownTimeout", "5", "proxy", "shutdown_timeout", 5.0, ()),
    ("api.clientIdleTimeout", "120", "api", "client_timeouts", ReadTimeouts(idle=120), ()),
    ("api.clientHeaderTimeout", "5", "api", "client_timeouts", ReadTimeouts(header=5), ()),
    ("api.clientBodyTimeout", "60", "api", "client_timeouts", ReadTimeouts(body=60), ()),
    ("api.clientBodyMinRate", "1024", "api", "client_timeouts",
     ReadTimeouts(body_min_rate=1024), ()),
    ("proxy.clientIdleTimeout", "120", "proxy", "client_timeouts", ReadTimeouts(idle=120), ()),
    ("proxy.clientHeaderTimeout", "5", "proxy", "client_timeouts", ReadTimeouts(header=5), ()),
    ("proxy.clientBodyTimeout", "60", "proxy", "client_timeouts", ReadTimeouts(body=60), ()),
    ("proxy.clientBodyMinRate", "1024", "proxy", "client_timeouts",
     ReadTimeouts(body_min_rate=1024), ()),
    ("redis.external.url", '"rediss://cache:6380/1"', "proxy", "redis_url",
     "rediss://cache:6380/1", ("redis.enabled=false", 'redis.external.url="redis://other"')),
    ("redis.external.url", '"rediss://cache:6380/1"', "controller", "redis_url",
     "rediss://cache:6380/1", ("redis.enabled=false", 'redis.external.url="redis://other"')),
    ("redis.external.existingSecret", '"cache"', "proxy", "redis_password",
     _stand_in("cache", "redis-password"),
     ("redis.enabled=false", 'redis.external.url="redis://cache:6379/0"')),
    ("redis.external.passwordKey", '"pw"', "controller", "redis_password",
     _stand_in("cache", "pw"), ("redis.enabled=false", 'redis.external.url="redis://cache:6379/0"',
                                'redis.external.existingSecret="cache"')),
    ("redis.auth.existingSecret", '"own"', "proxy", "redis_password",
     _stand_in("own", "redis-password"), ()),
    ("redis.auth.passwordKey", '"pw"', "controller", "redis_password",
     _stand_in("mg-model-gateway-redis", "pw"), ()),
    ("secrets.existingSecret", '"own"', "proxy", "pepper",
     _stand_in("own", "pepper").encode(), ()),
    ("secrets.pepperKey", '"pep"', "proxy", "pepper",
     _stand_in("mg-model-gateway", "pep").encode(), ()),
]

# Values that configure Kubernetes objects rather than a process setting.
KUBERNETES_LEVEL: Final = frozenset({
    "nameOverride", "fullnameOverride", "image.repository", "image.tag", "image.digest",
    "image.pullPolicy", "imagePullSecrets", "instanceTypes", "groups", "podSecurityContext",
    "containerSecurityContext", "secrets.bootstrapAdminTokenKey", "logFormat", "api.logLevel",
    "controller.logLevel", "proxy.logLevel",
    "proxy.autoscaling.enabled", "proxy.autoscaling.minReplicas",
    "proxy.autoscaling.maxReplicas", "proxy.autoscaling.targetCPUUtilizationPercentage",
    "proxy.podDisruptionBudget.enabled", "proxy.podDisruptionBudget.maxUnavailable",
    "redis.enabled",
    "ingress.enabled", "ingress.className", "ingress.annotations", "ingress.host",
    "ingress.apiPaths", "ingress.consolePaths", "ingress.tls.enabled", "ingress.tls.secretName",
    "networkPolicy.enabled", "metrics.serviceMonitor.enabled",
    "metrics.serviceMonitor.interval", "metrics.serviceMonitor.labels",
    "metrics.grafanaDashboard.enabled", "metrics.grafanaDashboard.labels",
    "metrics.grafanaDashboard.namespace",
})
_POD_LEVEL: Final = ("replicas", "extraEnv", "resources", "podAnnotations", "podLabels",
                     "nodeSelector", "tolerations", "affinity", "topologySpreadConstraints",
                     "priorityClassName", "service.type", "service.annotations",
                     "podSecurityContext", "containerSecurityContext", "image.repository",
                     "image.tag", "image.digest", "image.pullPolicy", "persistence.enabled",
                     "persistence.size", "persistence.storageClass")


def _is_kubernetes_level(path: str) -> bool:
    if path in KUBERNETES_LEVEL:
        return True
    component, _, rest = path.partition(".")
    return component in ("api", "controller", "proxy", "redis") and rest in _POD_LEVEL


def _attribute(settings: Any, dotted: str) -> Any:
    return functools.reduce(getattr, dotted.split("."), settings)


@pytest.mark.parametrize("component", ["api", "controller"])
def test_the_products_own_claim_and_secrets_are_protected(rendered: Rendered, component: str,
                                                          tmp_path: Path) -> None:
    """Redis's claim and the chart's Secrets reach API and controller as never assignable."""
    protected = _settings(rendered, component, tmp_path).sources.protected
    secrets = {item["metadata"]["name"] for item in rendered.of_kind("Secret")}
    assert secrets <= protected.secrets
    claims = {f"{template['metadata']['name']}-{item['metadata']['name']}-0"
              for item in rendered.of_kind("StatefulSet")
              for template in item["spec"].get("volumeClaimTemplates", [])}
    assert claims <= protected.claims


def test_every_value_is_classified() -> None:
    """Each documented value either maps to a process setting (tested below) or to Kubernetes."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    mapped = {row[0] for row in MAPPED}
    unclassified = [path for path in documented_paths(values)
                    if path not in mapped and not _is_kubernetes_level(path)]
    assert unclassified == []


@pytest.mark.parametrize(("path", "value", "component", "attribute", "expected", "others"),
                         MAPPED, ids=[f"{row[0]}->{row[2]}" for row in MAPPED])
def test_value_changes_its_setting(helm: Path, tmp_path: Path, path: str, value: str,
                                   component: str, attribute: str, expected: Any,
                                   others: tuple[str, ...]) -> None:
    """Changing the value changes exactly the documented setting of the component."""
    before = Rendered("before", render(helm, json_settings=others))
    after = Rendered("after", render(helm, json_settings=[*others, f"{path}={value}"]))
    old = _attribute(_settings(before, component, tmp_path), attribute)
    new = _attribute(_settings(after, component, tmp_path), attribute)
    assert old != expected
    assert new == expected


@pytest.mark.parametrize(("settings", "workers"), [
    ((), 1),
    (('proxy.resources.limits.cpu="2"',), 2),
    (('proxy.resources.limits.cpu="1500m"',), 2),
    (('proxy.resources.limits.cpu=0.5',), 1),
    (('proxy.resources.limits.cpu=3',), 3),
    (('proxy.resources.limits.cpu="4"', "proxy.workers=2"), 2),
])
def test_proxy_workers_default_to_the_cpu_limit(helm: Path, tmp_path: Path,
                                                settings: tuple[str, ...], workers: int) -> None:
    """Without proxy.workers, a pod runs one worker per core of its CPU limit (1 without one),
    and serves metrics on one port per worker."""
    rendered = Rendered("workers", render(helm, json_settings=settings))
    assert _settings(rendered, "proxy", tmp_path).workers == workers
    (container,) = containers(rendered.component("proxy"))
    metrics = [port["name"] for port in container["ports"] if port["name"] != "http"]
    assert metrics == [f"metrics-{worker}" for worker in range(workers)]
