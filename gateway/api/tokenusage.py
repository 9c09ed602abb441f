"""API tokens' last use: noted in memory per request, written to Redis every few seconds.

Keeping it in the token's Secret would make every API call a Kubernetes write. Instead the
authenticator notes each use of an API token (a dict update, nothing awaited) in the proxies'
batching recorder (:class:`proxy.usage.UsageRecorder`) under this module's keys, which writes
every ``API_TOKEN_USAGE_INTERVAL`` seconds in one round trip; the last use only moves forward
whatever the order several API replicas write in. So ``apiTokens { lastUsedAt }`` is accurate
to that interval. Redis down: uses are kept and retried, requests never wait, and the listing
shows null. Losing Redis loses only last-use times (design.md: counters are not records).
A console session's requests count as uses of the API token it was exchanged for.
"""

from __future__ import annotations

from typing import Final

from redis.asyncio import Redis

from proxy.records import USAGE_LAST_USED_FIELD

KIND: Final = "api-token"  # the recorder's first key part; only the token id names the key


def usage_key(_kind: str, token_id: str) -> str:
    """Apart from the proxies' ``mg:usage:<deployment>:<client>``: ids hold no ``:``."""
    return f"mg:api-usage:{token_id}"


async def last_used(redis: Redis, token_id: str) -> float | None:
    """When the API last accepted the token (unix s, as of the last write); None: never."""
    raw = await redis.hget(usage_key(KIND, token_id), USAGE_LAST_USED_FIELD)
    return None if raw is None else float(raw)
