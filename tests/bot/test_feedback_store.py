"""The user store's reports: feedback shares by flow and category (``--since``), the counts of
``snapfit stats`` / ``/stats``, and the read-only opening the CLI uses."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.userdata import Feedback, SqliteUserStore, UserStoreError
from bot.userdata.store import UserCounts, VoteCount

ANN, MINJI, JOON = 5151, 5252, 5353
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


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


def vote(user: int, flow: str, category: str | None, value: int) -> Feedback:
    return Feedback(user, flow, category, {"gender": None}, "tiny-model", (11, 12, 13), value)  # type: ignore[arg-type]


async def test_feedback_summary_by_flow_and_category(store: SqliteUserStore, clock: Clock) -> None:
    assert await store.feedback_summary() == (await store.feedback_summary(START))
    empty = await store.feedback_summary()
    assert empty.total == VoteCount() and empty.by_flow == {} and empty.by_category == {}
    assert empty.total.share_up is None
    for feedback in (
        vote(ANN, "photo", "001", 1),
        vote(ANN, "photo", "001", 1),
        vote(MINJI, "photo", None, -1),
        vote(MINJI, "text", "001", -1),
    ):
        await store.add_feedback(feedback)
    clock.now = START + timedelta(days=10)
    await store.add_feedback(vote(JOON, "garment", "002,003", 1))
    await store.add_feedback(vote(JOON, "similar", "001", 1))

    summary = await store.feedback_summary()
    assert summary.total == VoteCount(4, 2)
    assert summary.by_flow == {
        "photo": VoteCount(2, 1),
        "text": VoteCount(0, 1),
        "garment": VoteCount(1, 0),
        "similar": VoteCount(1, 0),
    }
    assert summary.by_category == {"001": VoteCount(3, 1), None: VoteCount(0, 1), "002,003": VoteCount(1, 0)}
    assert summary.by_flow["photo"].share_up == pytest.approx(2 / 3)
    recent = await store.feedback_summary(START + timedelta(days=5))
    assert recent.total == VoteCount(2, 0)
    assert recent.by_flow == {"garment": VoteCount(1, 0), "similar": VoteCount(1, 0)}


async def test_counts_of_users_saved_alerts_of_the_last_sync_and_feedback(
    store: SqliteUserStore, path: Path
) -> None:
    assert await store.counts() == UserCounts(0, 0, 0, VoteCount())
    await store.save_product(ANN, 101, price=30_000, sold_out=False)
    await store.save_product(ANN, 102, price=None, sold_out=True)
    await store.save_product(MINJI, 101, price=30_000, sold_out=False)
    await store.add_feedback(vote(JOON, "photo", None, -1))
    await store.add_feedback(vote(MINJI, "photo", None, 1))
    # alert_log rows as the alerts code writes them: two syncs, the later one with 2 sent and 1 failed.
    with sqlite3.connect(path) as raw:
        raw.executemany(
            "INSERT INTO alert_log (user_id, product_id, kind, price, sync_id, state, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (ANN, 101, "price_drop", 25_000, "sync-1", "sent", "2026-12-01T03:00:00.000000Z"),
                (ANN, 102, "restock", None, "sync-1", "sent", "2026-12-01T03:00:00.000000Z"),
                (MINJI, 101, "price_drop", 25_000, "sync-1", "sent", "2026-12-01T03:00:00.000000Z"),
                (ANN, 101, "price_drop", 20_000, "sync-2", "sent", "2026-12-02T03:00:00.000000Z"),
                (MINJI, 101, "price_drop", 20_000, "sync-2", "sent", "2026-12-02T03:00:00.000000Z"),
                (ANN, 102, "restock", None, "sync-2", "failed", "2026-12-02T03:00:00.000000Z"),
            ],
        )
        raw.executemany(
            "INSERT INTO alert_computations (sync_id, computed_at, alerts) VALUES (?, ?, ?)",
            [("sync-1", "2026-12-01T03:00:00.000000Z", 3), ("sync-2", "2026-12-02T03:00:00.000000Z", 3)],
        )
    assert await store.counts() == UserCounts(
        users_with_settings=3, saved_products=3, alerts_sent_last_sync=2, feedback=VoteCount(1, 1)
    )
    # A later sync that raised no alert: none sent by the last sync.
    with sqlite3.connect(path) as raw:
        raw.execute(
            "INSERT INTO alert_computations (sync_id, computed_at, alerts) VALUES (?, ?, ?)",
            ("sync-3", "2026-12-03T03:00:00.000000Z", 0),
        )
    assert (await store.counts()).alerts_sent_last_sync == 0


async def test_the_read_only_store_reads_while_the_bot_writes_and_writes_nothing(
    store: SqliteUserStore, path: Path, tmp_path: Path
) -> None:
    await store.add_feedback(vote(ANN, "photo", "001", 1))
    reader = await SqliteUserStore.open_read_only(path)
    try:
        assert (await reader.feedback_summary()).total == VoteCount(1, 0)
        await store.add_feedback(vote(ANN, "photo", "001", -1))  # the bot goes on writing
        assert (await reader.feedback_summary()).total == VoteCount(1, 1)
        with pytest.raises(UserStoreError, match="read-only"):
            await reader.add_feedback(vote(ANN, "photo", "001", 1))
    finally:
        await reader.close()
    missing = tmp_path / "none" / "users.sqlite3"
    with pytest.raises(UserStoreError, match="does not exist"):
        await SqliteUserStore.open_read_only(missing)
    assert not missing.parent.exists()  # nothing created


async def test_a_corrupt_file_is_a_store_error_when_read(tmp_path: Path) -> None:
    bad = tmp_path / "users.sqlite3"
    bad.write_bytes(b"\x00not a database\xff" * 300)
    with pytest.raises(UserStoreError, match="is corrupt"):
        reader = await SqliteUserStore.open_read_only(bad)
        try:
            await reader.counts()
        finally:
            await reader.close()
