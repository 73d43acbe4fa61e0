"""``UserDataPersistence``: PTB's user_data in the user store, the old pickle file's import, and what a
failing store costs (settings in memory only, said once in the log and by ``health``)."""

from __future__ import annotations

import asyncio
import logging
import pickle
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import ApplicationBuilder

from bot.userdata import USERS_FILE, Preferences, SqliteUserStore, UserDataPersistence, UserStoreError
from bot.userdata.legacy import LEGACY_FILE
from bot.userdata.persistence import forget_user, user_store
from tests.bot import userdata_support
from tests.bot.userdata_support import list_files, read

read_only_dir = userdata_support.read_only_dir  # a fixture

ANN, MINJI, BORA = 5151, 5252, 5353


_STARTED: list[UserDataPersistence] = []


async def started(data_dir: Path) -> tuple[UserDataPersistence, dict[int, dict[str, object]]]:
    persistence = UserDataPersistence(data_dir)
    _STARTED.append(persistence)  # closed after the test: an open store keeps the process alive
    return persistence, await persistence.get_user_data()


@pytest.fixture(autouse=True)
async def close_what_was_started() -> AsyncIterator[None]:
    yield
    while _STARTED:
        await _STARTED.pop().flush()


def updated_at(data_dir: Path, user: int) -> str:
    with sqlite3.connect(data_dir / USERS_FILE) as raw:
        return str(
            raw.execute("SELECT updated_at FROM user_settings WHERE user_id = ?", (user,)).fetchone()[0]
        )


async def test_user_data_round_trip_writes_only_changes(tmp_path: Path) -> None:
    persistence, data = await started(tmp_path)
    assert data == {} and persistence.health.ok
    await persistence.update_user_data(ANN, {"category": "103", "language": "en", "unrelated": 1})
    await persistence.update_user_data(MINJI, {"filters": {"max_price": 50000, "gender": "women"}})
    await persistence.update_user_data(BORA, {})  # a user who chose nothing gets no row
    before = updated_at(tmp_path, ANN)
    await persistence.update_user_data(ANN, {"category": "103", "language": "en"})  # unchanged: no write
    assert updated_at(tmp_path, ANN) == before
    await persistence.flush()

    again, data = await started(tmp_path)
    assert data == {
        ANN: {"category": "103", "language": "en"},
        MINJI: {"filters": {"max_price": 50000, "gender": "women"}},
    }
    await again.update_user_data(ANN, {"language": "en"})  # category back to all
    await again.drop_user_data(MINJI)  # PTB dropped MINJI's data: the defaults again
    await again.flush()
    store = await SqliteUserStore.open(tmp_path / USERS_FILE)
    rows = await store.all_settings()
    await store.close()
    assert set(rows) == {ANN, MINJI}
    assert rows[ANN].preferences == Preferences(language="en")
    assert rows[MINJI].preferences == Preferences()
    assert (await started(tmp_path))[1] == {ANN: {"language": "en"}}


async def test_the_old_pickle_file_is_imported_once_and_renamed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.userdata")
    old = tmp_path / LEGACY_FILE
    old.write_bytes(
        pickle.dumps(
            {
                "user_data": {
                    ANN: {"category": "103", "language": "de", "filters": "cheap"},  # wrong values: defaults
                    MINJI: {"language": "ko", "filters": {"include_sold_out": True}},
                    BORA: {},
                    "not a user id": {"category": "001"},
                },
                "chat_data": {},
                "bot_data": {},
                "conversations": {},
            }
        )
    )
    persistence, data = await started(tmp_path)
    assert data == {
        ANN: {"category": "103"},
        MINJI: {"language": "ko", "filters": {"include_sold_out": True}},
    }
    assert not old.exists() and (tmp_path / f"{LEGACY_FILE}.migrated").is_file()
    assert f"moved the settings of 2 users from {LEGACY_FILE} into {USERS_FILE}" in caplog.text
    await persistence.update_user_data(ANN, {"category": "001"})
    await persistence.flush()
    # An old file that reappears (a restored backup) is imported again; the renamed one never is.
    assert (await started(tmp_path))[1][ANN] == {"category": "001"}


async def test_a_damaged_pickle_file_is_set_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    old = tmp_path / LEGACY_FILE
    old.write_bytes(b"\x80\x04garbage")
    persistence, data = await started(tmp_path)
    assert data == {} and persistence.health.ok
    (aside,) = list_files(tmp_path, f"{LEGACY_FILE}.damaged-*")
    assert read(aside) == b"\x80\x04garbage" and not old.exists()
    assert f"{old} could not be read" in caplog.text
    await persistence.flush()


async def test_forget_deletes_the_users_rows_and_in_memory_settings(tmp_path: Path) -> None:
    persistence = UserDataPersistence(tmp_path)
    app = ApplicationBuilder().token("1:test").persistence(persistence).build()
    await persistence.get_user_data()
    store = user_store(app)
    assert store is not None
    await persistence.update_user_data(ANN, {"category": "103"})
    await persistence.update_user_data(MINJI, {"category": "001"})
    await store.save_product(ANN, 101, price=39000, sold_out=False)
    app.user_data[ANN]["category"] = "103"  # type: ignore[index]
    forgotten = await forget_user(app, ANN)
    assert (forgotten.settings, forgotten.saved) == (1, 1)
    assert ANN not in app.user_data
    await persistence.update_user_data(ANN, {})  # PTB's next round: nothing written back
    await persistence.drop_user_data(ANN)
    assert await store.get_settings(ANN) is None and await store.saved_products(ANN) == []
    assert await store.get_settings(MINJI) is not None
    await persistence.flush()


# A store that fails.


async def test_a_corrupt_database_degrades_to_in_memory_settings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    garbage = b"not a database at all " * 300
    (tmp_path / USERS_FILE).write_bytes(garbage)
    persistence, data = await started(tmp_path)
    assert data == {}
    status = persistence.health.status()
    assert status.state == "degraded"
    assert status.reason is not None and "users.sqlite3 is corrupt (not an SQLite database)" in status.reason
    assert "kept in memory only" in status.reason
    await persistence.update_user_data(ANN, {"category": "103"})  # no error: kept in memory by PTB
    with pytest.raises(UserStoreError, match="is corrupt"):
        await persistence.forget(ANN)
    await persistence.flush()
    assert caplog.text.count("user store unavailable") == 1  # said once
    assert (tmp_path / USERS_FILE).read_bytes() == garbage  # left for the operator


async def test_a_read_only_data_directory_degrades(
    read_only_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    persistence, data = await started(read_only_dir)
    assert data == {}
    status = persistence.health.status()
    assert status.state == "degraded" and status.reason is not None
    assert "users.sqlite3 cannot be opened" in status.reason or "read-only" in status.reason
    await persistence.update_user_data(ANN, {"category": "103"})
    await persistence.flush()
    assert "user store unavailable" in caplog.text


async def test_a_failed_write_is_retried_and_the_store_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.userdata")
    persistence = UserDataPersistence(tmp_path, busy_timeout_seconds=0.1)
    await persistence.get_user_data()
    other = sqlite3.connect(tmp_path / USERS_FILE, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        await persistence.update_user_data(ANN, {"category": "103"})
        await persistence.update_user_data(MINJI, {"category": "001"})
        status = persistence.health.status()
        assert status.state == "degraded" and "is locked by another process" in (status.reason or "")
        assert caplog.text.count("user store unavailable") == 1
        other.execute("ROLLBACK")
        await persistence.update_user_data(BORA, {"language": "ko"})  # writes the pending ones too
    finally:
        other.close()
    assert persistence.health.ok and "user store works again" in caplog.text
    await persistence.flush()
    assert (await started(tmp_path))[1] == {
        ANN: {"category": "103"},
        MINJI: {"category": "001"},
        BORA: {"language": "ko"},
    }


async def test_many_users_updated_at_once_are_all_written(tmp_path: Path) -> None:
    persistence, _ = await started(tmp_path)
    users = range(1000, 1050)
    await asyncio.gather(
        *(persistence.update_user_data(user, {"category": f"{user % 7:03d}"}) for user in users)
    )
    await persistence.flush()
    data = (await started(tmp_path))[1]
    assert data == {user: {"category": f"{user % 7:03d}"} for user in users}
