"""Prometheus and Grafana: ServiceMonitors scrape the ports that serve /metrics, the dashboard
only queries metrics and labels the proxy really exports, and never comes without the
ServiceMonitors that feed it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

import pytest
from chartkit import PREFIX, Rendered, containers, env_of, render

from proxy.metrics import ProxyMetrics

SELECTOR: Final = re.compile(r"(\w+)\{([^}]*)\}")
MATCHER: Final = re.compile(r"(\w+)\s*(?:=~?|!=|!~)\s*\"")
GROUPING: Final = re.compile(r"by \(([^)]*)\)")
LABEL_VALUES: Final = re.compile(r"^label_values\((\w+)(?:\{[^}]*\})?, (\w+)\)$")


@pytest.fixture
def monitored(rendered_scenarios: dict[str, Rendered]) -> Rendered:
    """The scenario with the dashboard and the ServiceMonitors on."""
    return rendered_scenarios["ingress-tls"]


def _exported() -> dict[str, set[str]]:
    """Sample names the proxy exports, with their label names (one observation of each)."""
    metrics = ProxyMetrics()
    metrics.observe_request(deployment="d", predictor="p", client="c", method="GET", status=200,
                            seconds=0.1)
    metrics.observe_upstream(deployment="d", predictor="p", seconds=0.05)
    exported: dict[str, set[str]] = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            exported.setdefault(sample.name, set()).update(sample.labels)
    return exported


def _dashboard(rendered: Rendered) -> dict[str, Any]:
    config = rendered.get("ConfigMap", f"{PREFIX}-dashboard")
    (document,) = config["data"].values()
    dashboard: dict[str, Any] = json.loads(document)
    return dashboard


def _expressions(dashboard: dict[str, Any]) -> list[str]:
    """PromQL of every panel target and of every query variable's selector."""
    found = [target["expr"] for panel in dashboard["panels"]
             for target in panel.get("targets", [])]
    found += [variable["definition"].removeprefix("label_values(").rpartition(",")[0]
              for variable in dashboard["templating"]["list"] if variable["type"] == "query"]
    return found


def test_variables_list_exported_labels(monitored: Rendered) -> None:
    """The deployment and client pickers read labels the request counter carries."""
    exported = _exported()
    for variable in _dashboard(monitored)["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = LABEL_VALUES.match(variable["definition"])
        assert match, variable["definition"]
        assert match.group(2) in exported[match.group(1)]


def test_dashboard_queries_only_exported_metrics(monitored: Rendered) -> None:
    """Every metric name and label a panel or variable uses exists in the proxy's registry."""
    exported = _exported()
    expressions = _expressions(_dashboard(monitored))
    assert expressions
    for expression in expressions:
        if "{" not in expression:
            assert expression in exported, expression
            continue
        selectors = SELECTOR.findall(expression)
        assert selectors, expression
        for name, matchers in selectors:
            assert name in exported, f"{name} is not exported by the proxy"
            assert set(MATCHER.findall(matchers)) <= exported[name], expression
        grouped = {label.strip() for group in GROUPING.findall(expression)
                   for label in group.split(",")}
        for name, _ in selectors:
            assert grouped <= exported[name] | {"le"}, expression


def test_dashboard_shows_what_the_seed_documents_promise(monitored: Rendered) -> None:
    """QPS, success rate, 4xx, 5xx and latency, per deployment and per client."""
    titles = {panel["title"] for panel in _dashboard(monitored)["panels"]}
    for title in ("QPS", "Success rate", "4xx", "5xx", "Latency", "QPS per client",
                  "Success rate per client", "4xx per client", "5xx per client"):
        assert title in titles
    variables = {variable["name"] for variable in _dashboard(monitored)["templating"]["list"]}
    assert {"deployment", "client"} <= variables


def test_dashboard_sets_predictors_side_by_side(monitored: Rendered) -> None:
    """Per predictor: QPS, traffic share, success, 5xx and latencies, each series a predictor."""
    dashboard = _dashboard(monitored)
    panels = {panel["title"]: panel for panel in dashboard["panels"]}
    for title in ("QPS per predictor", "Traffic share per predictor",
                  "Success rate per predictor", "5xx per predictor", "Latency per predictor",
                  "Upstream latency per predictor"):
        for target in panels[title]["targets"]:
            assert 'predictor=~"$predictor"' in target["expr"], title
            assert all("predictor" in group for group in GROUPING.findall(target["expr"])[:1])
            assert "{{predictor}}" in target["legendFormat"], title
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert "predictor" in variables


def test_dashboard_is_labelled_for_the_grafana_sidecar(monitored: Rendered) -> None:
    """The sidecar's default label selects the ConfigMap."""
    config = monitored.get("ConfigMap", f"{PREFIX}-dashboard")
    assert config["metadata"]["labels"]["grafana_dashboard"] == "1"


def _container_port(rendered: Rendered, component: str, service_port: dict[str, Any]) -> int:
    (container,) = containers(rendered.component(component))
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    port: int = ports[service_port["targetPort"]]
    return port


def test_service_monitors_scrape_every_metrics_port(
        rendered_scenarios: dict[str, Rendered]) -> None:
    """One ServiceMonitor per component, selecting its Service, on each port serving /metrics."""
    rendered = rendered_scenarios["ingress-tls"]
    monitors = {m["metadata"]["name"]: m for m in rendered.of_kind("ServiceMonitor")}
    assert set(monitors) == {f"{PREFIX}-{c}" for c in ("api", "controller", "proxy")}
    for name, monitor in monitors.items():
        component = name.removeprefix(f"{PREFIX}-")
        service = rendered.get("Service", name)
        labels = service["metadata"]["labels"]
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert all(labels.get(key) == value for key, value in selector.items())
        ports = {port["name"]: port for port in service["spec"]["ports"]}
        scraped = [_container_port(rendered, component, ports[endpoint["port"]])
                   for endpoint in monitor["spec"]["endpoints"]]
        assert all(e["path"] == "/metrics" for e in monitor["spec"]["endpoints"])
        env = env_of(containers(rendered.component(component))[0])
        if component == "proxy":
            first = int(env["MODEL_GATEWAY_PROXY_METRICS_PORT"]["value"])
            workers = int(env["MODEL_GATEWAY_PROXY_WORKERS"]["value"])
            assert scraped == [first + worker for worker in range(workers)]
        elif component == "api":
            assert scraped == [int(env["MODEL_GATEWAY_API_PORT"]["value"])]
        else:
            assert scraped == [int(env["MODEL_GATEWAY_CONTROLLER_HEALTH_PORT"]["value"])]


def test_monitoring_objects_are_optional(rendered_scenarios: dict[str, Rendered]) -> None:
    """Without the monitoring values there are no ServiceMonitors and no dashboard."""
    minimal = rendered_scenarios["minimal"]
    assert minimal.of_kind("ServiceMonitor") == []
    assert not minimal.has("ConfigMap", f"{PREFIX}-dashboard")


def _monitors(rendered: Rendered) -> set[str]:
    return {monitor["metadata"]["name"] for monitor in rendered.of_kind("ServiceMonitor")}


def test_dashboard_brings_its_service_monitors(helm: Path) -> None:
    """With the dashboard on and the ServiceMonitors switched off, they are created anyway."""
    rendered = Rendered("dashboard-only", render(helm, None, settings=[
        "metrics.grafanaDashboard.enabled=true", "metrics.serviceMonitor.enabled=false"]))
    assert rendered.has("ConfigMap", f"{PREFIX}-dashboard")
    assert _monitors(rendered) == {f"{PREFIX}-{c}" for c in ("api", "controller", "proxy")}


def test_no_scenario_has_a_dashboard_without_monitors(
        rendered_scenarios: dict[str, Rendered]) -> None:
    """Every scenario that ships the dashboard also ships a ServiceMonitor per component."""
    for rendered in rendered_scenarios.values():
        if rendered.has("ConfigMap", f"{PREFIX}-dashboard"):
            assert len(_monitors(rendered)) == 3, rendered.name
