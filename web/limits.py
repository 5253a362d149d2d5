"""Bounded memory: a per-address token bucket and an LRU cache with a time to live."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
Clock = Callable[[], float]


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets per address: `burst` at once, refilled at `per_minute`; at most `tracked` addresses.

    The oldest address is forgotten first; a forgotten address starts again with a full bucket, so a
    crawl from many addresses cannot grow memory, and the worst it gains is one burst per address.
    """

    def __init__(self, per_minute: float, burst: int, tracked: int, clock: Clock = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._tracked = tracked
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def allow(self, address: str) -> float:
        """0.0 if `address` may make a request now (and count it), else the seconds until it may."""
        now = self._clock()
        bucket = self._buckets.pop(address, None) or _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        self._buckets[address] = bucket
        while len(self._buckets) > self._tracked:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate


class LruCache(Generic[K, V]):
    """At most `size` entries, each trusted for less than `ttl_s` (0: never); least recently used leave first."""

    def __init__(self, size: int, ttl_s: float, clock: Clock = time.monotonic) -> None:
        self._size = size
        self._ttl = ttl_s
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        """The value if present and fresh (and mark it recently used), else None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() - entry[0] >= self._ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: K, value: V) -> None:
        """Remember a value, dropping the least recently used entries beyond the size."""
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        """Forget a key (no error if absent)."""
        self._entries.pop(key, None)
