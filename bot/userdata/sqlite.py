"""``SqliteUserStore``: the ``UserStore`` in one embedded SQLite file, off the event loop (``aiosqlite``).

Crash safety: WAL journal with ``synchronous = NORMAL``. A commit is in the WAL file (in the
operating system's cache) when it returns, so killing the process at any moment (kill -9, OOM)
loses no committed row; only a power loss or kernel crash can lose the last commits before the
next checkpoint, and even then the file stays consistent (SQLite's WAL guarantee). ``FULL`` would
fsync every commit to also survive power loss, at a disk flush per settings change; settings and
saved products are not worth that. Foreign keys are on (rows about a user hang off their
``user_settings`` row), and the schema's forward migrations (``bot.userdata.schema``) run in
``open``, each in one transaction.

One connection, and one transaction at a time (an ``asyncio.Lock``): statements of concurrent
handlers never interleave inside another's transaction. Every failure surfaces as
``UserStoreError`` with a plain reason (locked, read-only, full, corrupt...).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Self

import aiosqlite

from bot.userdata.schema import MIGRATIONS, SCHEMA_VERSION
from bot.userdata.store import (
    Feedback,
    FeedbackSummary,
    Forgotten,
    NewAlert,
    PendingAlert,
    Preferences,
    SavedLimitError,
    SavedProduct,
    SavedWatch,
    UserCounts,
    UserSettings,
    UserStoreError,
    VoteCount,
)

log = logging.getLogger(__name__)

USERS_FILE = "users.sqlite3"
_ID_CHUNK = 500  # ids per IN (...) list (SQLite's default variable limit is 32766; small keeps plans simple)
BUSY_TIMEOUT_SECONDS = 5.0  # wait this long for another process's write lock before giving up

Clock = Callable[[], datetime]

# SQLite's (extended) result code names, by prefix, in plain words for the log and /healthz.
_PLAIN_ERRORS = (
    ("SQLITE_BUSY", "is locked by another process"),
    ("SQLITE_LOCKED", "is locked"),
    ("SQLITE_READONLY", "is read-only"),
    ("SQLITE_FULL", "cannot grow: the disk is full"),
    ("SQLITE_CORRUPT", "is corrupt"),
    ("SQLITE_NOTADB", "is corrupt (not an SQLite database)"),
    ("SQLITE_CANTOPEN", "cannot be opened (a missing or read-only directory?)"),
    ("SQLITE_PERM", "is not accessible (permissions)"),
    ("SQLITE_AUTH", "is not accessible (permissions)"),
    ("SQLITE_IOERR", "cannot be read or written (I/O error)"),
)


def describe(path: Path, exc: BaseException) -> str:
    """``users.sqlite3 is read-only (SQLITE_READONLY: attempt to write a readonly database)``."""
    name = getattr(exc, "sqlite_errorname", None)
    plain = next((words for prefix, words in _PLAIN_ERRORS if name and name.startswith(prefix)), None)
    if plain is None:
        plain = "failed"
    detail = f"{name}: {exc}" if name else f"{type(exc).__name__}: {exc}"
    return f"{path} {plain} ({detail})"


def _now_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _filters(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _add(known: VoteCount | None, more: VoteCount) -> VoteCount:
    return more if known is None else VoteCount(known.up + more.up, known.down + more.down)


class SqliteUserStore:
    """The user data store in ``path`` (created with its schema on first open)."""

    def __init__(self, db: aiosqlite.Connection, path: Path, clock: Clock) -> None:
        self._db = db
        self.path = path
        self._clock = clock
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout_seconds: float = BUSY_TIMEOUT_SECONDS,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> Self:
        """Open (or create) the database, check it and bring its schema up to date.

        Raises ``UserStoreError`` when the file cannot be used (locked past the busy timeout,
        read-only, full, corrupt, a newer schema than this release knows)."""
        path = Path(path)
        db = aiosqlite.connect(path, isolation_level=None, timeout=busy_timeout_seconds)
        try:
            await db
        except (sqlite3.Error, OSError) as exc:
            # aiosqlite stops its worker thread without waiting: let it end while this loop runs.
            await asyncio.to_thread(db._thread.join, busy_timeout_seconds + 5)
            raise UserStoreError(describe(path, exc)) from exc
        store = cls(db, path, clock)
        try:
            await store._prepare()
        except BaseException as exc:
            with suppress(Exception):
                await db.close()
            if isinstance(exc, sqlite3.Error | OSError):
                raise UserStoreError(describe(path, exc)) from exc
            raise
        return store

    @classmethod
    async def open_read_only(
        cls, path: str | Path, *, busy_timeout_seconds: float = BUSY_TIMEOUT_SECONDS
    ) -> Self:
        """Open an existing database only to read it (the CLI's reports, while the bot may run):
        no migration, no write, no file created (``UserStoreError`` when it is missing or unusable).

        A schema older than this release's is read as it is; a newer one is refused."""
        path = Path(path)
        if not path.is_file():
            raise UserStoreError(f"{path} does not exist")
        uri = f"{path.resolve().as_uri()}?mode=ro"
        db = aiosqlite.connect(uri, uri=True, isolation_level=None, timeout=busy_timeout_seconds)
        try:
            await db
        except (sqlite3.Error, OSError) as exc:
            await asyncio.to_thread(db._thread.join, busy_timeout_seconds + 5)
            raise UserStoreError(describe(path, exc)) from exc
        store = cls(db, path, lambda: datetime.now(UTC))
        try:
            version = int(await store.schema_version())
            if version > SCHEMA_VERSION:
                raise UserStoreError(
                    f"{path} has schema version {version}, newer than this release's {SCHEMA_VERSION}"
                )
        except BaseException:
            with suppress(Exception):
                await db.close()
            raise
        return store

    async def _prepare(self) -> None:
        db = self._db
        mode = await self._one("PRAGMA journal_mode = WAL")
        if str(mode).lower() != "wal":
            raise UserStoreError(f"{self.path} cannot use WAL mode (journal_mode stays {mode})")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        check = await self._one("PRAGMA quick_check")
        if check != "ok":
            raise UserStoreError(f"{self.path} is corrupt (quick_check: {check})")
        await self._migrate()

    async def _migrate(self) -> None:
        version = int(await self._one("PRAGMA user_version"))
        if version > SCHEMA_VERSION:
            raise UserStoreError(
                f"{self.path} has schema version {version}, newer than this release's {SCHEMA_VERSION} "
                "(was it written by a newer snapfit?)"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            async with self._transaction() as db:
                # Another process may have migrated while we waited for the write lock.
                if int(await self._one("PRAGMA user_version")) >= target:
                    continue
                for statement in MIGRATIONS[target - 1]:
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {target}")
            log.info("user database %s migrated to schema version %d", self.path, target)

    async def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        async with self._db.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return row[0] if row is not None else None

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: the write lock up front), committed on success."""
        db = self._db
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            await db.execute("COMMIT")
        except BaseException:
            with suppress(Exception):
                if db.in_transaction:
                    await db.execute("ROLLBACK")
            raise

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[aiosqlite.Connection]:
        """A transaction under the store's lock, its SQLite errors as ``UserStoreError``."""
        async with self._reading(), self._transaction() as db:
            yield db

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        try:
            async with self._lock:
                yield self._db
        except (sqlite3.Error, OSError) as exc:
            raise UserStoreError(describe(self.path, exc)) from exc
        except ValueError as exc:  # aiosqlite: "no active connection" once closed
            raise UserStoreError(f"{self.path} is closed ({exc})") from exc

    async def schema_version(self) -> int:
        async with self._reading():
            return int(await self._one("PRAGMA user_version"))

    async def pragmas(self) -> dict[str, Any]:
        """The connection's safety settings as SQLite reports them (for tests and diagnostics)."""
        async with self._reading():
            return {
                name: await self._one(f"PRAGMA {name}")
                for name in ("journal_mode", "synchronous", "foreign_keys", "user_version")
            }

    # Settings

    _SETTINGS_COLUMNS = "user_id, language, category, filters, alerts, created_at, updated_at"

    @staticmethod
    def _settings(row: sqlite3.Row | tuple[Any, ...]) -> UserSettings:
        user_id, language, category, filters, alerts, created, updated = row
        return UserSettings(
            user_id=int(user_id),
            preferences=Preferences(language=language, category=category, filters=_filters(filters)),
            alerts=bool(alerts),
            created_at=_time(created),
            updated_at=_time(updated),
        )

    async def all_settings(self) -> dict[int, UserSettings]:
        async with self._reading() as db:
            rows = await db.execute_fetchall(f"SELECT {self._SETTINGS_COLUMNS} FROM user_settings")
        return {settings.user_id: settings for settings in map(self._settings, rows)}

    async def get_settings(self, user_id: int) -> UserSettings | None:
        async with self._reading() as db:
            rows = list(
                await db.execute_fetchall(
                    f"SELECT {self._SETTINGS_COLUMNS} FROM user_settings WHERE user_id = ?", (user_id,)
                )
            )
        return self._settings(rows[0]) if rows else None

    async def put_preferences(self, items: dict[int, Preferences]) -> None:
        if not items:
            return
        now = _now_text(self._clock())
        rows = [
            (user_id, prefs.language, prefs.category, _json(prefs.filters or None), now, now)
            for user_id, prefs in items.items()
        ]
        async with self._writing() as db:
            await db.executemany(
                "INSERT INTO user_settings (user_id, language, category, filters, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
                "language = excluded.language, category = excluded.category, "
                "filters = excluded.filters, updated_at = excluded.updated_at",
                rows,
            )

    async def _ensure_user(self, db: aiosqlite.Connection, user_id: int, now: str) -> None:
        await db.execute(
            "INSERT OR IGNORE INTO user_settings (user_id, created_at, updated_at) VALUES (?, ?, ?)",
            (user_id, now, now),
        )

    async def set_alerts(self, user_id: int, enabled: bool) -> None:
        now = _now_text(self._clock())
        async with self._writing() as db:
            await self._ensure_user(db, user_id, now)
            await db.execute(
                "UPDATE user_settings SET alerts = ?, updated_at = ? WHERE user_id = ?",
                (int(enabled), now, user_id),
            )

    # Saved products

    async def save_product(
        self, user_id: int, product_id: int, *, price: int | None, sold_out: bool, limit: int | None = None
    ) -> bool:
        now = _now_text(self._clock())
        async with self._writing() as db:
            await self._ensure_user(db, user_id, now)
            saved = await self._one(
                "SELECT 1 FROM saved_products WHERE user_id = ? AND product_id = ?", (user_id, product_id)
            )
            if saved is not None:
                return False
            if limit is not None and await self._count_saved(user_id) >= limit:
                raise SavedLimitError(limit)
            await db.execute(
                "INSERT INTO saved_products (user_id, product_id, saved_price, saved_sold_out, told_price, "
                "told_sold_out, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, product_id, price, int(sold_out), price, int(sold_out), now),
            )
            return True

    async def _count_saved(self, user_id: int) -> int:
        return int(await self._one("SELECT COUNT(*) FROM saved_products WHERE user_id = ?", (user_id,)))

    async def saved_count(self, user_id: int) -> int:
        async with self._reading():
            return await self._count_saved(user_id)

    async def saved_products(
        self, user_id: int, *, limit: int | None = None, offset: int = 0
    ) -> list[SavedProduct]:
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT user_id, product_id, saved_price, saved_sold_out, told_price, saved_at "
                "FROM saved_products WHERE user_id = ? ORDER BY saved_at DESC, product_id DESC "
                "LIMIT ? OFFSET ?",
                (user_id, -1 if limit is None else max(limit, 0), max(offset, 0)),
            )
        return [
            SavedProduct(
                user_id=int(row[0]),
                product_id=int(row[1]),
                saved_price=row[2],
                saved_sold_out=bool(row[3]),
                told_price=row[4],
                saved_at=_time(row[5]),
            )
            for row in rows
        ]

    async def remove_saved(self, user_id: int, product_id: int) -> bool:
        async with self._writing() as db:
            cursor = await db.execute(
                "DELETE FROM saved_products WHERE user_id = ? AND product_id = ?", (user_id, product_id)
            )
            return cursor.rowcount > 0

    # Feedback

    async def add_feedback(self, feedback: Feedback) -> None:
        now = _now_text(self._clock())
        async with self._writing() as db:
            await self._ensure_user(db, feedback.user_id, now)
            await db.execute(
                "INSERT INTO feedback (created_at, user_id, flow, category, filters, model_id, product_ids, "
                "vote) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now,
                    feedback.user_id,
                    feedback.flow,
                    feedback.category,
                    _json(feedback.filters),
                    feedback.model_id,
                    json.dumps(list(feedback.product_ids)),
                    feedback.vote,
                ),
            )

    async def feedback_summary(self, since: datetime | None = None) -> FeedbackSummary:
        where, params = ("WHERE created_at >= ?", (_now_text(since),)) if since is not None else ("", ())
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT flow, category, SUM(vote > 0), SUM(vote < 0) FROM feedback "
                f"{where} GROUP BY flow, category",
                params,
            )
        by_flow: dict[str, VoteCount] = {}
        by_category: dict[str | None, VoteCount] = {}
        total = VoteCount()
        for flow, category, up, down in rows:
            votes = VoteCount(int(up), int(down))
            by_flow[flow] = _add(by_flow.get(flow), votes)
            by_category[category] = _add(by_category.get(category), votes)
            total = _add(total, votes)
        return FeedbackSummary(total=total, by_flow=by_flow, by_category=by_category)

    async def counts(self) -> UserCounts:
        async with self._reading():
            users = await self._one("SELECT COUNT(*) FROM user_settings")
            saved = await self._one("SELECT COUNT(*) FROM saved_products")
            sent = await self._one(
                # The last sync whose changes were computed, even one that raised no alert.
                "SELECT COUNT(*) FROM alert_log WHERE state = 'sent' AND sync_id = "
                "(SELECT sync_id FROM alert_computations ORDER BY computed_at DESC, sync_id DESC LIMIT 1)"
            )
            up = await self._one("SELECT COUNT(*) FROM feedback WHERE vote > 0")
            down = await self._one("SELECT COUNT(*) FROM feedback WHERE vote < 0")
        return UserCounts(
            users_with_settings=int(users),
            saved_products=int(saved),
            alerts_sent_last_sync=int(sent),
            feedback=VoteCount(int(up), int(down)),
        )

    # Privacy

    async def forget(self, user_id: int) -> Forgotten:
        counts: dict[str, int] = {}
        async with self._writing() as db:
            for field, table in (
                ("feedback", "feedback"),
                ("alerts", "alert_log"),
                ("saved", "saved_products"),
                ("settings", "user_settings"),
            ):
                cursor = await db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
                counts[field] = max(cursor.rowcount, 0)
        return Forgotten(**counts)

    async def close(self) -> None:
        async with self._lock:
            with suppress(Exception):
                await self._db.close()

    # Alerts

    async def note_telegram_language(self, user_id: int, language_code: str | None) -> bool:
        async with self._writing() as db:
            cursor = await db.execute(
                "UPDATE user_settings SET telegram_language = ? WHERE user_id = ?", (language_code, user_id)
            )
            return cursor.rowcount > 0

    async def alert_computed(self, sync_id: str) -> bool:
        async with self._reading():
            return (
                await self._one("SELECT 1 FROM alert_computations WHERE sync_id = ?", (sync_id,)) is not None
            )

    async def saved_watches(self, product_ids: list[int]) -> list[SavedWatch]:
        watches: list[SavedWatch] = []
        async with self._reading() as db:
            for start in range(0, len(product_ids), _ID_CHUNK):
                chunk = product_ids[start : start + _ID_CHUNK]
                rows = await db.execute_fetchall(
                    "SELECT s.user_id, s.product_id, s.told_price, s.told_sold_out FROM saved_products s "
                    "INDEXED BY saved_products_by_product JOIN user_settings u ON u.user_id = s.user_id "
                    f"WHERE s.product_id IN ({','.join('?' * len(chunk))}) AND u.alerts = 1",
                    chunk,
                )
                watches += [SavedWatch(row[0], row[1], row[2], bool(row[3])) for row in rows]
        return watches

    async def record_alerts(self, sync_id: str, alerts: list[NewAlert], sold_out: list[int]) -> int:
        now = _now_text(self._clock())
        async with self._writing() as db:
            before = db.total_changes
            await db.executemany(
                "INSERT OR IGNORE INTO alert_log (user_id, product_id, kind, price, old_price, sync_id, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(a.user_id, a.product_id, a.kind, a.price, a.old_price, sync_id, now) for a in alerts],
            )
            added = db.total_changes - before
            for start in range(0, len(sold_out), _ID_CHUNK):
                chunk = sold_out[start : start + _ID_CHUNK]
                await db.execute(
                    "UPDATE saved_products SET told_sold_out = 1 "
                    f"WHERE product_id IN ({','.join('?' * len(chunk))}) AND told_sold_out = 0",
                    chunk,
                )
            await db.execute(
                "INSERT OR IGNORE INTO alert_computations (sync_id, computed_at, alerts) VALUES (?, ?, ?)",
                (sync_id, now, added),
            )
        return added

    async def pending_alerts(self) -> list[PendingAlert]:
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT a.id, a.user_id, a.product_id, a.kind, a.price, a.old_price, a.sync_id, u.language, "
                "u.telegram_language, u.alerts FROM alert_log a "
                "JOIN alert_computations c ON c.sync_id = a.sync_id "
                "JOIN user_settings u ON u.user_id = a.user_id "
                "WHERE a.state = 'pending' ORDER BY a.sync_id, a.user_id, a.id"
            )
        return [
            PendingAlert(
                id=row[0],
                user_id=row[1],
                product_id=row[2],
                kind=row[3],
                price=row[4],
                old_price=row[5],
                sync_id=row[6],
                language=row[7],
                telegram_language=row[8],
                alerts_on=bool(row[9]),
            )
            for row in rows
        ]

    async def mark_alerts_sent(self, alerts: list[PendingAlert]) -> None:
        now = _now_text(self._clock())
        async with self._writing() as db:
            await db.executemany(
                "UPDATE alert_log SET state = 'sent', sent_at = ? WHERE id = ? AND state = 'pending'",
                [(now, alert.id) for alert in alerts],
            )
            await db.executemany(
                "UPDATE saved_products SET told_price = ? WHERE user_id = ? AND product_id = ?",
                [(a.price, a.user_id, a.product_id) for a in alerts if a.kind == "price_drop"],
            )
            await db.executemany(
                "UPDATE saved_products SET told_sold_out = 0 WHERE user_id = ? AND product_id = ?",
                [(a.user_id, a.product_id) for a in alerts if a.kind == "restock"],
            )

    async def mark_alerts(self, ids: list[int], state: Literal["failed", "blocked"]) -> None:
        async with self._writing() as db:
            await db.executemany(
                "UPDATE alert_log SET state = ? WHERE id = ? AND state = 'pending'", [(state, i) for i in ids]
            )

    async def block_alerts(self, user_id: int) -> int:
        now = _now_text(self._clock())
        async with self._writing() as db:
            await db.execute(
                "UPDATE user_settings SET alerts = 0, updated_at = ? WHERE user_id = ?", (now, user_id)
            )
            cursor = await db.execute(
                "UPDATE alert_log SET state = 'blocked' WHERE user_id = ? AND state = 'pending'", (user_id,)
            )
            return max(cursor.rowcount, 0)
