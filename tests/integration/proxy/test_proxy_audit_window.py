"""The audit trail's writer against a real Redis: the window is best effort, bounded, and
never writes a record twice."""

from __future__ import annotations

from redis.asyncio import Redis
from redis_server import RedisServer

from proxy.audit import AuditSettings, AuditTrail, decode
from proxy.records import AUDIT_STREAM_KEY


async def test_records_wait_for_redis_in_a_bounded_buffer(redis_server: RedisServer) -> None:
    """While Redis is down records stay pending (the oldest dropped past the buffer), and
    the next flush writes every pending one exactly once."""
    redis_server.stop()
    client = Redis.from_url(redis_server.url, decode_responses=True)
    trail = AuditTrail(client, component="proxy", settings=AuditSettings(), buffer=3)
    made = [trail.record(actor="a", token_id=None, action="x", target=f"t/{number}",
                         outcome="success", request_id="r", address="a")
            for number in range(5)]
    assert await trail.flush() is False
    assert trail.dropped == 2
    redis_server.start()
    assert await trail.flush() is True
    assert await trail.flush() is True
    written = [decode(fields["r"]) for _, fields in await client.xrange(AUDIT_STREAM_KEY)]
    assert written == made[2:]
    await client.aclose()
