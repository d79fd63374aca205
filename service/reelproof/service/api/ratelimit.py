"""Per-key token buckets: ``rate`` requests per minute, bursts up to ``rate``.

``RateLimiter`` keeps them in the server process (the embedded default); ``RedisRateLimiter``
keeps them in Redis, so any number of API processes share one limit per key.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """In-memory token buckets keyed by API key id (one server process holds them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, key: str, rate_per_minute: int) -> tuple[bool, int, int]:
        """Take one token.

        Returns:
            ``(allowed, remaining, retry_after_s)``; ``retry_after_s`` is the whole seconds until
            one token is back (0 when allowed).
        """
        capacity = float(max(1, rate_per_minute))
        per_second = capacity / 60.0
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * per_second)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return True, int(bucket.tokens), 0
            wait = (1.0 - bucket.tokens) / per_second
            return False, 0, max(1, math.ceil(wait))


# Token bucket in one Redis hash per key, updated atomically by a Lua script on Redis's clock
# (the API processes' clocks never meet). KEYS[1]: the bucket; ARGV: capacity, tokens per second.
_BUCKET_SCRIPT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1]) or capacity
local updated = tonumber(state[2]) or t
tokens = math.min(capacity, tokens + math.max(0, t - updated) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(t))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return {allowed, tostring(tokens)}
"""


class RedisRateLimiter:
    """The same token buckets in Redis: one limit per key across every API process.

    Args:
        url: ``redis://host:port/db``.
        prefix: key prefix of the buckets.
    """

    def __init__(self, url: str, prefix: str = "reelproof:ratelimit:") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.prefix = prefix
        self._script = self.client.register_script(_BUCKET_SCRIPT)

    def acquire(self, key: str, rate_per_minute: int) -> tuple[bool, int, int]:
        """Take one token (see :meth:`RateLimiter.acquire`)."""
        capacity = float(max(1, rate_per_minute))
        per_second = capacity / 60.0
        allowed, tokens_text = self._script(keys=[self.prefix + key], args=[capacity, per_second])
        tokens = float(tokens_text)
        if int(allowed):
            return True, int(tokens), 0
        return False, 0, max(1, math.ceil((1.0 - tokens) / per_second))
