"""👍 / 👎 under result pages, /privacy, /forget and the users' numbers in /stats, through the fake Bot
API, with what the SQLite file holds checked directly."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from telegram.ext import Application

from bot.app import build_application
from bot.userdata import USERS_FILE
from indexer.config import Settings
from tests.bot.conftest import World
from tests.bot.test_bot_monitoring import port_of, scrape
from tests.bot.test_commands import command
from tests.bot.world import ADMIN, WAIT, buttons, message_text, next_album, next_text, product_ids, running
from tests.fakes.telegram import FakeTelegram

ANN = 6161  # English
MINJI = 6262  # Korean
EXPIRED = "This search has expired — please send the photo again."
GARBAGE = b"\x00this is not an SQLite database\xff" * 200


def rows(path: Path, table: str, user_id: int | None = None) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        where = f" WHERE user_id = {int(user_id)}" if user_id is not None else ""
        return [dict(row) for row in db.execute(f"SELECT * FROM {table}{where} ORDER BY 1, 2")]


async def photo_search(
    fake: FakeTelegram, world: World, user: int, product: int = 0
) -> tuple[list[int], Any]:
    """Send a product's photo; the album's product ids and the results header (with its buttons)."""
    since = fake.mark()
    fake.push_photo(user, world.musinsa.image_bytes(world.products[product].id))
    album = await next_album(fake, user, since)
    keyboard = await next_text(fake, user, album.index, with_buttons=True)
    return product_ids(album), keyboard


async def toast(fake: FakeTelegram, message: dict[str, Any], label: str, **press: Any) -> str:
    """Press ``label`` on ``message``; the text of the answer to the press."""
    query_id = fake.press(message, text=label, **press)["callback_query"]["id"]
    await fake.wait_until(lambda: fake.callback_answer(query_id), WAIT, "an answer")
    return fake.callback_answer(query_id).get("text") or ""


def votes_metric(body: str) -> dict[tuple[str, str], float]:
    found = {}
    for family in text_string_to_metric_families(body):
        if family.name == "snapfit_feedback_votes":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    found[sample.labels["flow"], sample.labels["vote"]] = sample.value
    return found


async def test_a_vote_stores_the_page_once_and_counts_it(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    settings = make_settings()
    users = settings.data.path / USERS_FILE
    async with running(build_application(settings)) as app:
        shown, keyboard = await photo_search(fake, world, ANN)
        assert [b["text"] for b in buttons(keyboard)][-3:] == ["👍", "👎", "Category: All ✏️"]
        assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(keyboard))
        assert await toast(fake, keyboard.result, "👍") == "Thanks!"
        [row] = rows(users, "feedback")
        assert row["user_id"] == ANN and row["flow"] == "photo" and row["vote"] == 1
        assert row["category"] is None
        assert json.loads(row["product_ids"]) == shown
        assert row["model_id"] == app.bot_data["snapfit.services"].encoder.model_id
        assert json.loads(row["filters"])["include_sold_out"] is not None  # the search's filters
        assert set(row) == {
            "id", "created_at", "user_id", "flow", "category", "filters", "model_id", "product_ids", "vote"
        }  # fmt: skip
        # A second press, either way, changes nothing: the first vote counts.
        assert await toast(fake, keyboard.result, "👎") == (
            "Thanks! You already rated this page; your first vote counts."
        )
        assert await toast(fake, keyboard.result, "👍") == (
            "Thanks! You already rated this page; your first vote counts."
        )
        assert len(rows(users, "feedback")) == 1
        # The next page has its own vote, with its own products.
        since = fake.mark()
        fake.press(keyboard.result, text="More ▶")
        album = await next_album(fake, ANN, since)
        page_two = await next_text(fake, ANN, album.index, with_buttons=True)
        assert await toast(fake, page_two.result, "👎") == "Thanks!"
        second = rows(users, "feedback")[1]
        assert second["vote"] == -1 and json.loads(second["product_ids"]) == product_ids(album)
        assert not set(json.loads(second["product_ids"])) & set(shown)
        # Korean, and a text search is its own flow; someone else's press is not theirs.
        since = fake.mark()
        fake.push_message(MINJI, "black hoodie")
        words = await next_text(fake, MINJI, since, with_buttons=True)
        assert (
            await toast(fake, words.result, "👍", user=ANN)
            == "These results belong to someone else's search — send your own photo to search."
        )
        assert await toast(fake, words.result, "👍") == "고마워요!"
        assert [(r["user_id"], r["flow"]) for r in rows(users, "feedback")][2:] == [(MINJI, "text")]
        _, metrics = await scrape(port_of(app))
        counted = votes_metric(metrics)
        assert counted["photo", "up"] == 1 and counted["photo", "down"] == 1
        assert counted["text", "up"] == 1 and counted["garment", "up"] == 0


async def test_an_expired_search_asks_for_a_new_one_and_stores_nothing(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    _, keyboard = await photo_search(fake, world, ANN)
    bot.bot_data["snapfit.services"].sessions.drop_user(ANN)  # as after a restart or the time limit
    assert await toast(fake, keyboard.result, "👍") == EXPIRED
    forged = fake.press(keyboard.result, "v1:fb:AAAAAAAA:1:u", check_button=False)["callback_query"]["id"]
    await fake.wait_until(lambda: fake.callback_answer(forged), WAIT, "an answer")
    assert fake.callback_answer(forged)["text"] == EXPIRED
    users = Path(bot.persistence.path)  # type: ignore[union-attr]
    assert rows(users, "feedback") == []


async def test_votes_and_forget_say_unavailable_when_the_store_is(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    settings = make_settings()
    settings.data.path.mkdir(parents=True, exist_ok=True)
    users = settings.data.path / USERS_FILE
    users.write_bytes(GARBAGE)
    async with running(build_application(settings)):
        _, keyboard = await photo_search(fake, world, ANN)  # searches work
        unavailable = "Sorry, feedback can't be saved right now. Please try again later."
        assert await toast(fake, keyboard.result, "👍") == unavailable
        assert await toast(fake, keyboard.result, "👍") == unavailable  # not counted as a vote either
        since = fake.mark()
        fake.push_message(ANN, "/forget")
        prompt = await next_text(fake, ANN, since, with_buttons=True)
        since = fake.mark()
        fake.press(prompt.result, text="🗑 Delete everything")
        edited = await fake.wait_for("editMessageText", None, WAIT, since=since)
        assert edited.result["text"].startswith(
            "Sorry, I can't delete your data right now: nothing was deleted."
        )
    assert users.read_bytes() == GARBAGE


async def test_privacy_says_what_is_stored_and_for_how_long(
    bot: Application, fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    english = await command(fake, ANN, "/privacy")
    for words in ("settings", "save", "alerts", "votes", "photos", "until you use /forget", "/forget"):
        assert words in english
    assert "Never stored: your photos" in english
    korean = await command(fake, MINJI, "/privacy")
    assert "/forget을 쓸 때까지" in korean and "사진" in korean
    helped = await command(fake, ANN, "/help")
    assert "/privacy — What snapfit stores about you" in helped
    assert "/forget — Delete everything stored about you" in helped


async def seed(fake: FakeTelegram, world: World, users: Path, user: int) -> None:
    """A category, two votes and an alert row (as the alerts code writes them) for ``user``."""
    biggest = max(("001", "002", "003", "004"), key=lambda code: len(world.in_category(code)))
    assert len(world.in_category(biggest)) > 6  # two pages
    await command(fake, user, f"/category {biggest}")
    _, keyboard = await photo_search(fake, world, user)
    assert await toast(fake, keyboard.result, "👍") in ("Thanks!", "고마워요!")
    since = fake.mark()
    fake.press(keyboard.result, text="More ▶")
    page_two = await next_text(fake, user, (await next_album(fake, user, since)).index, with_buttons=True)
    await toast(fake, page_two.result, "👎")
    with sqlite3.connect(users) as db:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(
            "INSERT INTO saved_products (user_id, product_id, saved_price, saved_sold_out, told_price, "
            "told_sold_out, saved_at) VALUES (?, 101, 30000, 0, 30000, 0, '2026-12-01T00:00:00.000000Z')",
            (user,),
        )
        db.execute(
            "INSERT INTO alert_log (user_id, product_id, kind, price, sync_id, state, created_at) "
            "VALUES (?, 101, 'price_drop', 25000, 'sync-1', 'sent', '2026-12-01T03:00:00.000000Z')",
            (user,),
        )
        db.execute(
            "INSERT OR IGNORE INTO alert_computations (sync_id, computed_at, alerts) "
            "VALUES ('sync-1', '2026-12-01T03:00:00.000000Z', 1)"
        )


def everything(users: Path, user: int) -> dict[str, int]:
    return {
        table: len(rows(users, table, user))
        for table in ("user_settings", "saved_products", "alert_log", "feedback")
    }


async def test_forget_cancel_deletes_nothing_and_confirm_deletes_everything(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="en")
    settings = make_settings()
    users = settings.data.path / USERS_FILE
    async with running(build_application(settings)) as app:
        await seed(fake, world, users, ANN)
        await seed(fake, world, users, MINJI)
        full = {"user_settings": 1, "saved_products": 1, "alert_log": 1, "feedback": 2}
        assert everything(users, ANN) == everything(users, MINJI) == full
        # Cancel: nothing deleted. Another user's press on the buttons does nothing.
        since = fake.mark()
        fake.push_message(ANN, "/forget")
        prompt = await next_text(fake, ANN, since, with_buttons=True)
        assert message_text(prompt).startswith("Delete everything snapfit stores about you")
        assert await toast(fake, prompt.result, "🗑 Delete everything", user=MINJI) == (
            "Only the person who asked can answer this. Send /forget to delete your own data."
        )
        since = fake.mark()
        fake.press(prompt.result, text="Cancel")
        edited = await fake.wait_for("editMessageText", None, WAIT, since=since)
        assert edited.result["text"] == "Cancelled: nothing was deleted."
        assert "reply_markup" not in edited.result
        assert everything(users, ANN) == full
        # Confirm: every row about Ann goes, Minji's stay; Ann's settings are the defaults again.
        since = fake.mark()
        fake.push_message(ANN, "/forget")
        prompt = await next_text(fake, ANN, since, with_buttons=True)
        since = fake.mark()
        fake.press(prompt.result, text="🗑 Delete everything")
        edited = await fake.wait_for("editMessageText", None, WAIT, since=since)
        assert edited.result["text"].startswith(
            "🗑 Deleted everything about you: settings (1), saved products (1), alert history (1), votes (2)."
        )
        assert everything(users, ANN) == dict.fromkeys(full, 0)
        assert everything(users, MINJI) == full
        assert "Current category: All" in await command(fake, ANN, "/help")
        assert not [
            s for s in app.bot_data["snapfit.services"].sessions._sessions.values() if s.user_id == ANN
        ]
    # Nothing of Ann came back when the bot wrote its last changes at shutdown.
    assert everything(users, ANN) == dict.fromkeys(full, 0)
    assert everything(users, MINJI) == full


async def test_stats_shows_the_users_numbers(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ADMIN, language_code="ko")
    fake.user(ANN, language_code="en")
    settings = make_settings()
    users = settings.data.path / USERS_FILE
    async with running(build_application(settings)):
        await seed(fake, world, users, ANN)
        stats = await command(fake, ADMIN, "/stats")
        assert (
            "사용자: 설정 있는 사용자 1명 · 저장한 상품 1개 · 마지막 동기화 알림 1건 · 평가 👍 1 / 👎 1"
            in stats
        )
