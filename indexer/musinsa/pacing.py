"""Politeness primitives: a request pace, retry delays, Retry-After, and a circuit breaker.

Kept apart from the HTTP client so that each rule can be read (and tested) on its own.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum, StrEnum
from typing import Any


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


class BreakerState(StrEnum):
    CLOSED = "closed"  # requests go out
    OPEN = "open"  # refused until the cool-down is over
    HALF_OPEN = "half_open"  # the cool-down is over: the next request is a probe (or one is out)


class Admission(Enum):
    """What the breaker lets a request do."""

    SEND = "send"
    PROBE = "probe"  # the one request that tests whether the host still blocks us
    REFUSE = "refuse"


@dataclass(frozen=True)
class BreakerStatus:
    """A client's breakers at one moment: the worst state over its hosts, for metrics and /healthz."""

    state: BreakerState
    open_hosts: tuple[str, ...] = ()
    next_probe_in_seconds: float | None = None  # when the soonest open host lets a probe through

    @property
    def open(self) -> bool:
        return self.state is not BreakerState.CLOSED

    def to_json(self) -> dict[str, Any]:
        probe = self.next_probe_in_seconds
        return {
            "state": self.state.value,
            "open_hosts": list(self.open_hosts),
            "next_probe_in_seconds": round(probe, 1) if probe is not None else None,
        }


@dataclass
class _HostBreaker:
    consecutive: int = 0
    opened_at: float | None = None  # None: closed
    cooldown: float = 0.0
    probing: bool = False


class CircuitBreaker:
    """Per host: opens after ``threshold`` consecutive block answers (403/429), then half-opens.

    Any other answer resets the count while closed. Once open, requests to that host are refused
    (the polite reaction to a block is to stop knocking) until ``cooldown`` seconds have passed;
    then one probe goes out. A non-block answer to it closes the breaker; a block reopens it with
    the cool-down doubled, up to ``max_cooldown``; a probe without an answer (timeout, reset)
    reopens it with the same cool-down. So a long-lived client recovers from a short burst of 429s.
    """

    def __init__(
        self,
        threshold: int,
        *,
        cooldown: float = 60.0,
        max_cooldown: float = 960.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.max_cooldown = max(cooldown, max_cooldown)
        self._clock = clock
        self._hosts: dict[str, _HostBreaker] = {}

    def _host(self, host: str) -> _HostBreaker:
        return self._hosts.setdefault(host, _HostBreaker())

    def admit(self, host: str) -> Admission:
        """Called just before a request to ``host`` goes out."""
        state = self._host(host)
        if state.opened_at is None:
            return Admission.SEND
        if state.probing or self._clock() < state.opened_at + state.cooldown:
            return Admission.REFUSE
        state.probing = True
        return Admission.PROBE

    def record(self, host: str, *, blocked: bool, probe: bool = False) -> None:
        """An answer from ``host``; ``probe`` when it answers the request ``admit`` made a probe."""
        state = self._host(host)
        if probe:
            state.probing = False
            if blocked:
                state.opened_at = self._clock()
                state.cooldown = min(self.max_cooldown, state.cooldown * 2)
            else:
                state.consecutive, state.opened_at, state.cooldown = 0, None, 0.0
            return
        if blocked:
            state.consecutive += 1
            if state.opened_at is None and state.consecutive >= self.threshold:
                state.opened_at, state.cooldown = self._clock(), self.cooldown
        elif state.opened_at is None:
            state.consecutive = 0

    def probe_unanswered(self, host: str) -> None:
        """The probe got no answer (timeout, reset, cancelled): wait one more cool-down."""
        state = self._host(host)
        if state.probing:
            state.probing = False
            state.opened_at = self._clock()

    def state(self, host: str) -> BreakerState:
        state = self._hosts.get(host)
        if state is None or state.opened_at is None:
            return BreakerState.CLOSED
        if state.probing or self._clock() >= state.opened_at + state.cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def is_open(self, host: str) -> bool:
        """True while requests to ``host`` are held back (open or half-open)."""
        return self.state(host) is not BreakerState.CLOSED

    def consecutive(self, host: str) -> int:
        return self._hosts[host].consecutive if host in self._hosts else 0

    def retry_in(self, host: str) -> float:
        """Seconds until ``host`` lets a probe through (0 when it would now, or is closed)."""
        state = self._hosts.get(host)
        if state is None or state.opened_at is None:
            return 0.0
        return max(0.0, state.opened_at + state.cooldown - self._clock())

    def status(self) -> BreakerStatus:
        held = [host for host in self._hosts if self.is_open(host)]
        if not held:
            return BreakerStatus(BreakerState.CLOSED)
        states = {self.state(host) for host in held}
        worst = BreakerState.OPEN if BreakerState.OPEN in states else BreakerState.HALF_OPEN
        return BreakerStatus(worst, tuple(sorted(held)), min(self.retry_in(host) for host in held))
