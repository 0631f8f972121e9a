"""The per-key rate limit, counted without the database: in this process, or in Redis.

Fixed one-minute windows. :class:`MemoryRateLimiter` counts in this process only, so each replica
(and each worker process) grants a key the whole budget: N replicas admit up to N times the limit.
:class:`RedisRateLimiter` counts in one Redis shared by every replica (``INCR`` and ``EXPIRE`` in
one round trip), so the budget is per key across all of them. See specs/api-v1.md §Rate limits.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from verifier_api.service_errors import ServiceError
from verifier_api.settings import HTTP_LIMITS

RATE_WINDOW_SECONDS = 60
REDIS_TIMEOUT_SECONDS = 2.0
REDIS_KEY_PREFIX = "provenance:rate:"


class RateLimiterUnavailableError(ServiceError):
    """The shared counter (Redis) does not answer."""


class RateLimiter(Protocol):
    """Counts requests of a key in its current window."""

    def hit(self, key_id: str, window_start: int) -> int:
        """Count one request of ``key_id`` in the window; return the window's count so far.

        Raises:
            RateLimiterUnavailableError: The shared counter does not answer.
        """
        ...  # pragma: no cover


class MemoryRateLimiter:
    """Windows counted in this process (per replica and per worker process).

    Args:
        max_keys: The most keys tracked at once; past it, windows of earlier windows are dropped.
    """

    def __init__(self, max_keys: int = HTTP_LIMITS.max_tracked_keys) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}
        self._max_keys = max_keys

    def hit(self, key_id: str, window_start: int) -> int:
        """Count one request (see :meth:`RateLimiter.hit`)."""
        with self._lock:
            window, count = self._counts.get(key_id, (window_start, 0))
            count = count + 1 if window == window_start else 1
            if key_id not in self._counts and len(self._counts) >= self._max_keys:
                self._forget_old(window_start)
            self._counts[key_id] = (window_start, count)
            return count

    def _forget_old(self, window_start: int) -> None:
        stale = [key for key, (window, _) in self._counts.items() if window != window_start]
        for key in stale or list(self._counts)[: len(self._counts) // 2]:
            del self._counts[key]


class RedisRateLimiter:
    """Windows counted in Redis, shared by every replica and worker that uses the same Redis.

    Args:
        url: A Redis URL, e.g. ``redis://127.0.0.1:6379/0``.
    """

    def __init__(self, url: str) -> None:
        import redis  # noqa: PLC0415 (only a deployment with Redis needs the client)

        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._client: Any = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )

    def hit(self, key_id: str, window_start: int) -> int:
        """Count one request (see :meth:`RateLimiter.hit`)."""
        name = f"{REDIS_KEY_PREFIX}{key_id}:{window_start}"
        try:
            pipeline = self._client.pipeline(transaction=True)
            pipeline.incr(name)
            pipeline.expire(name, 2 * RATE_WINDOW_SECONDS)
            count, _ = pipeline.execute()
        except self._errors as exc:
            raise RateLimiterUnavailableError(
                f"the rate-limit store does not answer: {exc}"
            ) from exc
        return int(count)

    def close(self) -> None:
        """Release the connections."""
        self._client.close()


def open_rate_limiter(redis_url: str | None) -> MemoryRateLimiter | RedisRateLimiter:
    """Redis when a URL is configured, else this process's memory."""
    return MemoryRateLimiter() if redis_url is None else RedisRateLimiter(redis_url)
