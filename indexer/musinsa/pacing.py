"""Politeness primitives: a global request pace, retry delays, Retry-After, and a circuit breaker.

Kept apart from the HTTP client so that each rule can be read (and tested) on its own.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


class RateLimiter:
    """At most ``rate`` request starts per second across every task that shares it.

    Starts are spaced by ``1/rate`` seconds plus up to ``jitter`` of that again, so the pace
    never exceeds ``rate`` and does not tick like a metronome. Waiters are served in order
    (asyncio.Lock is fair), and a cancelled waiter gives its turn back.
    """

    def __init__(
        self,
        rate: float,
        *,
        jitter: float = 0.2,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.jitter = jitter
        self._rng = rng or random.Random()
        self._clock = clock
        self._lock = asyncio.Lock()
        self._next_start = 0.0

    async def acquire(self) -> None:
        async with self._lock:
            wait = self._next_start - self._clock()
            if wait > 0:
                await asyncio.sleep(wait)
            now = self._clock()
            self._next_start = max(now, self._next_start) + self.interval * (
                1 + self._rng.uniform(0, self.jitter)
            )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date; None if absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """How long to wait before retry number ``attempt`` (0 = the first retry).

    A server's Retry-After wins (plus up to 10 % jitter so that parallel requests do not
    return in lockstep); otherwise exponential backoff ``base * 2**attempt`` with jitter
    between half and the full value. Never more than ``cap``.
    """
    rng = rng or random.Random()
    if retry_after is not None:
        return min(cap, retry_after * (1 + rng.uniform(0, 0.1)))
    ceiling = min(cap, base * 2**attempt)
    return ceiling * rng.uniform(0.5, 1.0)


class CircuitBreaker:
    """Opens after ``threshold`` consecutive block answers (403/429) from one host.

    Any other answer from that host closes the count again. Once open it stays open for the
    life of the client (one crawl run): the polite reaction to a block is to stop and keep
    yesterday's index, not to keep knocking.
    """

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._consecutive: dict[str, int] = {}

    def record(self, host: str, *, blocked: bool) -> None:
        if blocked:
            self._consecutive[host] = self._consecutive.get(host, 0) + 1
        elif self._consecutive.get(host, 0) < self.threshold:
            self._consecutive[host] = 0

    def is_open(self, host: str) -> bool:
        return self._consecutive.get(host, 0) >= self.threshold

    def consecutive(self, host: str) -> int:
        return self._consecutive.get(host, 0)
