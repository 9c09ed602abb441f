"""The in-process route table: deployment id -> :class:`~proxy.records.Route`.

Each route is kept with its :class:`~proxy.splitting.Split` (the state that picks a predictor
per request), made when the route is stored, so a request does no work to find its predictor
but one step of the split. Replacing a route replaces its split: requests already on their
way to a predictor the new route no longer lists keep going and finish (nothing here cancels
them), which is what lets a predictor be removed without dropping a request.

Filled from Redis by :mod:`proxy.subscribing` and read on every request without I/O.
``loaded`` stays false until the first full load succeeds: until then the proxy cannot tell
an unknown deployment from one it has not heard of yet, so it answers 503, not 404.
``complete`` is false while Redis has lost its data (no epoch) and the controller has not
republished yet: the table then keeps what it knew, and an unknown deployment is 503 too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from proxy.records import Route
from proxy.splitting import Split


class RouteTable:
    def __init__(self) -> None:
        self._routes: dict[str, Split] = {}
        self._loaded = asyncio.Event()
        self.complete = True

    @property
    def loaded(self) -> bool:
        return self._loaded.is_set()

    async def wait_loaded(self) -> None:
        """Until the first full load (an embedding process waits for this to be ready)."""
        await self._loaded.wait()

    def __len__(self) -> int:
        return len(self._routes)

    def get(self, deployment_id: str) -> Route | None:
        split = self._routes.get(deployment_id)
        return None if split is None else split.route

    def split(self, deployment_id: str) -> Split | None:
        """The route of ``deployment_id`` with its predictor-picking state (the hot path's)."""
        return self._routes.get(deployment_id)

    def _split(self, route: Route) -> Split:
        """A new split, unless the route is unchanged (its schedule then carries on)."""
        known = self._routes.get(route.deployment_id)
        return known if known is not None and known.route == route else Split(route)

    def replace(self, routes: Iterable[Route]) -> None:
        """A full load from a complete data plane."""
        self._routes = {route.deployment_id: self._split(route) for route in routes}
        self.complete = True
        self._loaded.set()

    def keep_and_add(self, routes: Iterable[Route]) -> None:
        """A full load from an incomplete data plane: what is missing may come back."""
        self._routes.update((route.deployment_id, self._split(route)) for route in routes)
        self.complete = False
        self._loaded.set()

    def put(self, route: Route) -> None:
        self._routes[route.deployment_id] = self._split(route)

    def remove(self, deployment_id: str) -> None:
        self._routes.pop(deployment_id, None)
