"""The data-plane entry of a deployment: route and the credentials the proxy may accept."""

from __future__ import annotations

from typing import Any

from gateway.controller.publishing import Live, entry, shares
from gateway.kube import phdeployments
from proxy.records import Access, CredentialKey, Route, Upstream, decode_credential

SERVICE = {"spec": {"clusterIP": "10.0.0.7", "ports": [{"name": "http", "port": 8000}]}}
AVAILABLE = {"status": {"availableReplicas": 1}}


def view(access: str = "private", clients: tuple[str, ...] = ("app", "half"),
         stop: bool = False) -> phdeployments.PhDeployment:
    spec: dict[str, Any] = {
        "stop": stop, "predictors": [{"replicas": 1, "modelImage": "m", "instanceType": "t"}],
        "endpoint": {"accessType": access, "clients": [{"name": name} for name in clients]}}
    return phdeployments.parse({"metadata": {"name": "iris"}, "spec": spec})


def test_private_route_carries_hashes_of_clients_named_and_hashed() -> None:
    """Only clients both in the spec and in the Secret are published."""
    found = entry(view(), service=SERVICE, child=AVAILABLE,
                  hashes={"app": "$pbkdf2$a", "orphan": "$pbkdf2$o"}, healthy=True)
    assert found == (Route(deployment_id="iris", host="10.0.0.7", port=8000,
                           access=Access.PRIVATE, stopped=False, ready=True),
                     {"app": "$pbkdf2$a"})


def test_public_route_has_no_credentials() -> None:
    """A public deployment publishes no hashes even if a Secret is left over."""
    found = entry(view("public"), service=SERVICE, child=AVAILABLE, hashes={"app": "h"},
                  healthy=True)
    assert found is not None
    assert found[0].access is Access.PUBLIC
    assert found[1] == {}


def test_ready_needs_available_pods_not_stopped_and_healthy() -> None:
    """No available replica, stopped, or a configuration problem: routed as not ready."""
    cases: list[tuple[dict[str, Any] | None, bool, bool]] = [
        ({"status": {}}, False, True), (AVAILABLE, True, True), (AVAILABLE, False, False),
        (None, False, True)]
    for child, stop, healthy in cases:
        found = entry(view(stop=stop), service=SERVICE, child=child, hashes={},
                      healthy=healthy)
        assert found is not None
        assert found[0].ready is False
        assert found[0].stopped is stop


def test_no_route_until_the_service_has_an_address() -> None:
    """A missing Service, a headless one or one without ports gives no entry."""
    services: list[dict[str, Any] | None] = [
        None, {"spec": {}}, {"spec": {"clusterIP": "None", "ports": [{"port": 1}]}},
        {"spec": {"clusterIP": "10.0.0.1", "ports": []}}]
    for service in services:
        assert entry(view(), service=service, child=AVAILABLE, hashes={}, healthy=True) is None


def test_a_client_token_expiry_travels_with_its_hash() -> None:
    """A client with an expiry is published as a credential record holding both."""
    found = entry(view(), service=SERVICE, child=AVAILABLE, hashes={"app": "$pbkdf2$a"},
                  expiries={"app": 1900000000.0}, healthy=True)
    assert found is not None
    assert decode_credential(found[1]["app"]) == (CredentialKey("$pbkdf2$a", 1900000000.0),)


def test_a_rotated_out_hash_is_published_until_its_overlap_ends() -> None:
    """After a rotation both hashes are published; the old one ends at the overlap (or the
    client's own expiry, if sooner)."""
    found = entry(view(), service=SERVICE, child=AVAILABLE, hashes={"app": "$new", "half": "$h"},
                  expiries={"half": 1800000000.0},
                  previous={"app": ("$old", 1900000000.0), "half": ("$h0", 1900000000.0)},
                  healthy=True)
    assert found is not None
    assert decode_credential(found[1]["app"]) == (
        CredentialKey("$new", None), CredentialKey("$old", 1900000000.0))
    assert decode_credential(found[1]["half"]) == (
        CredentialKey("$h", 1800000000.0), CredentialKey("$h0", 1800000000.0))


def versions(**shares: int | None) -> phdeployments.PhDeployment:
    """A deployment whose predictors (primary first) have these shares."""
    spec: dict[str, Any] = {"predictors": [
        {"name": name, "replicas": 1, "modelImage": "m", "instanceType": "t",
         **({} if share is None else {"trafficPercent": share})}
        for name, share in shares.items()]}
    return phdeployments.parse({"metadata": {"name": "iris"}, "spec": spec})


CANARY_SERVICE = {"spec": {"clusterIP": "10.0.0.8", "ports": [{"name": "http", "port": 8000}]}}


def test_other_predictors_are_listed_with_their_shares_and_readiness() -> None:
    """The primary is at host/port first; a canary with an address is listed with its share,
    ready when it has an available pod and can run."""
    others = {"canary": Live(CANARY_SERVICE, {"status": {}}),
              "shadow": Live(CANARY_SERVICE, AVAILABLE, healthy=False)}
    found = entry(versions(predictor1=90, canary=10, shadow=0), service=SERVICE,
                  child=AVAILABLE, hashes={}, healthy=True, others=others)
    assert found is not None
    assert found[0].predictors == (Upstream("predictor1", "10.0.0.7", 8000, 90, True),
                                   Upstream("canary", "10.0.0.8", 8000, 10, False),
                                   Upstream("shadow", "10.0.0.8", 8000, 0, False))


def test_a_predictor_without_an_address_leaves_its_share_with_the_primary() -> None:
    """A canary whose Service has no address yet is not listed; the primary has its share."""
    found = entry(versions(predictor1=70, canary=30), service=SERVICE, child=AVAILABLE,
                  hashes={}, healthy=True, others={"canary": Live(None, None)})
    assert found is not None
    assert [(item.name, item.weight) for item in found[0].predictors] == [("predictor1", 100)]


def test_shares_not_summing_to_100_send_everything_to_the_primary() -> None:
    """A hand-edited spec whose shares do not sum to 100 is routed all to the primary."""
    assert shares(versions(predictor1=70, canary=70)) == {"predictor1": 100, "canary": 0}
    assert shares(versions(predictor1=None, canary=30)) == {"predictor1": 70, "canary": 30}
