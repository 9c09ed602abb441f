"""Which predictor of a deployment serves one request: by weight, by caller, or by name.

A :class:`Split` is built once per published route (:class:`~proxy.routes.RouteTable` keeps
one beside each route) and asked once per request, without I/O:

- **By weight** (:meth:`Split.pick`, a route that is not sticky): a smooth weighted round
  robin, as nginx's upstream module does it. The weights, reduced by their common divisor,
  give a fixed schedule (90/10 is nine turns of one and one of the other, interleaved, not
  nine in a row), and a counter walks it. So every run of ``sum(weights)`` requests a process
  serves has each predictor's exact share: over 10,000 requests the split is exact, not
  ±2 points by luck, and no random draw costs time on the hot path. With several worker
  processes or replicas each walks its own schedule; each is exact, so their sum is too.
- **By caller** (a sticky route): weighted rendezvous hashing of the caller's key (the client
  name of a private deployment, the caller's address of a public one) over the eligible
  predictors: the highest ``weight / -ln(u)``, ``u`` a hash of predictor name and key in
  (0, 1). One caller always reaches the same predictor, in every process and after restarts
  (the hash is BLAKE2b, not Python's salted ``hash``); callers spread by weight; and a
  weight change or a predictor added or removed moves only the callers it must.
- **By name** (:meth:`Split.named`, ``/deployment/<id>@<predictor>/...``): that predictor,
  whatever its weight, 0% included.

Eligible for split traffic: predictors with weight > 0 that are ready. A predictor that is
not ready gets no split traffic while another with weight is ready: its share goes to the
ready ones in proportion to their weights (90/10 with the canary down is 100/0, with the
primary down 0/100). Only when no predictor with weight is ready does :meth:`Split.pick`
return ``None``, and the caller answers 503. A 0% predictor never gets split traffic, ready
or not; it is reachable by name only.

A predictor the autoscaler scaled to zero (``wakeable``, not ready) is not ready either, so it
gets no split traffic while others serve; but nothing would then ever wake it, and its share
would stay with the others for good. :attr:`Split.asleep` names such predictors with weight >
0, so the caller can ask for them to be woken without holding the request (and hold requests
only when no predictor with weight is ready at all).
"""

from __future__ import annotations

import hashlib
import math
from functools import reduce
from typing import Final

from proxy.records import Route, Upstream

_STICKY_MEMORY: Final = 4096  # callers whose sticky choice is remembered (then forgotten)


def schedule(predictors: tuple[Upstream, ...]) -> tuple[Upstream, ...]:
    """One cycle of the smooth weighted round robin over ``predictors`` with weight > 0."""
    weighted = [predictor for predictor in predictors if predictor.weight > 0]
    if not weighted:
        return ()
    divisor = reduce(math.gcd, (predictor.weight for predictor in weighted))
    weights = [predictor.weight // divisor for predictor in weighted]
    total = sum(weights)
    current = [0] * len(weighted)
    cycle: list[Upstream] = []
    for _ in range(total):
        for index, weight in enumerate(weights):
            current[index] += weight
        chosen = max(range(len(weighted)), key=current.__getitem__)  # first of equals
        current[chosen] -= total
        cycle.append(weighted[chosen])
    return tuple(cycle)


def _score(predictor: Upstream, key: str) -> float:
    digest = hashlib.blake2b(f"{predictor.name}\x00{key}".encode("utf-8", "surrogateescape"),
                             digest_size=8).digest()
    unit = (int.from_bytes(digest) + 0.5) / 2.0**64  # in (0, 1), never 0 or 1
    return predictor.weight / -math.log(unit)


def rendezvous(predictors: tuple[Upstream, ...], key: str) -> Upstream | None:
    """The predictor with weight > 0 that ``key`` belongs to (weighted rendezvous hashing)."""
    weighted = [predictor for predictor in predictors if predictor.weight > 0]
    if not weighted:
        return None
    return max(weighted, key=lambda predictor: _score(predictor, key))


class Split:
    """The routing state of one deployment: its route, schedule and sticky memory."""

    __slots__ = ("_by_name", "_cycle", "_eligible", "_next", "_remembered", "asleep", "route")

    def __init__(self, route: Route) -> None:
        self.route = route
        self._by_name = {predictor.name: predictor for predictor in route.predictors}
        eligible = tuple(predictor for predictor in route.predictors
                         if predictor.ready and predictor.weight > 0)
        self._eligible = eligible
        self.asleep = tuple(predictor.name for predictor in route.predictors
                            if predictor.wakeable and not predictor.ready
                            and predictor.weight > 0)
        self._cycle = schedule(eligible)
        self._next = 0
        self._remembered: dict[str, Upstream | None] = {}

    def named(self, name: str) -> Upstream | None:
        """The predictor called ``name``, ready or not, any weight; ``None`` if there is none."""
        return self._by_name.get(name)

    def pick(self, caller: str) -> Upstream | None:
        """Where split traffic from ``caller`` goes now; ``None`` when no eligible predictor."""
        cycle = self._cycle
        if len(cycle) == 1:  # one predictor with traffic: the usual deployment
            return cycle[0]
        if not cycle:
            return None
        if self.route.sticky:
            return self._sticky(caller)
        index = self._next
        self._next = index + 1 if index + 1 < len(cycle) else 0
        return cycle[index]

    def _sticky(self, caller: str) -> Upstream | None:
        remembered = self._remembered
        if caller in remembered:
            return remembered[caller]
        if len(remembered) >= _STICKY_MEMORY:
            remembered.clear()
        chosen = remembered[caller] = rendezvous(self._eligible, caller)
        return chosen
