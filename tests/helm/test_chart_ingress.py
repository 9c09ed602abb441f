"""The Ingress: the proxy under /deployment/, the API on its public paths, TLS, and the public
URLs the processes build endpoints and log links from."""

from __future__ import annotations

from typing import Any

from chartkit import NAMESPACE, PREFIX, Rendered, containers, env_of

from gateway.api.server import build_app
from gateway.api.settings import ApiSettings

CONSOLE_PATHS = ("/", "/create", "/deployments/", "/admin/", "/assets/", "/sign-in")


def _env(rendered: Rendered, component: str) -> dict[str, Any]:
    (container,) = containers(rendered.component(component))
    return env_of(container)


def test_ingress_routes_proxy_and_api(rendered_scenarios: dict[str, Rendered]) -> None:
    """/deployment/ goes to the proxy's http port; the API paths to the API's; TLS is on."""
    rendered = rendered_scenarios["ingress-tls"]
    (ingress,) = rendered.of_kind("Ingress")
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"hosts": ["models.example.com"],
                            "secretName": "models-example-com-tls"}]
    (rule,) = spec["rules"]
    assert rule["host"] == "models.example.com"
    routes = {path["path"]: path for path in rule["http"]["paths"]}
    proxy = routes.pop("/deployment/")
    assert proxy["pathType"] == "Prefix"
    assert proxy["backend"]["service"] == {"name": f"{PREFIX}-proxy", "port": {"name": "http"}}
    assert routes, "no API path is routed"
    for path in routes.values():
        assert path["backend"]["service"] == {"name": f"{PREFIX}-api", "port": {"name": "http"}}


def test_ingress_backends_exist(rendered_scenarios: dict[str, Rendered]) -> None:
    """Each backend names a rendered Service and one of its ports."""
    rendered = rendered_scenarios["ingress-tls"]
    (ingress,) = rendered.of_kind("Ingress")
    for path in ingress["spec"]["rules"][0]["http"]["paths"]:
        backend = path["backend"]["service"]
        service = rendered.get("Service", backend["name"])
        assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}


def _routes(path: dict[str, Any], url: str) -> bool:
    """Whether an Ingress path sends ``url`` to its backend."""
    if path["pathType"] == "Exact":
        return url == path["path"]
    return url.startswith(path["path"])


def test_health_and_metrics_are_not_public(rendered_scenarios: dict[str, Rendered]) -> None:
    """No routed path covers a health, readiness or metrics endpoint."""
    (ingress,) = rendered_scenarios["ingress-tls"].of_kind("Ingress")
    for path in ingress["spec"]["rules"][0]["http"]["paths"]:
        for internal in ("/healthz", "/readyz", "/metrics"):
            assert not _routes(path, internal), path["path"]


def test_the_console_is_routed_to_the_api(rendered_scenarios: dict[str, Rendered]) -> None:
    """The console's page, its routes, assets and sign-in reach the API; `/` only exactly."""
    (ingress,) = rendered_scenarios["ingress-tls"].of_kind("Ingress")
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    for url in ("/", "/create", "/deployments/iris/logs", "/admin/groups", "/sign-in",
                "/assets/index-1a2b.js", "/auth/session", "/auth/link", "/graphql"):
        (path,) = [path for path in paths if _routes(path, url)]
        assert path["backend"]["service"]["name"] == f"{PREFIX}-api", url
    assert {path["path"]: path["pathType"] for path in paths}["/"] == "Exact"


def test_public_urls_follow_the_ingress(rendered_scenarios: dict[str, Rendered]) -> None:
    """Behind the TLS ingress, endpoints and log links use https://<host>."""
    rendered = rendered_scenarios["ingress-tls"]
    for component in ("api", "controller"):
        url = _env(rendered, component)["MODEL_GATEWAY_PUBLIC_URL"]["value"]
        assert url == "https://models.example.com"
    api = _env(rendered, "api")["MODEL_GATEWAY_API_PUBLIC_URL"]["value"]
    assert api == "https://models.example.com"
    assert _env(rendered, "proxy")["MODEL_GATEWAY_PROXY_TRUSTED_HOPS"]["value"] == "1"


def test_without_ingress_urls_are_in_cluster(default: Rendered) -> None:
    """With no ingress and no publicUrl, links point at the Services, and no hop is trusted."""
    assert default.of_kind("Ingress") == []
    proxy = f"http://{PREFIX}-proxy.{NAMESPACE}.svc:8080"
    assert _env(default, "controller")["MODEL_GATEWAY_PUBLIC_URL"]["value"] == proxy
    api = f"http://{PREFIX}-api.{NAMESPACE}.svc:8000"
    assert _env(default, "api")["MODEL_GATEWAY_API_PUBLIC_URL"]["value"] == api
    assert _env(default, "proxy")["MODEL_GATEWAY_PROXY_TRUSTED_HOPS"]["value"] == "0"


def _api_routes() -> set[str]:
    """The paths the API application serves, as its router declares them (but the console's
    catch-all, whose paths the test above covers)."""
    app = build_app(ApiSettings())
    return {resource.canonical for resource in app.router.resources()} - {"/{path}"}


def test_ingress_paths_are_exactly_the_public_api(
        rendered_scenarios: dict[str, Rendered]) -> None:
    """Every public API route is reachable through the ingress, and nothing else of the API."""
    (ingress,) = rendered_scenarios["ingress-tls"].of_kind("Ingress")
    prefixes = [path["path"] for path in ingress["spec"]["rules"][0]["http"]["paths"]
                if path["path"] != "/deployment/" and path["path"] not in CONSOLE_PATHS]
    internal = {"/healthz", "/readyz", "/metrics"}
    routes = _api_routes()
    assert internal <= routes
    for route in routes - internal:
        assert any(route.startswith(prefix) for prefix in prefixes), f"{route} unreachable"
    for prefix in prefixes:
        assert any(route.startswith(prefix) for route in routes - internal), prefix
