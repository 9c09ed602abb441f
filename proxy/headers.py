"""What the proxy sends upstream and back: header filtering as pure functions over raw bytes.

Towards the model the proxy removes ``Authorization`` (the token never leaves the proxy), every
spelling of the headers it sets itself and of the caller-address headers other proxies set
(``X-Real-IP``, ``True-Client-IP``, ``X-Client-IP``, ``X-Cluster-Client-IP``), hop-by-hop
headers and those the caller named in ``Connection``, then adds ``X-Forwarded-User`` (private
deployments only), ``X-Forwarded-For``, ``-Proto``, ``-Host`` and ``X-Request-Id``. Names are
compared after lower-casing and mapping ``_`` to ``-``, because WSGI and CGI servers fold both
``X-Forwarded-User`` and ``X_Forwarded_User`` into the same ``HTTP_X_FORWARDED_USER`` variable.

Back towards the caller it removes hop-by-hop headers, the framing (rewritten by the proxy)
and the model's own ``X-Model-Predictor``: the proxy's says which predictor answered.

``X-Forwarded-*`` sent by the caller are believed only when ``trusted_hops`` says that many
proxies of ours stand in front; otherwise they are replaced, and the caller's address is the
TCP peer. The head is built as bytes from aiohttp's raw header pairs, skipping decoding.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from multidict import CIMultiDict

RawHeaders = Sequence[tuple[bytes, bytes]]

HOP_BY_HOP: Final = frozenset({
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization",
    b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade",
})
# Replaced by the proxy's own values, or meaningless past the proxy. The other spellings of
# "the caller's address" (X-Real-IP, True-Client-IP...) go too: a model or its framework may
# believe them, and only the proxy knows who called (X-Forwarded-For).
_REPLACED: Final = frozenset({
    b"authorization", b"host", b"content-length", b"expect", b"forwarded",
    b"x-forwarded-user", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host",
    b"x-request-id", b"x-real-ip", b"true-client-ip", b"x-client-ip", b"x-cluster-client-ip",
})
_NOT_FORWARDED: Final = HOP_BY_HOP | _REPLACED
PREDICTOR_HEADER: Final = "X-Model-Predictor"  # set by the proxy on answers from a predictor
_NOT_RETURNED: Final = HOP_BY_HOP | {b"content-length", PREDICTOR_HEADER.lower().encode()}
# The WebSocket client library writes its own handshake.
_NOT_FORWARDED_WS: Final = _NOT_FORWARDED | {
    b"sec-websocket-key", b"sec-websocket-version", b"sec-websocket-extensions",
    b"sec-websocket-protocol", b"sec-websocket-accept",
}
_ID_PREFIX: Final = os.urandom(8).hex()
_ID_COUNTER: Final = itertools.count(int.from_bytes(os.urandom(8)))
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:\-]{8,128}")


@dataclass(slots=True)  # not frozen: a frozen dataclass costs several times more to create
class Forwarding:
    """Who called, as the upstream should be told and as rate limits should count."""

    address: str
    for_chain: str
    proto: str
    host: str


def normal_name(name: bytes) -> bytes:
    return name.lower().replace(b"_", b"-")


def _dropped(raw_headers: RawHeaders, always: frozenset[bytes]) -> frozenset[bytes]:
    """``always`` and the names the caller listed in ``Connection`` (usually none: no copy)."""
    named: set[bytes] = set()
    for name, value in raw_headers:
        if len(name) == 10 and name.lower() == b"connection":
            named.update(normal_name(token.strip()) for token in value.split(b","))
    return always | named if named else always


def forwarding(*, peer: str, scheme: str, host: str, incoming_for: str | None,
               incoming_proto: str | None, incoming_host: str | None,
               trusted_hops: int) -> Forwarding:
    """The caller's address and the ``X-Forwarded-*`` values to send upstream."""
    if trusted_hops == 0:
        return Forwarding(address=peer, for_chain=peer, proto=scheme, host=host)
    chain = [part.strip() for part in (incoming_for or "").split(",") if part.strip()]
    chain.append(peer)
    address = chain[-(trusted_hops + 1)] if len(chain) > trusted_hops else chain[0]
    return Forwarding(address=address, for_chain=", ".join(chain),
                      proto=incoming_proto or scheme, host=incoming_host or host)


def request_id(incoming: str | None) -> str:
    """The caller's ``X-Request-Id`` if it is a sane token, else a fresh unique one.

    Fresh ids are 32 hex digits: a random prefix per process and a counter (an id names a
    request in logs, it guards nothing; a random read per request showed in the profile).
    """
    if incoming is not None and _REQUEST_ID.fullmatch(incoming):
        return incoming
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def request_head(*, method: str, target: str, upstream: str, raw_headers: RawHeaders,
                 client: str | None, forwarded: Forwarding, request_id: str,
                 content_length: int | None, chunked: bool) -> bytes:
    """The complete HTTP/1.1 request head (through the blank line) to send upstream."""
    drop = _dropped(raw_headers, _NOT_FORWARDED)
    start = f"{method} {target} HTTP/1.1\r\nHost: {upstream}\r\n"
    lines = [start.encode("utf-8", "surrogateescape")]  # undoes aiohttp's decoding of the path
    for name, value in raw_headers:
        if normal_name(name) not in drop:
            lines.append(name + b": " + value + b"\r\n")
    own = (f"X-Forwarded-For: {forwarded.for_chain}\r\nX-Forwarded-Proto: {forwarded.proto}\r\n"
           f"X-Forwarded-Host: {forwarded.host}\r\nX-Request-Id: {request_id}\r\n")
    if client is not None:
        own += f"X-Forwarded-User: {client}\r\n"
    if chunked:
        own += "Transfer-Encoding: chunked\r\n"
    elif content_length is not None:
        own += f"Content-Length: {content_length}\r\n"
    lines.append(own.encode("utf-8", "replace") + b"\r\n")
    return b"".join(lines)


def websocket_headers(*, raw_headers: RawHeaders, client: str | None, forwarded: Forwarding,
                      request_id: str) -> CIMultiDict[str]:
    """Headers for the upstream WebSocket handshake, filtered like :func:`request_head`."""
    drop = _dropped(raw_headers, _NOT_FORWARDED_WS)
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in raw_headers:
        if normal_name(name) not in drop:
            headers.add(name.decode("latin-1"), value.decode("utf-8", "replace"))
    headers["X-Forwarded-For"] = forwarded.for_chain
    headers["X-Forwarded-Proto"] = forwarded.proto
    headers["X-Forwarded-Host"] = forwarded.host
    headers["X-Request-Id"] = request_id
    if client is not None:
        headers["X-Forwarded-User"] = client
    return headers


def returned_headers(raw_headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Upstream response headers to return, without hop-by-hop ones or framing, as raw pairs."""
    raw = list(raw_headers)
    drop = _dropped(raw, _NOT_RETURNED)
    return [(name, value) for name, value in raw if name.lower() not in drop]


def response_headers(raw_headers: Iterable[tuple[bytes, bytes]]) -> CIMultiDict[str]:
    """:func:`returned_headers` decoded for aiohttp."""
    return CIMultiDict((name.decode("latin-1"), value.decode("utf-8", "replace"))
                       for name, value in returned_headers(raw_headers))
