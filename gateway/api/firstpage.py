"""The console's first page with its first data in it, so a signed-in user sees their
deployments without waiting for a request after the page.

Without this, the page loads, its script runs, and only then asks for the session, ``me``,
the licence and the list: a round trip after the script, and the cards wait for it. Here the
server answers a console page for a signed-in browser with the answers already inside, in a
``<script type="application/json" id="mg-first">`` data block (never executed, so the strict
Content-Security-Policy is kept; the page before it is sent while the queries run):

- ``session``: what ``GET /auth/session`` would answer;
- ``queries``: ``[{name, variables, data}]``, the console's own named queries (``Me``; on the
  Deployments page also ``Deployments`` of the selected group and ``License``), run in-process
  exactly as the page would send them (:meth:`ApiView.run_console_query`), so the page takes
  them as the answers to its first requests.

The selected group is the ``mg_group`` cookie the console writes (a group id, no secret), when
it is one of the user's groups; otherwise the first one: the console's own rule. A browser
that is not signed in (or whose cookie was withheld, as ``SameSite=Strict`` does on a link from
another site) gets the plain page, which asks for itself. The page is only ever the caller's:
it is served ``no-store``, and everything in it is text the same caller may read through the
API. The JSON is escaped so that no ``<``, ``>`` or ``&`` appears in it: a deployment named
``</script>`` cannot end the block.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web

from gateway.api.auth import Authenticator, Principal, cookie
from gateway.api.console import Console
from gateway.api.requestids import REQUEST_ID

log = logging.getLogger(__name__)

GROUP_COOKIE: Final = "mg_group"
_GROUP: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")
_ESCAPES: Final = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}

RunQuery = Callable[..., Awaitable[dict[str, Any] | None]]
Describe = Callable[[Principal], dict[str, object]]


def data_block(data: object) -> bytes:
    """``data`` as an HTML data block the console reads at start (``#mg-first``)."""
    text = json.dumps(data, separators=(",", ":")).translate(_ESCAPES)
    return f'<script type="application/json" id="mg-first">{text}</script>'.encode()


def selected_group(me: dict[str, Any], wanted: str | None) -> dict[str, Any] | None:
    """The group the console shows first: ``wanted`` when it is one of the user's, else the
    first of them (None without any)."""
    groups = [group for group in (me.get("effectiveGroups") or []) if isinstance(group, dict)]
    if wanted is not None and _GROUP.fullmatch(wanted):
        for group in groups:
            if group.get("id") == wanted:
                return group
    return groups[0] if groups else None


class FirstPage:
    """Console pages for signed-in browsers, with their first data."""

    def __init__(self, *, console: Console, auth: Authenticator, describe: Describe,
                 run_query: RunQuery) -> None:
        self._console = console
        self._auth = auth
        self._describe = describe
        self._run_query = run_query

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if not self._console.is_page(path):
            return await self._console.handle(request)
        principal = await self._auth.authenticate(request.headers)
        if principal is None:
            return await self._console.handle(request)
        return await self._console.personal_page(
            request, self._data(request, principal, list_page=path == ""))

    async def _data(self, request: web.Request, principal: Principal, *,
                    list_page: bool) -> bytes:
        try:
            queries = await self._queries(request, principal, list_page=list_page)
        except Exception:  # the page is on its way: without its data, it asks for itself
            log.exception("the console's first data could not be made")
            queries = []
        return data_block({"session": self._describe(principal), "queries": queries})

    async def _queries(self, request: web.Request, principal: Principal, *,
                       list_page: bool) -> list[dict[str, Any]]:
        request_id = str(request.get(REQUEST_ID, "-"))
        answers: list[dict[str, Any]] = []

        async def run(name: str, variables: dict[str, Any]) -> dict[str, Any] | None:
            found = await self._run_query(principal=principal, name=name, variables=variables,
                                          request_id=request_id)
            if found is not None:
                answers.append({"name": name, "variables": variables, "data": found})
            return found

        me = await run("Me", {})
        if not list_page or me is None:
            return answers
        group = selected_group(me.get("me") or {}, cookie(request.headers, GROUP_COOKIE))
        if group is not None and group.get("enabledDeployment") is not False:
            await run("Deployments", {"where": {"groupId_in": [group["id"]]}})
        await run("License", {})
        return answers
