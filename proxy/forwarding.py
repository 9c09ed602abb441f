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

Every answer that comes from a predictor, and the proxy's own 502 and 504 when one failed,
carries ``X-Model-Predictor: <name>`` (:data:`~proxy.headers.PREDICTOR_HEADER`); a model's own
header of that name is not passed on.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web
from aiohttp.streams import StreamReader

from proxy.headers import PREDICTOR_HEADER, Forwarding, RawHeaders, request_head, response_headers
from proxy.problems import Problem, problem
from proxy.records import Upstream
from proxy.upstream import (
    UpstreamError,
    UpstreamPool,
    UpstreamResponse,
    UpstreamTimeout,
)

log = logging.getLogger(__name__)

INLINE_BODY: Final = 64 * 1024
REPLAYABLE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


_INCOMPLETE: Final = problem(400, "incomplete_body", "the request body ended early")
_TIMEOUT: Final = problem(504, "upstream_timeout", "the deployment did not answer in time")
_UNREACHABLE: Final = problem(502, "upstream_unavailable", "the deployment could not be reached")


def _from(upstream: Upstream, answer: Problem) -> Problem:
    """``answer`` naming the predictor it came from."""
    return dataclasses.replace(answer, headers=(*answer.headers,
                                                (PREDICTOR_HEADER, upstream.name)))


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
    """One upstream exchange, shared by both front ends; :meth:`forward` is aiohttp's relay."""

    def __init__(self, *, pool: UpstreamPool, body_limit: int) -> None:
        self._pool = pool
        self.body_limit = body_limit

    def too_large(self) -> Problem:
        return problem(413, "body_too_large", f"the request body exceeds {self.body_limit} bytes")

    async def exchange(self, *, method: str, target: str, upstream: Upstream,
                       raw_headers: RawHeaders,
                       client: str | None, forwarding: Forwarding, request_id: str,
                       length: int | None, body: bytes | AsyncIterator[bytes] | None,
                       chunked: bool) -> tuple[UpstreamResponse, float] | Problem:
        """Send the request; the response once its headers are in and the seconds that took.

        The caller must ``release()`` the response. ``body`` is what the caller sent: bytes
        when it is read already, else a stream.
        """
        head = request_head(
            method=method, target=target, upstream=f"{upstream.host}:{upstream.port}",
            raw_headers=raw_headers, client=client, forwarded=forwarding,
            request_id=request_id, content_length=length, chunked=chunked)
        started = time.perf_counter()
        try:
            response = await self._pool.request(
                host=upstream.host, port=upstream.port, head=head, body=body, chunked=chunked,
                replayable=method in REPLAYABLE_METHODS and not chunked
                and (length is None or length <= INLINE_BODY),
                head_only=method == "HEAD")
        except BodyTooLarge:
            return self.too_large()
        except UpstreamTimeout:
            return _from(upstream, _TIMEOUT)
        except UpstreamError:
            return _from(upstream, _UNREACHABLE)
        except IncompleteBody:
            return _INCOMPLETE
        return response, time.perf_counter() - started

    async def forward(self, request: web.Request, *, upstream: Upstream, target: str,
                      client: str | None, forwarding: Forwarding,
                      request_id: str) -> tuple[web.StreamResponse, float | None]:
        """The response to send, and the seconds the upstream took to answer (if it did)."""
        length = request.content_length
        if length is not None and length > self.body_limit:
            return self.too_large().response(), None
        body: bytes | AsyncIterator[bytes] | None = None
        chunked = False
        try:
            if length is not None and length <= INLINE_BODY:
                body = await _read(request.content, length) if length else b""
            elif length is not None or request.body_exists:
                body = _limited(request.content, self.body_limit)
                chunked = length is None
        except IncompleteBody:
            return _INCOMPLETE.response(), None
        outcome = await self.exchange(
            method=request.method, target=target, upstream=upstream,
            raw_headers=request.raw_headers, client=client, forwarding=forwarding,
            request_id=request_id, length=length, body=body, chunked=chunked)
        if isinstance(outcome, Problem):
            return outcome.response(), None
        answer, upstream_seconds = outcome
        try:
            return (await self._relay(request, answer, request_id, upstream.name),
                    upstream_seconds)
        finally:
            answer.release()

    async def _relay(self, request: web.Request, upstream: UpstreamResponse,
                     request_id: str, predictor: str) -> web.StreamResponse:
        headers = response_headers(upstream.headers)
        headers["X-Request-Id"] = request_id
        headers[PREDICTOR_HEADER] = predictor
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
