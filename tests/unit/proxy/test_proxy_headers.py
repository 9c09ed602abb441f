"""Header filtering: what goes upstream and what comes back."""

from __future__ import annotations

from proxy.headers import (
    Forwarding,
    forwarding,
    request_head,
    request_id,
    response_headers,
    websocket_headers,
)

FORWARDED = Forwarding(address="10.0.0.9", for_chain="10.0.0.9", proto="http", host="models")


def head_lines(raw_headers: list[tuple[bytes, bytes]], **overrides: object) -> list[bytes]:
    arguments: dict[str, object] = {
        "method": "POST", "target": "/api/v1.0/predictions?x=1", "upstream": "127.1.0.5:80",
        "raw_headers": raw_headers, "client": "app", "forwarded": FORWARDED,
        "request_id": "req-12345678", "content_length": 2, "chunked": False,
    } | overrides
    head = request_head(**arguments)  # type: ignore[arg-type]
    assert head.endswith(b"\r\n\r\n")
    return head[:-4].split(b"\r\n")


def test_request_line_host_and_own_headers() -> None:
    """The head names the target, the upstream host, and the proxy's own headers."""
    lines = head_lines([(b"Accept", b"*/*")])
    assert lines[0] == b"POST /api/v1.0/predictions?x=1 HTTP/1.1"
    assert lines[1] == b"Host: 127.1.0.5:80"
    assert b"Accept: */*" in lines
    for expected in (b"X-Forwarded-User: app", b"X-Forwarded-For: 10.0.0.9",
                     b"X-Forwarded-Proto: http", b"X-Forwarded-Host: models",
                     b"X-Request-Id: req-12345678", b"Content-Length: 2"):
        assert expected in lines


def test_spoofed_and_secret_headers_are_removed_in_every_spelling() -> None:
    """Authorization and caller-sent X-Forwarded-* never pass, whatever case or underscores."""
    spoofed = [(name, b"admin") for name in (
        b"X-Forwarded-User", b"x-forwarded-user", b"X_Forwarded_User", b"x_forwarded-USER",
        b"X-FORWARDED_user", b"X-Forwarded-For", b"x_forwarded_for", b"X-Forwarded-Host",
        b"X-Forwarded-Proto", b"Forwarded", b"X-Request-Id")]
    lines = head_lines([(b"Authorization", b"Basic c2VjcmV0OnRva2Vu"), *spoofed])
    assert not any(b"admin" in line for line in lines)
    assert not any(line.lower().startswith(b"authorization") for line in lines)
    assert [line for line in lines if line.lower().startswith(b"x-forwarded-user")] == [
        b"X-Forwarded-User: app"]


def test_caller_address_claims_are_removed_in_every_spelling() -> None:
    """X-Real-IP, True-Client-IP and their kin from the caller never reach the model, over
    HTTP or WebSocket; only the proxy's X-Forwarded-For names the caller."""
    claims = [(name, b"10.6.6.6") for name in (
        b"X-Real-IP", b"x_real_ip", b"True-Client-IP", b"TRUE_CLIENT-ip", b"X-Client-IP",
        b"X-Cluster-Client-IP")]
    lines = head_lines(claims)
    assert not any(b"10.6.6.6" in line for line in lines)
    assert b"X-Forwarded-For: 10.0.0.9" in lines
    ws = websocket_headers(raw_headers=claims, client=None, forwarded=FORWARDED,
                           request_id="req-12345678")
    assert "10.6.6.6" not in ws.values()


def test_hop_by_hop_and_connection_named_headers_are_removed() -> None:
    """Hop-by-hop headers and any header the caller named in Connection are dropped."""
    lines = head_lines([
        (b"Connection", b"keep-alive, X-Secret-Hop"), (b"Keep-Alive", b"timeout=5"),
        (b"X-Secret-Hop", b"1"), (b"TE", b"trailers"), (b"Upgrade", b"h2c"),
        (b"Proxy-Authorization", b"Basic x"), (b"Transfer-Encoding", b"chunked"),
        (b"Content-Length", b"999"), (b"Expect", b"100-continue"), (b"X-Kept", b"yes"),
    ])
    names = {line.split(b":")[0].lower() for line in lines[1:]}
    assert names.isdisjoint({b"connection", b"keep-alive", b"x-secret-hop", b"te", b"upgrade",
                             b"proxy-authorization", b"transfer-encoding", b"expect"})
    assert b"X-Kept: yes" in lines
    assert [line for line in lines if line.startswith(b"Content-Length")] == [
        b"Content-Length: 2"]


def test_public_requests_get_no_forwarded_user_and_chunked_bodies_stay_chunked() -> None:
    """No client means no X-Forwarded-User; a chunked body is declared chunked."""
    lines = head_lines([], client=None, content_length=None, chunked=True)
    assert not any(line.startswith(b"X-Forwarded-User") for line in lines)
    assert b"Transfer-Encoding: chunked" in lines


def test_forwarding_ignores_caller_claims_without_trusted_hops() -> None:
    """With no trusted proxy in front, the TCP peer is the caller and claims are replaced."""
    seen = forwarding(peer="203.0.113.7", scheme="http", host="models.example",
                      incoming_for="1.2.3.4", incoming_proto="https", incoming_host="evil",
                      trusted_hops=0)
    assert seen == Forwarding("203.0.113.7", "203.0.113.7", "http", "models.example")


def test_forwarding_believes_trusted_hops() -> None:
    """Behind one trusted proxy, the caller is the last address it appended."""
    seen = forwarding(peer="10.0.0.2", scheme="http", host="internal",
                      incoming_for="6.6.6.6, 198.51.100.4", incoming_proto="https",
                      incoming_host="models.example", trusted_hops=1)
    assert seen.address == "198.51.100.4"
    assert seen.for_chain == "6.6.6.6, 198.51.100.4, 10.0.0.2"
    assert (seen.proto, seen.host) == ("https", "models.example")


def test_request_ids_are_kept_only_when_sane() -> None:
    """A well-formed caller id is kept; a missing or odd one is replaced by a random one."""
    assert request_id("trace-1234_abcd:9") == "trace-1234_abcd:9"
    for odd in (None, "short", "has space in it", "x" * 200, "new\nline-injection"):
        generated = request_id(odd)
        assert generated != odd
        assert len(generated) == 32


def test_response_headers_drop_framing_and_hop_by_hop_but_keep_repeats() -> None:
    """Framing and hop-by-hop headers go; repeated headers such as Set-Cookie stay."""
    headers = response_headers([
        (b"Content-Type", b"application/json"), (b"Content-Length", b"10"),
        (b"Transfer-Encoding", b"chunked"), (b"Connection", b"close, X-Hop"),
        (b"X-Hop", b"1"), (b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"),
    ])
    assert headers.getall("Set-Cookie") == ["a=1", "b=2"]
    assert headers["Content-Type"] == "application/json"
    for gone in ("Content-Length", "Transfer-Encoding", "Connection", "X-Hop"):
        assert gone not in headers


def test_websocket_headers_leave_the_handshake_to_the_client_library() -> None:
    """Sec-WebSocket-* and spoofed identity headers are dropped, own headers added."""
    headers = websocket_headers(raw_headers=[
        (b"Sec-WebSocket-Key", b"abc"), (b"Sec-WebSocket-Version", b"13"),
        (b"X_Forwarded_User", b"admin"), (b"Authorization", b"Basic x"), (b"Origin", b"o"),
    ], client="app", forwarded=FORWARDED, request_id="req-12345678")
    assert "Sec-WebSocket-Key" not in headers
    assert "Authorization" not in headers
    assert headers.getall("X-Forwarded-User") == ["app"]
    assert headers["Origin"] == "o"
