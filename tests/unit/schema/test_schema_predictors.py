"""Versions as spec changes (pure): new predictors at 0%, removal rules, promote and retire."""

from __future__ import annotations

import pytest

from gateway.kube.phdeployments import DeploymentSpec, Predictor
from schema import predictors
from schema.errors import BadUserInput

PRIMARY = Predictor(replicas=1, model_image="m:1", instance_type="cpu-1")
CANARY = Predictor(name="canary", replicas=1, model_image="m:2", instance_type="cpu-1")
SPEC = DeploymentSpec(predictor=PRIMARY)


def test_a_new_predictor_starts_at_zero_and_the_others_keep_their_shares() -> None:
    """Adding writes every share out: the primary keeps its 100, the new one has 0."""
    spec = predictors.added(SPEC, CANARY, user="bob", now="t")
    assert spec.weights() == {"predictor1": 100, "canary": 0}
    assert spec.predictor.traffic_percent == 100
    assert (spec.update_message, spec.user_id, spec.update_time) == (
        "Add the predictor canary", "bob", "t")
    with pytest.raises(BadUserInput, match="already has a predictor 'canary'"):
        predictors.added(spec, CANARY, user="bob", now="t")


def test_promote_then_retire_leaves_only_the_promoted_predictor() -> None:
    """Promote puts it first at 100% with the others at 0%; retire then drops the others, but
    only while it is still the primary with all the requests."""
    spec = predictors.with_traffic(predictors.added(SPEC, CANARY, user="b", now="t"),
                                   {"predictor1": 90, "canary": 10}, sticky=None, user="b",
                                   now="t")
    first = predictors.promoted(spec, "canary", user="b", now="t")
    assert [item.name for item in first.predictors] == ["canary", "predictor1"]
    assert first.weights() == {"canary": 100, "predictor1": 0}
    done = predictors.retired(first, "canary", user="b", now="t")
    assert done is not None
    assert [item.name for item in done.predictors] == ["canary"]
    changed = predictors.with_traffic(first, {"canary": 50, "predictor1": 50}, sticky=None,
                                      user="b", now="t")
    assert predictors.retired(changed, "canary", user="b", now="t") is None


def test_names_are_short_dns_labels() -> None:
    """A predictor name is 1 to 16 lowercase letters, digits or inner dashes, nothing else."""
    assert predictors.name("v2-canary") == "v2-canary"
    for bad in ("", "V2", "-v2", "v2-", "a" * 17, "v2\n", "v_2"):
        with pytest.raises(BadUserInput):
            predictors.name(bad)
