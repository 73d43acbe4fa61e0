"""Per-user limits: searches per minute, one search at a time, and one search per album of photos.

A search is anything that may fetch from Musinsa or run the encoder: a photo, ``/similar``, and the
result buttons (More, Similar #n, a garment pick). They share one budget, ``[telegram]
photos_per_minute`` (the key keeps its old name). All three are in-memory and bounded: entries of
users who stopped sending are dropped.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0
ALBUM_MEMORY_SECONDS = 120.0
MAX_TRACKED = 50_000


class SearchRateLimit:
    """At most ``per_minute`` searches per user in any 60 s window; one polite notice per window."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sent: OrderedDict[int, deque[float]] = OrderedDict()
        self._notified_until: dict[int, float] = {}

    def allow(self, user_id: int) -> bool:
        """Count one search for the user; False when it is over the limit (the search is not counted)."""
        now = self._clock()
        self._forget_idle(now)
        times = self._sent.pop(user_id, None) or deque()
        self._sent[user_id] = times  # most recently active last
        while times and now - times[0] >= WINDOW_SECONDS:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        return True

    def should_notify(self, user_id: int) -> bool:
        """True once per window for a limited user, so a burst gets one notice instead of a flood."""
        now = self._clock()
        if self._notified_until.get(user_id, 0.0) > now:
            return False
        times = self._sent.get(user_id)
        self._notified_until[user_id] = (times[0] if times else now) + WINDOW_SECONDS
        return True

    def _forget_idle(self, now: float) -> None:
        """Drop users whose last search left the window (oldest activity first), and any past MAX_TRACKED."""
        while self._sent:
            user_id, times = next(iter(self._sent.items()))
            idle = not times or now - times[-1] >= WINDOW_SECONDS
            if not idle and len(self._sent) < MAX_TRACKED:
                break
            del self._sent[user_id]
            self._notified_until.pop(user_id, None)


class ActiveSearches:
    """Which users have a search running: each user gets one at a time."""

    def __init__(self) -> None:
        self._users: set[int] = set()

    def claim(self, user_id: int) -> bool:
        if user_id in self._users:
            return False
        self._users.add(user_id)
        return True

    def release(self, user_id: int) -> None:
        self._users.discard(user_id)

    def __contains__(self, user_id: object) -> bool:
        return user_id in self._users


class AlbumGate:
    """Photos sent together share a ``media_group_id``: the first one seen is searched, the rest not."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first(self, media_group_id: str) -> bool:
        now = self._clock()
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at < ALBUM_MEMORY_SECONDS and len(self._seen) <= MAX_TRACKED:
                break
            del self._seen[oldest]
        if media_group_id in self._seen:
            return False
        self._seen[media_group_id] = now
        return True
