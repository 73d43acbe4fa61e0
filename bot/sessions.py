"""Server-side state behind result buttons: callback_data holds only a short search id.

Buttons carry ``v1:p:<search_id>:<page>``, ``v1:s:<search_id>:<n>`` or ``v1:w:<search_id>`` (64 bytes
at most), and the search itself — its query vector, source product or words, category, filters, what
was shown — lives here, in memory, bounded (LRU) and with a time limit. After a restart, or once a
search has expired, its id is unknown and the button answers "please search again". A search belongs
to the user who made it (``user_id``): another user's press (in a group, or on a forwarded message)
is answered "not yours".
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from bot.search import QueryVector
from indexer.store import SearchFilters

SearchKind = Literal["photo", "similar", "text"]
DEFAULT_MAX_SESSIONS = 4096  # live searches kept; the least recently used go first
DEFAULT_TTL_SECONDS = 6 * 3600.0
SEARCH_ID_BYTES = 6  # 8 URL-safe characters


@dataclass
class SearchSession:
    """One search a user can page through. ``shown[n - 1]`` is the product labelled ``#n``."""

    id: str
    kind: SearchKind
    user_id: int  # whose search it is: only they may page through it
    category: str | tuple[str, ...] | None  # several codes: a garment's categories (any of them)
    page_size: int
    query: QueryVector | None = None  # vector searches (photos, products fetched from Musinsa)
    source_id: int | None = None  # similar: the product whose neighbours these are
    source_label: str = ""
    exclude_ids: tuple[int, ...] = ()
    filters: SearchFilters = field(default_factory=SearchFilters)  # as they were when it was made
    text: str | None = None  # a text search: the shopper's words
    understood: tuple[str, ...] = ()  # what a photo's caption applied, as written (for the header)
    photo_id: str | None = None  # a garment's search: the pending photo it was cropped from
    garment: str | None = None  # ... and the garment's label
    shown: list[int] = field(default_factory=list)
    next_offset: int = 0
    pages_sent: int = 0
    exhausted: bool = False
    pages: list[tuple[int, ...]] = field(default_factory=list)  # pages[n - 1]: the ids page n showed
    votes: dict[int, int] = field(default_factory=dict)  # page -> the user's 👍 (1) / 👎 (-1), once
    created: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)


class SearchSessions:
    """The live searches by id: least recently used dropped past ``max_sessions``, expired after ``ttl``."""

    def __init__(
        self,
        *,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions: OrderedDict[str, SearchSession] = OrderedDict()
        self._max = max_sessions
        self._ttl = ttl_seconds
        self._clock = clock

    def __len__(self) -> int:
        return len(self._sessions)

    def create(
        self,
        kind: SearchKind,
        *,
        user_id: int,
        category: str | tuple[str, ...] | None,
        page_size: int,
        query: QueryVector | None = None,
        source_id: int | None = None,
        source_label: str = "",
        exclude_ids: tuple[int, ...] = (),
        filters: SearchFilters | None = None,
        text: str | None = None,
        understood: tuple[str, ...] = (),
        photo_id: str | None = None,
        garment: str | None = None,
    ) -> SearchSession:
        search_id = secrets.token_urlsafe(SEARCH_ID_BYTES)
        while search_id in self._sessions:
            search_id = secrets.token_urlsafe(SEARCH_ID_BYTES)
        session = SearchSession(
            search_id,
            kind,
            user_id,
            category,
            page_size,
            query=query,
            source_id=source_id,
            source_label=source_label,
            exclude_ids=exclude_ids,
            filters=filters if filters is not None else SearchFilters(),
            text=text,
            understood=understood,
            photo_id=photo_id,
            garment=garment,
            created=self._clock(),
        )
        self._sessions[search_id] = session
        self._prune()
        return session

    def get(self, search_id: str) -> SearchSession | None:
        session = self._sessions.get(search_id)
        if session is None:
            return None
        if self._clock() - session.created > self._ttl:
            del self._sessions[search_id]
            return None
        self._sessions.move_to_end(search_id)
        return session

    def drop_user(self, user_id: int) -> int:
        """Forget every live search of ``user_id`` (/forget); how many there were."""
        mine = [search_id for search_id, session in self._sessions.items() if session.user_id == user_id]
        for search_id in mine:
            del self._sessions[search_id]
        return len(mine)

    def _prune(self) -> None:
        while len(self._sessions) > self._max:
            self._sessions.popitem(last=False)
        now = self._clock()
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if now - oldest.created <= self._ttl:
                break
            self._sessions.popitem(last=False)
