"""A forward-pass lock where waiting interactive work (a bot user's photo) goes before bulk work.

In ``snapfit run`` the bot's micro-batches and the nightly sync share one encoder on two
cores; a forward pass already uses every core, so passes run one at a time. Bulk callers
(``Encoder.embed_images``) split their work into small chunks and take this lock once per
chunk; when a chunk ends, an interactive caller that is waiting gets the lock before the
next bulk chunk does. A bot query therefore waits for at most the one bulk chunk that is
running when it arrives. Interactive work can starve bulk work, by design: the bot's queue
is bounded (``MicroBatcher(max_queue=…)``), the nightly job is not in a hurry.
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
