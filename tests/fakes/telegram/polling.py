"""getUpdates: the pending-update queue and long polling.

Update ids start at 1 and never decrease, even after ``reset()``. An update stays pending until a later
call's ``offset`` confirms it (or, in webhook mode, the bot's webhook answers 2xx to it). A waiting poll
sleeps on an asyncio event that every pushed update sets.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from . import errors

MAX_LIMIT = 100


@dataclass(eq=False)
class _Poll:
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    conflicted: bool = False


def update_kind(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


class UpdateQueue:
    def __init__(self, *, long_poll_limit: float, conflict_on_overlap: bool) -> None:
        self.pending: list[dict[str, Any]] = []
        self.allowed_updates: list[str] = []  # [] means every kind
        self._ids = itertools.count(1)
        self._polls: set[_Poll] = set()
        self._closing = False
        self._arrived = asyncio.Event()  # set by every push (and close); replaced once it has fired
        self.long_poll_limit = long_poll_limit
        self.conflict_on_overlap = conflict_on_overlap

    def push(self, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._ids), **payload}
        self.pending.append(update)
        self._wake_all()
        return update

    def clear(self) -> None:
        self.pending.clear()

    def open(self) -> None:
        self._closing = False

    def close(self) -> None:
        """Answer every waiting poll now (server shutdown)."""
        self._closing = True
        self._wake_all()

    def _wake_all(self) -> None:
        for poll in self._polls:
            poll.wake.set()
        self._arrived.set()
        self._arrived = asyncio.Event()

    async def wait_for_push(self, seconds: float) -> None:
        """Return at the next push (or close), or after ``seconds``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), seconds)

    def next_deliverable(self) -> dict[str, Any] | None:
        """The oldest pending update of an allowed kind (webhook delivery)."""
        ready = self._deliverable(1)
        return ready[0] if ready else None

    def confirm(self, update_id: int) -> None:
        """The update was delivered (the webhook answered 2xx): it is no longer pending."""
        self.pending = [update for update in self.pending if update["update_id"] != update_id]

    @property
    def polling(self) -> bool:
        """True while a getUpdates call is waiting."""
        return bool(self._polls)

    async def get_updates(
        self, *, offset: int, limit: int, poll_seconds: float, allowed_updates: list[str] | None
    ) -> list[dict[str, Any]]:
        if self.conflict_on_overlap:
            for poll in self._polls:  # the older request is the one Telegram terminates
                poll.conflicted = True
                poll.wake.set()
        if allowed_updates is not None:
            self.allowed_updates = list(allowed_updates)
        if offset > 0:
            self.pending = [update for update in self.pending if update["update_id"] >= offset]
        elif offset < 0:
            self.pending = self.pending[offset:]
        limit = limit if 1 <= limit <= MAX_LIMIT else MAX_LIMIT
        ready = self._deliverable(limit)
        wait = min(max(poll_seconds, 0.0), self.long_poll_limit)
        if ready or wait <= 0 or self._closing:
            return ready
        poll = _Poll()
        self._polls.add(poll)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                try:
                    await asyncio.wait_for(poll.wake.wait(), remaining)
                except TimeoutError:
                    return []
                poll.wake.clear()
                if poll.conflicted:
                    raise errors.ApiError(409, errors.CONFLICT_POLLING)
                ready = self._deliverable(limit)
                if ready or self._closing:
                    return ready
        finally:
            self._polls.discard(poll)

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        """Pending updates of allowed kinds; updates of other kinds are forgotten, as Telegram drops them."""
        if self.allowed_updates:
            self.pending = [update for update in self.pending if update_kind(update) in self.allowed_updates]
        return [dict(update) for update in self.pending[:limit]]
