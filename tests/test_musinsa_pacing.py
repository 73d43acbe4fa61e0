"""Retry-After parsing, backoff delays, the circuit breaker and the rate limiter's spacing."""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from indexer.musinsa.pacing import (
    Admission,
    BreakerState,
    CircuitBreaker,
    RateLimiter,
    parse_retry_after,
    retry_delay,
)


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=42), usegmt=True), now=now) == 42.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=42), usegmt=True), now=now) == 0.0
    for bad in (None, "", "soon", "nan"):
        assert parse_retry_after(bad) is None


def test_retry_delay_honours_retry_after_within_the_cap() -> None:
    rng = random.Random(1)
    for _ in range(50):
        assert 7.0 <= retry_delay(0, base=1.0, cap=60.0, retry_after=7.0, rng=rng) <= 7.7
    assert retry_delay(3, base=1.0, cap=60.0, retry_after=999.0, rng=rng) == 60.0
    assert retry_delay(0, base=1.0, cap=60.0, retry_after=0.0, rng=rng) == 0.0


def test_retry_delay_is_exponential_with_jitter_and_capped() -> None:
    rng = random.Random(2)
    for attempt in range(6):
        delays = [retry_delay(attempt, base=0.5, cap=10.0, rng=rng) for _ in range(30)]
        ceiling = min(10.0, 0.5 * 2**attempt)
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_circuit_breaker_opens_after_consecutive_blocks_only() -> None:
    breaker = CircuitBreaker(3)
    host = "https://api.musinsa.com"
    breaker.record(host, blocked=True)
    breaker.record(host, blocked=True)
    breaker.record(host, blocked=False)  # a success in between resets the count
    breaker.record(host, blocked=True)
    breaker.record(host, blocked=True)
    assert not breaker.is_open(host)
    breaker.record(host, blocked=True)
    assert breaker.is_open(host)
    assert not breaker.is_open("https://image.msscdn.net")  # per host
    breaker.record(host, blocked=False)
    assert breaker.is_open(host)  # a late answer to an earlier request does not close it; a probe does


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def open_breaker(clock: Clock, **options: float) -> tuple[CircuitBreaker, str]:
    breaker = CircuitBreaker(2, clock=clock, **options)
    host = "https://image.msscdn.net"
    breaker.record(host, blocked=True)
    breaker.record(host, blocked=True)
    return breaker, host


def test_the_breaker_half_opens_after_its_cool_down_and_a_good_probe_closes_it() -> None:
    clock = Clock()
    breaker, host = open_breaker(clock, cooldown=60.0)
    assert breaker.state(host) is BreakerState.OPEN
    assert breaker.admit(host) is Admission.REFUSE
    assert breaker.retry_in(host) == 60.0
    clock.now += 59.9
    assert breaker.admit(host) is Admission.REFUSE
    clock.now += 0.1
    assert breaker.state(host) is BreakerState.HALF_OPEN
    assert breaker.admit(host) is Admission.PROBE
    assert breaker.admit(host) is Admission.REFUSE  # one probe at a time
    breaker.record(host, blocked=False, probe=True)
    assert breaker.state(host) is BreakerState.CLOSED
    assert breaker.admit(host) is Admission.SEND
    assert breaker.consecutive(host) == 0
    breaker.record(host, blocked=True)  # closed again: counts from zero
    assert not breaker.is_open(host)


def test_a_blocked_probe_doubles_the_cool_down_up_to_the_cap() -> None:
    clock = Clock()
    breaker, host = open_breaker(clock, cooldown=10.0, max_cooldown=35.0)
    waits = []
    for _ in range(4):
        waits.append(breaker.retry_in(host))
        clock.now += breaker.retry_in(host)
        assert breaker.admit(host) is Admission.PROBE
        breaker.record(host, blocked=True, probe=True)
        assert breaker.state(host) is BreakerState.OPEN
    assert waits == [10.0, 20.0, 35.0, 35.0]
    clock.now += 35.0
    assert breaker.admit(host) is Admission.PROBE
    breaker.record(host, blocked=False, probe=True)
    breaker.record(host, blocked=True)
    breaker.record(host, blocked=True)
    assert breaker.retry_in(host) == 10.0  # a closed breaker starts again from the first cool-down


def test_a_probe_without_an_answer_waits_one_more_cool_down() -> None:
    clock = Clock()
    breaker, host = open_breaker(clock, cooldown=10.0)
    clock.now += 10.0
    assert breaker.admit(host) is Admission.PROBE
    clock.now += 3.0
    breaker.probe_unanswered(host)
    assert breaker.state(host) is BreakerState.OPEN
    assert breaker.retry_in(host) == 10.0
    assert breaker.admit(host) is Admission.REFUSE


def test_breaker_status_is_the_worst_host() -> None:
    clock = Clock()
    breaker, host = open_breaker(clock, cooldown=10.0)
    breaker.record("https://api.musinsa.com", blocked=False)
    status = breaker.status()
    assert status.open and status.state is BreakerState.OPEN
    assert status.to_json() == {"state": "open", "open_hosts": [host], "next_probe_in_seconds": 10.0}
    clock.now += 10.0
    assert breaker.status().state is BreakerState.HALF_OPEN
    breaker.admit(host)
    breaker.record(host, blocked=False, probe=True)
    assert breaker.status().to_json() == {"state": "closed", "open_hosts": [], "next_probe_in_seconds": None}


async def test_rate_limiter_spaces_concurrent_starts() -> None:
    clock = asyncio.get_running_loop().time
    limiter = RateLimiter(50.0, jitter=0.2, rng=random.Random(3), clock=clock)
    starts: list[float] = []

    async def worker() -> None:
        await limiter.acquire()
        starts.append(clock())

    await asyncio.gather(*(worker() for _ in range(8)))
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # asyncio's clock may round a sleep down by its resolution; allow 1 ms.
    assert all(gap >= 1 / 50 - 0.001 for gap in gaps), gaps


def test_rate_limiter_rejects_a_zero_rate() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
