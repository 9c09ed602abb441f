"""Tests import the real-Redis helper by this short name; it lives in the dev-mode package."""

from gateway.dev.redisserver import READY_LINE, RedisServer, free_port, redis_server_binary

__all__ = ["READY_LINE", "RedisServer", "free_port", "redis_server_binary"]
