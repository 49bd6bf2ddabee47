"""Sliding-window counters for password attempts and public pages: Redis when configured
(shared by every worker), otherwise in the process. `accounts.throttle` decides what the
password counts mean; `limit_public` caps what one client address asks of a public page."""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from core.errors import DomainError
from core.i18n import N_

PUBLIC_WINDOW_S = 60


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


class TooManyRequests(DomainError):
    """One client address asked a public page or endpoint too often within a minute."""

    status = 429
    code = "rate_limited"
    headers = {"Retry-After": str(PUBLIC_WINDOW_S)}


def limit_public(name: str) -> None:
    """Count this request from the client's address against the public page or endpoint
    `name`; past YIYANG_PUBLIC_REQUESTS_PER_MINUTE within a minute, refuse it (429 with
    Retry-After). 0 turns the limit off."""
    from flask import current_app, request

    limit = int(current_app.config.get("PUBLIC_REQUESTS_PER_MINUTE", 120))
    if limit <= 0:
        return
    counter: Counter = current_app.extensions["yiyang.login_counter"]
    if counter.hit(f"public:{name}:{request.remote_addr or '-'}", PUBLIC_WINDOW_S) > limit:
        raise TooManyRequests(N_("请求过于频繁，请稍等一分钟后再试。"))
