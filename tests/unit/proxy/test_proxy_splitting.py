"""Picking a predictor: exact weighted shares, readiness, 0% predictors, sticky callers."""

from __future__ import annotations

from collections import Counter

import pytest

from proxy.records import Access, Route, Upstream
from proxy.splitting import Split, rendezvous, schedule


def _route(*predictors: Upstream, sticky: bool = False) -> Route:
    first = predictors[0]
    return Route(deployment_id="iris-abc12", host=first.host, port=first.port,
                 access=Access.PRIVATE, stopped=False, ready=True, predictors=predictors,
                 sticky=sticky)


def _predictor(name: str, weight: int, *, ready: bool = True, port: int = 80) -> Upstream:
    return Upstream(name, "127.1.0.5", port, weight, ready=ready)


PRIMARY = _predictor("predictor1", 70)
CANARY = _predictor("canary", 20, port=81)
THIRD = _predictor("third", 10, port=82)
IDLE = _predictor("idle", 0, port=83)


def _shares(split: Split, requests: int, caller: str = "app") -> Counter[str]:
    picks = Counter[str]()
    for _ in range(requests):
        picked = split.pick(caller)
        assert picked is not None
        picks[picked.name] += 1
    return picks


def test_one_predictor_takes_everything() -> None:
    """A route without predictors has predictor1 with all its traffic."""
    route = Route(deployment_id="x", host="127.1.0.5", port=80, access=Access.PUBLIC,
                  stopped=False, ready=True)
    assert _shares(Split(route), 10) == {"predictor1": 10}


@pytest.mark.parametrize("requests", [100, 10_000, 10_037])
def test_weights_are_met_exactly_in_every_cycle(requests: int) -> None:
    """Each run of 100 requests has each predictor's exact share; a partial cycle is within 1."""
    picks = _shares(Split(_route(PRIMARY, CANARY, THIRD, IDLE)), requests)
    for predictor in (PRIMARY, CANARY, THIRD):
        assert abs(picks[predictor.name] - requests * predictor.weight / 100) <= 1
    assert "idle" not in picks


def test_the_schedule_interleaves_rather_than_bursts() -> None:
    """70/30 never sends more than three in a row to one predictor (a plain cycle sends seven)."""
    cycle = "".join(p.name for p in schedule((_predictor("a", 70), _predictor("b", 30))))
    assert len(cycle) == 10  # reduced by the common divisor
    assert cycle.count("b") == 3
    assert "aaaa" not in cycle + cycle  # also across the end of one cycle and the next
    assert "".join(p.name for p in schedule((_predictor("a", 50), _predictor("b", 50)))) in (
        "ab", "ba")


def test_a_predictor_that_is_not_ready_gets_no_split_traffic() -> None:
    """Its share goes to the ready ones in proportion to their weights."""
    down = _predictor("canary", 20, ready=False, port=81)
    picks = _shares(Split(_route(PRIMARY, down, THIRD)), 800)
    assert picks == {"predictor1": 700, "third": 100}


def test_no_ready_predictor_with_weight_means_nothing_to_pick() -> None:
    """Only 0% predictors ready: split traffic has nowhere to go (the proxy answers 503)."""
    split = Split(_route(_predictor("predictor1", 100, ready=False), IDLE))
    assert split.pick("app") is None
    assert split.named("idle") == IDLE


def test_predictors_scaled_to_zero_with_a_share_are_named_as_asleep() -> None:
    """Wakeable, not ready and weight > 0: asleep (to be woken); its share goes elsewhere."""
    sleeping = Upstream("canary", "127.1.0.5", 81, 30, ready=False, wakeable=True)
    idle = Upstream("idle", "127.1.0.5", 83, 0, ready=False, wakeable=True)
    broken = Upstream("broken", "127.1.0.5", 84, 10, ready=False)
    split = Split(_route(_predictor("predictor1", 60), sleeping, idle, broken))
    assert split.asleep == ("canary",)
    assert _shares(split, 10) == {"predictor1": 10}
    assert Split(_route(PRIMARY, CANARY, THIRD)).asleep == ()


def test_every_predictor_is_reachable_by_name_whatever_its_weight_or_readiness() -> None:
    """named() finds 0% and not-ready predictors too, and nothing for an unknown name."""
    down = _predictor("canary", 30, ready=False, port=81)
    split = Split(_route(PRIMARY, down, IDLE))
    assert split.named("idle") == IDLE
    assert split.named("canary") == down
    assert split.named("nope") is None


def test_sticky_callers_always_reach_the_same_predictor() -> None:
    """The same caller gets the same predictor on every request, and in a fresh split."""
    route = _route(PRIMARY, CANARY, THIRD, IDLE, sticky=True)
    first, second = Split(route), Split(route)
    for caller in (f"client-{n}" for n in range(200)):
        chosen = first.pick(caller)
        assert chosen is not None
        assert chosen.weight > 0
        assert all(first.pick(caller) == chosen for _ in range(3))
        assert second.pick(caller) == chosen


def test_sticky_callers_spread_by_weight() -> None:
    """Over many callers, each predictor gets about its weight's share of them."""
    callers = Counter[str]()
    for n in range(20_000):
        picked = rendezvous((PRIMARY, CANARY, THIRD, IDLE), f"client-{n}")
        assert picked is not None
        callers[picked.name] += 1
    for predictor in (PRIMARY, CANARY, THIRD):
        assert abs(callers[predictor.name] / 20_000 - predictor.weight / 100) < 0.02
    assert "idle" not in callers


def test_removing_a_predictor_moves_only_its_own_callers() -> None:
    """Rendezvous hashing: callers of the predictors that stay keep their predictor."""
    before = {f"c{n}": rendezvous((PRIMARY, CANARY, THIRD), f"c{n}") for n in range(2000)}
    after = {caller: rendezvous((PRIMARY, THIRD), caller) for caller in before}
    for caller, chosen in before.items():
        if chosen != CANARY:
            assert after[caller] == chosen
