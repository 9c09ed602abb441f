"""Relaying one HTTP exchange to a deployment's upstream and its answer back, streaming.

Request bodies: a declared ``Content-Length`` over the limit is refused (413) before anything
is sent; a body of at most :data:`INLINE_BODY` bytes is read and sent with the head in one
write (a typical prediction request); anything larger or chunked is streamed, counted on the
way, and cut off with 413 the moment it passes the limit. The declared framing is kept:
a ``Content-Length`` body goes upstream with that length (many WSGI model servers do not
accept chunked requests), a chunked one stays chunked.

Responses that are already complete when their headers arrive go back in one write; others
stream chunk by chunk under flow control. If the upstream fails after the status line has
gone out, the only honest signal left is to cut the client's connection, so the response
is not mistaken for a complete one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web
from aiohttp.streams import StreamReader

from proxy.headers import Forwarding, request_head, response_headers
from proxy.problems import problem
from proxy.records import Route
from proxy.upstream import (
    UpstreamError,
    UpstreamPool,
    UpstreamResponse,
    UpstreamTimeout,
)

log = logging.getLogger(__name__)

INLINE_BODY: Final = 64 * 1024
REPLAYABLE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class BodyTooLarge(Exception):
    """The request body passed the configured limit while streaming."""


class IncompleteBody(Exception):
    """The caller's body could not be read to its end (it went away, or sent too little)."""


async def _read(content: StreamReader, length: int | None = None) -> bytes:
    """One read of the caller's body; whatever fails there means the body is incomplete."""
    try:
        return await (content.readany() if length is None else content.readexactly(length))
    except Exception as error:  # aiohttp raises several kinds for a lost body
        raise IncompleteBody from error


async def _limited(content: StreamReader, limit: int) -> AsyncIterator[bytes]:
    received = 0
    while chunk := await _read(content):
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge
        yield chunk


class Forwarder:
    def __init__(self, *, pool: UpstreamPool, body_limit: int) -> None:
        self._pool = pool
        self._body_limit = body_limit

    async def forward(self, request: web.Request, *, route: Route, target: str,
                      client: str | None, forwarding: Forwarding,
                      request_id: str) -> tuple[web.StreamResponse, float | None]:
        """The response to send, and the seconds the upstream took to answer (if it did)."""
        length = request.content_length
        if length is not None and length > self._body_limit:
            return self._too_large(), None
        body: bytes | AsyncIterator[bytes] | None = None
        chunked = False
        try:
            if length is not None and length <= INLINE_BODY:
                body = await _read(request.content, length) if length else b""
            elif length is not None or request.body_exists:
                body = _limited(request.content, self._body_limit)
                chunked = length is None
        except IncompleteBody:
            return self._incomplete(), None
        head = request_head(
            method=request.method, target=target, upstream=f"{route.host}:{route.port}",
            raw_headers=request.raw_headers, client=client, forwarded=forwarding,
            request_id=request_id, content_length=length, chunked=chunked)
        started = time.perf_counter()
        try:
            upstream = await self._pool.request(
                host=route.host, port=route.port, head=head, body=body, chunked=chunked,
                replayable=request.method in REPLAYABLE_METHODS and not chunked
                and (length is None or length <= INLINE_BODY),
                head_only=request.method == "HEAD")
        except BodyTooLarge:
            return self._too_large(), None
        except UpstreamTimeout:
            return problem(504, "upstream_timeout", "the deployment did not answer in time"), None
        except UpstreamError:
            return problem(502, "upstream_unavailable", "the deployment could not be reached"), None
        except IncompleteBody:
            return self._incomplete(), None
        upstream_seconds = time.perf_counter() - started
        try:
            return await self._relay(request, upstream, request_id), upstream_seconds
        finally:
            upstream.release()

    @staticmethod
    def _incomplete() -> web.Response:
        return problem(400, "incomplete_body", "the request body ended early")

    def _too_large(self) -> web.Response:
        return problem(413, "body_too_large",
                       f"the request body exceeds {self._body_limit} bytes")

    async def _relay(self, request: web.Request, upstream: UpstreamResponse,
                     request_id: str) -> web.StreamResponse:
        headers = response_headers(upstream.headers)
        headers["X-Request-Id"] = request_id
        reason = upstream.reason or None
        body = upstream.body
        if body is not None and not upstream.head_only:
            return web.Response(status=upstream.status, reason=reason, body=body,
                                headers=headers)
        response = web.StreamResponse(status=upstream.status, reason=reason, headers=headers)
        if upstream.content_length is not None:
            response.content_length = upstream.content_length
        await response.prepare(request)
        try:
            while chunk := await upstream.read():
                await response.write(chunk)
        except UpstreamError as error:
            log.warning("upstream failed mid-response: %s", error)
            if request.transport is not None:
                request.transport.abort()  # a truncated body must not look complete
            return response
        await response.write_eof()
        return response
