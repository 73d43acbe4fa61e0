"""The SQLite user store: schema and migrations, settings, saved products, forget, crash safety, failures."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.userdata import (
    Feedback,
    Forgotten,
    Preferences,
    SavedLimitError,
    SqliteUserStore,
    UserStoreError,
)
from bot.userdata import sqlite as sqlite_module
from bot.userdata.schema import MIGRATIONS, SCHEMA_VERSION
from tests.bot import userdata_support
from tests.bot.userdata_support import read, write

read_only_dir = userdata_support.read_only_dir  # a fixture

ANN, MINJI = 5151, 5252
TABLES = {"user_settings", "saved_products", "alert_log", "feedback"}


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "users.sqlite3"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(path: Path, clock: Clock) -> AsyncIterator[SqliteUserStore]:
    opened = await SqliteUserStore.open(path, clock=clock)
    yield opened
    await opened.close()


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


async def test_a_new_store_has_the_schema_in_wal_mode_with_foreign_keys(
    store: SqliteUserStore, path: Path
) -> None:
    assert await store.pragmas() == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "user_version": SCHEMA_VERSION,
    }
    assert await store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    assert tables(path) == TABLES | {"alert_computations"}  # per sync, not per user
    # The foreign keys hold: no saved product of a user without a row.
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA foreign_keys = ON")
        with pytest.raises(sqlite3.IntegrityError):
            raw.execute(
                "INSERT INTO saved_products VALUES (1, 2, 3000, 0, 3000, 0, '2026-12-01T00:00:00.000000Z')"
            )


async def test_reopening_migrates_nothing_and_keeps_the_rows(
    path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.userdata")
    first = await SqliteUserStore.open(path, clock=clock)
    await first.put_preferences({ANN: Preferences(category="103")})
    await first.close()
    assert caplog.text.count("migrated to schema version 1") == 1
    caplog.clear()
    for _ in range(2):
        again = await SqliteUserStore.open(path, clock=clock)
        assert await again.schema_version() == SCHEMA_VERSION
        assert (await again.get_settings(ANN)).preferences.category == "103"  # type: ignore[union-attr]
        await again.close()
    assert "migrated" not in caplog.text


async def test_a_failing_migration_leaves_the_previous_version_intact(
    path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await SqliteUserStore.open(path, clock=clock)
    await store.put_preferences({ANN: Preferences(language="en")})
    await store.close()
    broken = (*MIGRATIONS, ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"))
    monkeypatch.setattr(sqlite_module, "MIGRATIONS", broken)
    monkeypatch.setattr(sqlite_module, "SCHEMA_VERSION", len(broken))
    with pytest.raises(UserStoreError, match=r"users\.sqlite3 failed"):
        await SqliteUserStore.open(path, clock=clock)
    assert "half_done" not in tables(path)  # the whole migration rolled back with its version bump
    monkeypatch.undo()
    store = await SqliteUserStore.open(path, clock=clock)
    assert await store.schema_version() == SCHEMA_VERSION
    assert (await store.get_settings(ANN)).preferences.language == "en"  # type: ignore[union-attr]
    await store.close()


async def test_a_newer_schema_is_refused(path: Path) -> None:
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(UserStoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer than"):
        await SqliteUserStore.open(path)


async def test_preferences_are_written_and_read_back(store: SqliteUserStore, clock: Clock) -> None:
    assert await store.get_settings(ANN) is None
    created = clock.now
    await store.put_preferences(
        {ANN: Preferences(language="ko", filters={"max_price": 50000}), MINJI: Preferences(category="003")}
    )
    clock.tick(60)
    await store.set_alerts(ANN, False)
    clock.tick(60)
    await store.put_preferences({ANN: Preferences(category="103")})  # all three replaced, alerts kept
    ann = await store.get_settings(ANN)
    assert ann is not None
    assert ann.preferences == Preferences(category="103")
    assert ann.alerts is False
    assert ann.created_at == created and ann.updated_at == clock.now
    everyone = await store.all_settings()
    assert set(everyone) == {ANN, MINJI}
    assert everyone[MINJI].preferences == Preferences(category="003") and everyone[MINJI].alerts is True


async def test_saving_a_product_twice_keeps_one_entry(store: SqliteUserStore, clock: Clock) -> None:
    assert await store.save_product(ANN, 101, price=39000, sold_out=False) is True
    clock.tick()
    assert await store.save_product(ANN, 202, price=None, sold_out=True) is True
    clock.tick()
    assert await store.save_product(ANN, 101, price=25000, sold_out=False) is False
    saved = await store.saved_products(ANN)
    assert [item.product_id for item in saved] == [202, 101]  # newest first
    assert (saved[1].saved_price, saved[1].told_price, saved[1].saved_sold_out) == (39000, 39000, False)
    assert saved[0].saved_sold_out is True
    assert await store.remove_saved(ANN, 101) is True
    assert await store.remove_saved(ANN, 101) is False
    assert [item.product_id for item in await store.saved_products(ANN)] == [202]


async def test_saved_products_come_in_pages_newest_first_with_their_count(
    store: SqliteUserStore, clock: Clock
) -> None:
    for product_id in range(1, 13):
        await store.save_product(ANN, product_id, price=1000 * product_id, sold_out=False)
        clock.tick()
    await store.save_product(MINJI, 99, price=500, sold_out=False)
    assert await store.saved_count(ANN) == 12 and await store.saved_count(MINJI) == 1
    assert await store.saved_count(424242) == 0
    pages = [await store.saved_products(ANN, limit=5, offset=offset) for offset in (0, 5, 10, 15)]
    assert [[item.product_id for item in page] for page in pages] == [
        [12, 11, 10, 9, 8],
        [7, 6, 5, 4, 3],
        [2, 1],
        [],
    ]
    assert [item.product_id for item in await store.saved_products(ANN, offset=10)] == [2, 1]
    assert pages[0][0].saved_price == 12000


async def test_the_saved_limit_refuses_a_new_product_but_not_one_already_saved(
    store: SqliteUserStore,
) -> None:
    for product_id in range(1, 4):
        assert await store.save_product(ANN, product_id, price=None, sold_out=False, limit=3) is True
    with pytest.raises(SavedLimitError) as refused:
        await store.save_product(ANN, 4, price=1000, sold_out=False, limit=3)
    assert refused.value.limit == 3
    assert await store.save_product(ANN, 2, price=None, sold_out=False, limit=3) is False  # already saved
    assert await store.saved_count(ANN) == 3
    assert await store.save_product(MINJI, 4, price=1000, sold_out=False, limit=3) is True  # per user
    await store.remove_saved(ANN, 1)
    assert await store.save_product(ANN, 4, price=1000, sold_out=False, limit=3) is True


async def test_forget_deletes_every_row_about_the_user_and_nothing_else(
    store: SqliteUserStore, path: Path
) -> None:
    for user in (ANN, MINJI):
        await store.put_preferences({user: Preferences(category="001")})
        await store.save_product(user, 101, price=39000, sold_out=False)
        await store.save_product(user, 202, price=19000, sold_out=True)
        await store.add_feedback(
            Feedback(user, "photo", "001", {"max_price": 50000}, "model-a", (101, 202, 303), 1)
        )
    with sqlite3.connect(path) as raw:  # the alert log has no writer yet
        raw.executemany(
            "INSERT INTO alert_log (user_id, product_id, kind, price, sync_id, created_at) "
            "VALUES (?, 101, 'price_drop', 30000, 'sync-1', '2026-12-01T00:00:00.000000Z')",
            [(ANN,), (MINJI,)],
        )
    forgotten = await store.forget(ANN)
    assert forgotten == Forgotten(settings=1, saved=2, alerts=1, feedback=1)
    assert await store.get_settings(ANN) is None and await store.saved_products(ANN) == []
    with sqlite3.connect(path) as raw:
        for table in TABLES:
            rows = raw.execute(f"SELECT user_id FROM {table}").fetchall()
            assert rows and {row[0] for row in rows} == {MINJI}, table
    assert (await store.forget(ANN)).total == 0


# kill -9: a committed row survives the process.

WRITER = """
import asyncio, sys
from bot.userdata import Preferences, SqliteUserStore

async def main() -> None:
    store = await SqliteUserStore.open(sys.argv[1])
    user = 1
    while True:
        await store.put_preferences({user: Preferences(category=f"{user:03d}")})
        await store.save_product(user, user * 10, price=1000 * user, sold_out=False)
        print(user, flush=True)  # both committed
        user += 1

asyncio.run(main())
"""


def test_rows_committed_before_a_kill_9_are_there_after(path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env
    ) as writer:
        try:
            assert writer.stdout is not None
            committed = [int(writer.stdout.readline()) for _ in range(40)]
            os.kill(writer.pid, signal.SIGKILL)  # in the middle of the next transactions
            assert writer.wait(timeout=30) == -signal.SIGKILL
        finally:
            if writer.poll() is None:
                writer.kill()
    assert committed == list(range(1, 41))
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        settings = dict(raw.execute("SELECT user_id, category FROM user_settings").fetchall())
        saved = dict(raw.execute("SELECT user_id, product_id FROM saved_products").fetchall())
    for user in committed:
        assert settings[user] == f"{user:03d}" and saved[user] == user * 10


# When the file cannot be used.


async def test_a_corrupt_file_is_refused_with_its_reason_and_left_alone(path: Path) -> None:
    garbage = b"\x00garbage, not a database\xff" * 400
    write(path, garbage)
    with pytest.raises(UserStoreError, match=r"users\.sqlite3 is corrupt \(not an SQLite database\)"):
        await SqliteUserStore.open(path)
    assert read(path) == garbage  # for the operator to inspect or restore


async def test_a_damaged_database_page_is_found_at_open(path: Path) -> None:
    store = await SqliteUserStore.open(path)
    await store.put_preferences({user: Preferences(category="001") for user in range(1, 2000)})
    await store.close()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = raw.execute("PRAGMA page_size").fetchone()[0]
        pages = raw.execute("PRAGMA page_count").fetchone()[0]
    assert pages > 4
    with path.open("r+b") as file:  # scribble over a b-tree page of user_settings
        file.seek(page_size * (pages - 2))
        file.write(b"\xa5" * page_size)
    with pytest.raises(UserStoreError, match=r"users\.sqlite3 is corrupt"):
        await SqliteUserStore.open(path)


async def test_a_read_only_directory_is_refused_with_its_reason(read_only_dir: Path) -> None:
    with pytest.raises(UserStoreError, match=r"users\.sqlite3 (cannot be opened|is read-only)"):
        await SqliteUserStore.open(read_only_dir / "users.sqlite3")
    assert not (read_only_dir / "users.sqlite3").exists()


async def test_a_lock_held_by_another_process_fails_writes_until_released(path: Path) -> None:
    store = await SqliteUserStore.open(path, busy_timeout_seconds=0.1)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(UserStoreError, match=r"users\.sqlite3 is locked by another process"):
            await store.put_preferences({ANN: Preferences(category="001")})
        assert await store.get_settings(ANN) is None  # reads go on in WAL mode
        other.execute("ROLLBACK")
        await store.put_preferences({ANN: Preferences(category="001")})
        assert (await store.get_settings(ANN)).preferences.category == "001"  # type: ignore[union-attr]
    finally:
        other.close()
        await store.close()


async def test_a_closed_store_raises_user_store_errors(store: SqliteUserStore) -> None:
    await store.close()
    with pytest.raises(UserStoreError, match="is closed"):
        await store.get_settings(ANN)
