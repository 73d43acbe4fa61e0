"""``snapfit feedback`` (shares of 👍 per flow and category, ``--since``, ``--json``, no database,
a corrupt one) and the users' numbers in ``snapfit stats``, on a user database seeded by the store."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from bot.userdata import USERS_FILE, Feedback, SqliteUserStore

runner = CliRunner()
ANN, MINJI, JOON = 5151, 5252, 5353
GARBAGE = b"\x00this is not an SQLite database\xff" * 200


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "qdrant"}"\n[data]\ndir = "{tmp_path / "data"}"\n')
    return path


def seed(tmp_path: Path) -> Path:
    """Votes 20 days ago (2 photo 👍, 1 photo 👎 in all categories) and 1 day ago (text 👎 and a
    garment 👍 in tops, similar 👍 in tops), a saved product and the alerts of two syncs."""
    users = tmp_path / "data" / USERS_FILE
    users.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)

    async def write() -> None:
        moment = now - timedelta(days=20)
        store = await SqliteUserStore.open(users, clock=lambda: moment)
        try:
            for user, flow, category, value in (
                (ANN, "photo", None, 1),
                (ANN, "photo", None, 1),
                (MINJI, "photo", None, -1),
            ):
                await store.add_feedback(Feedback(user, flow, category, {}, "m", (1, 2), value))
            await store.save_product(ANN, 7, price=10_000, sold_out=False)
            moment = now - timedelta(days=1)
            for user, flow, category, value in (
                (JOON, "text", "001", -1),
                (JOON, "garment", "001", 1),
                (MINJI, "similar", "001", 1),
            ):
                await store.add_feedback(Feedback(user, flow, category, None, "m", (3,), value))
        finally:
            await store.close()

    asyncio.run(write())
    with closing(sqlite3.connect(users)) as db, db:
        db.executemany(
            "INSERT INTO alert_log (user_id, product_id, kind, price, sync_id, state, created_at) "
            "VALUES (?, 7, 'price_drop', 9000, ?, ?, ?)",
            [
                (ANN, "old", "sent", "2026-11-01T03:00:00.000000Z"),
                (MINJI, "old", "sent", "2026-11-01T03:00:00.000000Z"),
                (ANN, "new", "sent", "2026-11-02T03:00:00.000000Z"),
                (MINJI, "new", "blocked", "2026-11-02T03:00:00.000000Z"),
            ],
        )
        db.executemany(
            "INSERT INTO alert_computations (sync_id, computed_at, alerts) VALUES (?, ?, 2)",
            [("old", "2026-11-01T03:00:00.000000Z"), ("new", "2026-11-02T03:00:00.000000Z")],
        )
    return users


def test_feedback_shares_per_flow_and_category(tmp_path: Path) -> None:
    path = config(tmp_path)
    users = seed(tmp_path)
    before = users.read_bytes()
    result = runner.invoke(app, ["feedback", "-c", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["since"] is None
    assert report["total"] == {"up": 4, "down": 2, "votes": 6, "share_up": 0.6667}
    assert report["by_flow"] == {
        "garment": {"up": 1, "down": 0, "votes": 1, "share_up": 1.0},
        "photo": {"up": 2, "down": 1, "votes": 3, "share_up": 0.6667},
        "similar": {"up": 1, "down": 0, "votes": 1, "share_up": 1.0},
        "text": {"up": 0, "down": 1, "votes": 1, "share_up": 0.0},
    }
    assert report["by_category"] == {
        "001": {"up": 2, "down": 1, "votes": 3, "share_up": 0.6667},
        "all": {"up": 2, "down": 1, "votes": 3, "share_up": 0.6667},
    }
    result = runner.invoke(app, ["feedback", "-c", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "6 votes (all time): 67 % 👍 (4 👍, 2 👎)" in result.stdout
    assert "photo" in result.stdout and "001 tops" in result.stdout and "all categories" in result.stdout
    # --since: only the last week's votes.
    result = runner.invoke(app, ["feedback", "-c", str(path), "--since", "7", "--json"])
    assert result.exit_code == 0, result.stderr
    recent = json.loads(result.stdout)
    assert recent["since"] is not None
    assert recent["total"] == {"up": 2, "down": 1, "votes": 3, "share_up": 0.6667}
    assert set(recent["by_flow"]) == {"text", "garment", "similar"} and set(recent["by_category"]) == {"001"}
    result = runner.invoke(app, ["feedback", "-c", str(path), "--since", "0.5"])
    assert result.exit_code == 0 and result.stdout.strip() == "no feedback in the last 0.5 days"
    assert users.read_bytes() == before  # read only


def test_feedback_without_a_database_says_no_feedback_yet(tmp_path: Path) -> None:
    path = config(tmp_path)
    result = runner.invoke(app, ["feedback", "-c", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "no feedback yet"
    result = runner.invoke(app, ["feedback", "-c", str(path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "since": None,
        "total": {"up": 0, "down": 0, "votes": 0, "share_up": None},
        "by_flow": {},
        "by_category": {},
    }
    assert not (tmp_path / "data").exists()  # nothing created


def test_a_corrupt_database_is_one_line_and_exit_1(tmp_path: Path) -> None:
    path = config(tmp_path)
    users = tmp_path / "data" / USERS_FILE
    users.parent.mkdir(parents=True)
    users.write_bytes(GARBAGE)
    result = runner.invoke(app, ["feedback", "-c", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("snapfit: cannot read the feedback: ") and "is corrupt" in line
    # stats still works, and says why it has no users' numbers.
    result = runner.invoke(app, ["stats", "-c", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["users"] is None and "is corrupt" in stats["users_error"]
    assert users.read_bytes() == GARBAGE


def test_stats_shows_the_users_numbers(tmp_path: Path) -> None:
    path = config(tmp_path)
    seed(tmp_path)
    result = runner.invoke(app, ["stats", "-c", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    stats = json.loads(result.stdout)
    assert {"products", "by_category", "model", "dimension", "last_sync"} <= set(stats)  # kept
    assert stats["users"] == {
        "users_with_settings": 3,
        "saved_products": 1,
        "alerts_sent_last_sync": 1,  # the latest sync: one sent, one blocked
        "feedback": {"up": 4, "down": 2},
    }
    result = runner.invoke(app, ["stats", "-c", str(path)])
    assert (
        "users: 3 with settings, 1 saved products, 1 alerts sent by the last sync, feedback 4 up / 2 down"
        in result.stdout
    )
