"""The API's access line: the proxy's fields, in the product's log format, never a query.

aiohttp's default access line is Apache's, with the whole request line: a query string
(a console sign-in link's one-time code, a token someone put in a URL, a GraphQL GET's
variables) would reach the log, and the line has no structure for the JSON format to keep.
This logger writes one line per request with the fields the proxy's access line has, the
path without its query string, and nothing built when the line is switched off.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from gateway.api.requestids import REQUEST_ID

access_log = logging.getLogger("gateway.api.access")


class AccessLogger(AbstractAccessLogger):
    """``request`` with request_id, address, method, path, status and seconds."""

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("request", extra={"fields": {
            "request_id": request.get(REQUEST_ID, ""), "address": request.remote or "",
            "method": request.method, "path": request.path, "status": response.status,
            "seconds": round(time, 6)}})
