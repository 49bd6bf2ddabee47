"""Sliding-window counters for password attempts: Redis when configured (shared by every
worker), otherwise in the process. `accounts.throttle` decides what the counts mean."""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol


class Counter(Protocol):
    def hit(self, key: str, window_s: int) -> int: ...
    def count(self, key: str, window_s: int) -> int: ...
    def reset(self, key: str) -> None: ...
    def age(self, key: str, window_s: int) -> float | None: ...


class MemoryCounter:
    """Counts hits per key within the current window, in this process only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, list[float]] = {}

    def _recent(self, key: str, window_s: int) -> list[float]:
        cutoff = time.monotonic() - window_s
        kept = [t for t in self._hits.get(key, []) if t > cutoff]
        self._hits[key] = kept
        return kept

    def hit(self, key: str, window_s: int) -> int:
        with self._lock:
            kept = self._recent(key, window_s)
            kept.append(time.monotonic())
            return len(kept)

    def count(self, key: str, window_s: int) -> int:
        with self._lock:
            return len(self._recent(key, window_s))

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)

    def age(self, key: str, window_s: int) -> float | None:
        """Seconds since the newest hit within the window, or None when there is none."""
        with self._lock:
            kept = self._recent(key, window_s)
            return time.monotonic() - kept[-1] if kept else None


class RedisCounter:
    """Sliding-window counter in a Redis sorted set, shared by every app server."""

    def __init__(self, client: Any, prefix: str = "yiyang:rl:") -> None:
        self._redis = client
        self._prefix = prefix

    def hit(self, key: str, window_s: int) -> int:
        now = time.time()
        name = self._prefix + key
        pipe = self._redis.pipeline()
        pipe.zremrangebyscore(name, 0, now - window_s)
        pipe.zadd(name, {f"{now:.6f}:{id(pipe)}": now})
        pipe.zcard(name)
        pipe.expire(name, window_s)
        return int(pipe.execute()[2])

    def count(self, key: str, window_s: int) -> int:
        name = self._prefix + key
        self._redis.zremrangebyscore(name, 0, time.time() - window_s)
        return int(self._redis.zcard(name))

    def reset(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def age(self, key: str, window_s: int) -> float | None:
        name = self._prefix + key
        newest = self._redis.zrevrangebyscore(name, "+inf", time.time() - window_s, start=0, num=1,
                                              withscores=True)
        return time.time() - float(newest[0][1]) if newest else None


def make_counter(redis_url: str | None) -> Counter:
    if redis_url:
        import redis

        return RedisCounter(redis.Redis.from_url(redis_url))
    return MemoryCounter()
