"""``UserStore``: what the bot keeps about its users, behind one small interface.

The bot uses only this interface, so that a server database (several bot replicas sharing users)
can be added later next to the embedded SQLite one (``bot.userdata.sqlite``) without touching the
handlers. Every method raises ``UserStoreError`` (with a short operator-facing reason) when the
store cannot answer; callers degrade instead of failing a search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

Vote = Literal[-1, 1]
Flow = Literal["photo", "garment", "text", "similar"]


class SavedLimitError(Exception):
    """Saving one more product would take the user past ``limit`` saved products (nothing changed)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} saved products per user")
        self.limit = limit


class UserStoreError(Exception):
    """The store cannot be used now; ``reason`` says why in a few words (for the log and /healthz)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Preferences:
    """A user's lasting search choices (None: the default: Telegram's language, all categories,
    ``DEFAULT_FILTERS``). ``filters`` is ``SearchFilters.to_dict()``."""

    language: str | None = None
    category: str | None = None
    filters: dict[str, Any] | None = None

    @property
    def is_default(self) -> bool:
        return self.language is None and self.category is None and not self.filters


@dataclass(frozen=True)
class UserSettings:
    """One user's row: their preferences, whether they get alerts, and when the row was made/changed."""

    user_id: int
    preferences: Preferences
    alerts: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SavedProduct:
    """A product a user saved, with what it cost (and whether it was sold out) then, and the price the
    user was last told about (alerts compare the new price with this one)."""

    user_id: int
    product_id: int
    saved_price: int | None
    saved_sold_out: bool
    told_price: int | None
    saved_at: datetime


@dataclass(frozen=True)
class Feedback:
    """One 👍/👎 on a result page. Never the user's photo."""

    user_id: int
    flow: Flow
    category: str | None
    filters: dict[str, Any] | None
    model_id: str | None
    product_ids: tuple[int, ...]
    vote: Vote


@dataclass(frozen=True)
class Forgotten:
    """How many rows ``forget`` deleted, by table."""

    settings: int = 0
    saved: int = 0
    alerts: int = 0
    feedback: int = 0

    @property
    def total(self) -> int:
        return self.settings + self.saved + self.alerts + self.feedback


@dataclass(frozen=True)
class VoteCount:
    """👍 and 👎 counted together (one flow, one category, or all)."""

    up: int = 0
    down: int = 0

    @property
    def total(self) -> int:
        return self.up + self.down

    @property
    def share_up(self) -> float | None:
        """The share of 👍 (0..1); None without votes."""
        return self.up / self.total if self.total else None


@dataclass(frozen=True)
class FeedbackSummary:
    """Votes by flow and by category (``None``: searched over every category), and over all."""

    total: VoteCount
    by_flow: dict[str, VoteCount]
    by_category: dict[str | None, VoteCount]


@dataclass(frozen=True)
class UserCounts:
    """What the store holds, in numbers (``snapfit stats``, admin ``/stats``).

    ``alerts_sent_last_sync``: alert_log rows in state 'sent' of the last sync whose changes were
    computed for alerts (0 when that sync raised none)."""

    users_with_settings: int
    saved_products: int
    alerts_sent_last_sync: int
    feedback: VoteCount


AlertKind = Literal["price_drop", "restock"]


@dataclass(frozen=True)
class SavedWatch:
    """A saved product of a user with alerts on, as alerts compare it: what the user was last told."""

    user_id: int
    product_id: int
    told_price: int | None
    told_sold_out: bool


@dataclass(frozen=True)
class NewAlert:
    """An alert to record (state pending) for one sync."""

    user_id: int
    product_id: int
    kind: AlertKind
    price: int | None  # the new price told (and, once sent, the user's told_price)
    old_price: int | None = None  # the price last told (only to word the message)


@dataclass(frozen=True)
class PendingAlert:
    """A recorded alert not sent yet, with the user's language choices (``language``: /settings,
    ``telegram_language``: Telegram's language_code) and whether the user still wants alerts."""

    id: int
    user_id: int
    product_id: int
    kind: AlertKind
    price: int | None
    old_price: int | None
    sync_id: str
    language: str | None
    telegram_language: str | None
    alerts_on: bool


class UserStore(Protocol):
    """The user data store. Writes are committed (durable against a process kill) when they return."""

    async def schema_version(self) -> int: ...

    async def all_settings(self) -> dict[int, UserSettings]:
        """Every user's row (read once at start-up into PTB's ``user_data``)."""
        ...

    async def get_settings(self, user_id: int) -> UserSettings | None: ...

    async def put_preferences(self, items: dict[int, Preferences]) -> None:
        """Write these users' preferences in one transaction (creating their rows; ``alerts`` kept)."""
        ...

    async def set_alerts(self, user_id: int, enabled: bool) -> None: ...

    async def save_product(
        self, user_id: int, product_id: int, *, price: int | None, sold_out: bool, limit: int | None = None
    ) -> bool:
        """Save a product; False (and nothing changed) when the user had already saved it.

        ``limit``: raise ``SavedLimitError`` instead when the user already has that many saved
        products (checked in the same transaction, so concurrent saves cannot pass it)."""
        ...

    async def saved_products(
        self, user_id: int, *, limit: int | None = None, offset: int = 0
    ) -> list[SavedProduct]:
        """The user's saved products, newest first (``limit`` of them from ``offset``: one page)."""
        ...

    async def saved_count(self, user_id: int) -> int:
        """How many products the user has saved."""
        ...

    async def remove_saved(self, user_id: int, product_id: int) -> bool: ...

    async def add_feedback(self, feedback: Feedback) -> None: ...

    async def feedback_summary(self, since: datetime | None = None) -> FeedbackSummary:
        """Votes given at or after ``since`` (None: all), by flow and by category."""
        ...

    async def counts(self) -> UserCounts: ...

    async def forget(self, user_id: int) -> Forgotten:
        """Delete every row about the user (settings, saved products, alert log, feedback) in one
        transaction."""
        ...

    # Alerts (bot.alerts)

    async def note_telegram_language(self, user_id: int, language_code: str | None) -> bool:
        """Remember the user's Telegram language for alerts; False when the user has no row yet."""
        ...

    async def alert_computed(self, sync_id: str) -> bool:
        """True when this sync's alerts were already computed and recorded."""
        ...

    async def saved_watches(self, product_ids: list[int]) -> list[SavedWatch]:
        """The saved rows of these products whose users have alerts on (``saved_products_by_product``)."""
        ...

    async def record_alerts(self, sync_id: str, alerts: list[NewAlert], sold_out: list[int]) -> int:
        """In one transaction: the alerts as pending rows (a repeat is ignored), ``told_sold_out`` set
        for the saved rows of products now sold out (so their return is a restock), and the sync
        marked computed. Returns how many rows were added."""
        ...

    async def pending_alerts(self) -> list[PendingAlert]:
        """Pending rows of computed syncs, by sync, user and product."""
        ...

    async def mark_alerts_sent(self, alerts: list[PendingAlert]) -> None:
        """The user got the message: rows sent, and ``told_price``/``told_sold_out`` updated."""
        ...

    async def mark_alerts(self, ids: list[int], state: Literal["failed", "blocked"]) -> None: ...

    async def block_alerts(self, user_id: int) -> int:
        """The user blocked the bot: alerts off and every pending row of theirs blocked (no retry)."""
        ...

    async def close(self) -> None: ...
