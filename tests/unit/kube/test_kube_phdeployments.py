"""The PhDeployment view with several predictors: parsing, writing back, shares, child names."""

from __future__ import annotations

import re
from typing import Any

from gateway.kube import phdeployments
from gateway.kube.phdeployments import EnvVar, PredictorStatus

PRIMEHUB_SPEC: dict[str, Any] = {
    "displayName": "iris", "userId": "u", "groupId": "g", "groupName": "g",
    "predictors": [{"name": "predictor1", "replicas": 1, "modelImage": "img:1",
                    "instanceType": "cpu-1"}]}
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _versions() -> dict[str, Any]:
    first = PRIMEHUB_SPEC["predictors"][0]
    return {**PRIMEHUB_SPEC, "sticky": True, "predictors": [
        {**first, "trafficPercent": 80},
        {**first, "name": "canary", "modelImage": "img:2", "trafficPercent": 20,
         "env": [{"name": "VERSION", "value": "2"}]},
        {**first, "name": "shadow", "modelImage": "img:3"}]}


def test_a_primehub_spec_has_one_predictor_with_all_the_traffic() -> None:
    """PrimeHub's one predictor, without trafficPercent, takes 100; writing it back adds no
    field PrimeHub did not have."""
    spec = phdeployments.parse_spec(PRIMEHUB_SPEC)
    assert spec.predictors == (spec.predictor,)
    assert spec.weights() == {"predictor1": 100}
    body = phdeployments.spec_body(spec)
    assert set(body["predictors"][0]) == {"name", "replicas", "modelImage", "instanceType",
                                          "metadata"}
    assert "sticky" not in body


def test_several_predictors_parse_and_write_back_the_same() -> None:
    """The primary is the first entry, the others follow in order with their own env, shares
    and the sticky setting; spec_body gives back what was parsed."""
    spec = phdeployments.parse_spec(_versions())
    assert spec.predictor.name == "predictor1"
    assert [item.name for item in spec.others] == ["canary", "shadow"]
    assert spec.others[0].env == (EnvVar("VERSION", "2"),)
    assert spec.sticky
    assert spec.weights() == {"predictor1": 80, "canary": 20, "shadow": 0}
    assert phdeployments.parse_spec(phdeployments.spec_body(spec)) == spec


def test_a_primary_without_a_share_takes_what_the_others_leave() -> None:
    """Only the others set trafficPercent: the primary has the rest (never below 0)."""
    spec = _versions()
    del spec["predictors"][0]["trafficPercent"]
    assert phdeployments.parse_spec(spec).weights() == {"predictor1": 80, "canary": 20,
                                                        "shadow": 0}
    spec["predictors"][1]["trafficPercent"] = 100
    spec["predictors"][2]["trafficPercent"] = 30
    assert phdeployments.parse_spec(spec).weights()["predictor1"] == 0


def test_predictor_statuses_round_trip() -> None:
    """status.predictors parses into PredictorStatus and is written back the same."""
    status = phdeployments.DeploymentStatus(phase="Deployed", predictors=(
        PredictorStatus("predictor1", 2, 2, "Deployed"),
        PredictorStatus("canary", 1, 0, "Failed", "ErrImagePull")))
    parsed = phdeployments.parse_status(phdeployments.status_body(status))
    assert parsed.predictors == status.predictors
    assert parsed.of("canary") == status.predictors[1]
    assert parsed.of("nope") is None


def test_predictor1_keeps_the_children_it_always_had() -> None:
    """PrimeHub's predictor is deploy-<id>, so upgrading restarts nothing."""
    assert phdeployments.predictor_child_name("iris", "predictor1") == "deploy-iris"


def test_other_predictors_get_stable_distinct_dns_labels() -> None:
    """Names of other predictors are DNS labels of at most 63 even for a 56-character id and
    a 16-character name, never start like a primary's, stay the same call after call, and
    differ for pairs whose readable parts are the same."""
    longest = "a" * phdeployments.MAX_DEPLOYMENT_ID
    for deployment_id, predictor in ((longest, "b" * 16), ("iris", "v2"), (longest, "v")):
        name = phdeployments.predictor_child_name(deployment_id, predictor)
        assert len(name) <= 63, name
        assert DNS_LABEL.fullmatch(name), name
        assert not name.startswith(phdeployments.CHILD_PREFIX)
        assert name == phdeployments.predictor_child_name(deployment_id, predictor)
    assert phdeployments.predictor_child_name("iris-v2", "x") != \
        phdeployments.predictor_child_name("iris", "v2-x")
    assert phdeployments.predictor_child_name("iris", "v2").startswith("p-iris-v2-")
