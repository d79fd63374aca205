"""Per-key token buckets: ``rate`` requests per minute, bursts up to ``rate``."""

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
