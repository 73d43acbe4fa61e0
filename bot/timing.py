"""Stage timing of one search, kept in one place so metrics and benchmarks can build on it.

A search passes through up to seven stages: ``download`` (the user's photo from Telegram, or a
product page and its image from Musinsa), ``parse`` (finding the garments in the photo),
``analyse`` (a text search's words into terms), ``decode``, ``embed``, ``search`` (the index) and
``reply`` (album and buttons sent).
Each stage's wall time is added to a ``StageTimings`` that travels with the request;
``TimingsLog.record`` logs one line per search and hands it to its observers (metrics, benchmarks).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

log = logging.getLogger(__name__)

Stage = Literal["download", "parse", "analyse", "decode", "embed", "search", "reply"]
STAGES: tuple[Stage, ...] = ("download", "parse", "analyse", "decode", "embed", "search", "reply")
SearchKind = Literal["photo", "similar", "more", "garment", "text"]
# "ok", "no_results", "asked" (garments offered, waiting for the user's choice), or an error code
Outcome = str


@dataclass
class StageTimings:
    """Seconds spent per stage (a stage entered twice adds up); stages never entered are absent."""

    seconds: dict[Stage, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: Stage) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def as_milliseconds(self) -> dict[str, float]:
        return {name: round(self.seconds[name] * 1000, 1) for name in STAGES if name in self.seconds}

    def describe(self) -> str:
        parts = [f"{name}={ms:.0f}ms" for name, ms in self.as_milliseconds().items()]
        return " ".join(parts) or "no stages"


Observer = Callable[[SearchKind, Outcome, StageTimings], None]


class TimingsLog:
    """Where finished searches report their timings: one log line each, then every observer."""

    def __init__(self) -> None:
        self.observers: list[Observer] = []

    def record(self, kind: SearchKind, outcome: Outcome, timings: StageTimings) -> None:
        log.info(
            "%s search %s in %.0f ms (%s)",
            kind,
            outcome,
            timings.total * 1000,
            timings.describe(),
            # Fields of their own in JSON logs ([logging] json_format).
            extra={"search": kind, "outcome": outcome, "stages_ms": timings.as_milliseconds()},
        )
        for observer in self.observers:
            try:
                observer(kind, outcome, timings)
            except Exception:
                log.exception("timings observer %r failed", observer)
