"""A forward-pass lock where waiting interactive work (a bot user's photo) goes before bulk work.

Bulk callers (``Encoder.embed_images``) take the lock once per small chunk; when a chunk ends,
a waiting interactive caller goes first, so a bot query waits for at most one bulk chunk.
Interactive work may starve bulk work, by design: the bot's queue is bounded.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Priority(enum.IntEnum):
    INTERACTIVE = 0
    BULK = 1


class PriorityLock:
    """A non-reentrant lock; ``hold(priority)`` waits while it is held or interactive work waits."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._held = False
        self._waiting = {Priority.INTERACTIVE: 0, Priority.BULK: 0}

    def waiting(self, priority: Priority) -> int:
        """How many callers of this priority wait for the lock now (for tests and metrics)."""
        with self._condition:
            return self._waiting[priority]

    @contextmanager
    def hold(self, priority: Priority) -> Iterator[None]:
        with self._condition:
            self._waiting[priority] += 1
            try:
                while self._held or (priority is Priority.BULK and self._waiting[Priority.INTERACTIVE] > 0):
                    self._condition.wait()
            finally:
                self._waiting[priority] -= 1
            self._held = True
        try:
            yield
        finally:
            with self._condition:
                self._held = False
                self._condition.notify_all()
