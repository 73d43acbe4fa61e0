"""Alerts end to end: saved products, the real sync against the fake Musinsa (prices and stock changed
between runs), and the messages the fake Bot API records."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from telegram.ext import Application

from bot.alerts.runner import ALERTS_KEY, AlertRunner
from bot.app import build_application
from bot.userdata import user_store
from bot.userdata.sqlite import USERS_FILE
from bot.userdata.store import UserStore
from indexer.config import AlertSettings, Settings
from indexer.product import Product
from tests.bot.conftest import World
from tests.bot.test_nightly import sync_settings
from tests.bot.world import WAIT, buttons, message_text, next_text, running, services
from tests.fakes.musinsa_catalog import FakeCatalog
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.server import Call

ANN, MINJI, BORA = 7101, 7202, 7303
HEADERS = ("🔔 News about products you saved", "🔔 저장한 상품 소식")


@contextlib.contextmanager
def musinsa_changes(catalog: FakeCatalog) -> Iterator[FakeCatalog]:
    """Mutate the session's fake Musinsa inside the block; every product is put back after it."""
    saved = {goods_no: catalog.get(goods_no) for goods_no in catalog.ids()}
    try:
        yield catalog
    finally:
        for product in saved.values():
            catalog.add(product)


def alerts_to(fake: FakeTelegram, chat_id: int) -> list[Call]:
    return [
        call
        for call in fake.calls_of("sendMessage", ok=True)
        if call.params.get("chat_id") == chat_id and message_text(call).startswith(HEADERS)
    ]


def runner(app: Application) -> AlertRunner:  # type: ignore[type-arg]
    found = app.bot_data[ALERTS_KEY]
    assert isinstance(found, AlertRunner)
    return found


def store_of(app: Application) -> UserStore:  # type: ignore[type-arg]
    store = user_store(app)
    assert store is not None
    return store


async def sync_and_alert(app: Application) -> None:  # type: ignore[type-arg]
    """One sync as the nightly job runs it, then a pass (it waits for the one the sync started)."""
    summary = await services(app).nightly.run("test")  # type: ignore[union-attr]
    assert summary is not None and summary.ok, summary
    await runner(app).run_pass()


async def say(fake: FakeTelegram, chat_id: int, words: str) -> Call:
    since = fake.mark()
    fake.push_message(chat_id, words)
    return await next_text(fake, chat_id, since)


def cheaper(product: Product, percent: int) -> int:
    return product.effective_price * (100 - percent) // 100 // 10 * 10


def priced(world: World, at_least: int = 20_000) -> list[Product]:
    return [p for p in world.on_sale if p.effective_price >= at_least]


async def test_a_drop_above_the_threshold_and_a_restock_alert_once_and_a_small_drop_does_not(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="ko")
    fake.user(MINJI, language_code="en")
    fake.user(BORA, language_code="en")
    big, small = priced(world)[:2]
    back = world.sold_out[0]
    async with running(build_application(sync_settings(make_settings))) as app:
        store = store_of(app)
        for user in (ANN, MINJI, BORA):
            await store.save_product(user, big.id, price=big.effective_price, sold_out=False)
        await store.save_product(ANN, small.id, price=small.effective_price, sold_out=False)
        await store.save_product(ANN, back.id, price=back.effective_price, sold_out=True)
        state = await say(fake, ANN, "/alerts")  # also keeps ANN's Telegram language for the alert
        assert "켜져" in message_text(state) and buttons(state)[0]["callback_data"] == "v1:a:off"
        await say(fake, MINJI, "/help")
        assert message_text(await say(fake, BORA, "/alerts off")) == "🔕 Alerts turned off."

        with musinsa_changes(world.musinsa.catalog) as musinsa:
            musinsa.set_price(big.id, cheaper(big, 20))
            musinsa.set_price(small.id, small.effective_price - 500)  # under 1,000 won and 5 %
            musinsa.update(back.id, sold_out=False)
            await sync_and_alert(app)

            [to_ann] = alerts_to(fake, ANN)
            text = message_text(to_ann)
            assert text.startswith("🔔 저장한 상품 소식")
            assert f"{big.effective_price:,}원 → {cheaper(big, 20):,}원 (−20%)" in text
            assert "재입고" in text and back.name in text
            assert small.name not in text
            [to_minji] = alerts_to(fake, MINJI)
            assert f"₩{big.effective_price:,} → ₩{cheaper(big, 20):,} (−20%)" in message_text(to_minji)
            assert alerts_to(fake, BORA) == []  # alerts off
            links = {entity.get("url") for entity in to_ann.result.get("entities", [])}
            assert big.url in links

            # Another sync with nothing new, another pass: nothing is told twice.
            await sync_and_alert(app)
            await runner(app).run_pass()
            assert len(alerts_to(fake, ANN)) == len(alerts_to(fake, MINJI)) == 1
            told = {s.product_id: s.told_price for s in await store.saved_products(ANN)}
            assert told[big.id] == cheaper(big, 20) and told[small.id] == small.effective_price


async def test_a_user_who_blocked_the_bot_gets_alerts_turned_off_and_no_retry(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World, tmp_path: Path
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="en")
    product = priced(world)[2]
    async with running(build_application(sync_settings(make_settings))) as app:
        store = store_of(app)
        for user in (ANN, MINJI):
            await store.save_product(user, product.id, price=product.effective_price, sold_out=False)
        fake.block(ANN)
        with musinsa_changes(world.musinsa.catalog) as musinsa:
            musinsa.set_price(product.id, cheaper(product, 10))
            await sync_and_alert(app)
            assert len(alerts_to(fake, MINJI)) == 1
            settings = await store.get_settings(ANN)
            assert settings is not None and not settings.alerts
            with sqlite3.connect(tmp_path / "data" / USERS_FILE) as raw:
                states = dict(raw.execute("SELECT user_id, state FROM alert_log"))
            assert states == {ANN: "blocked", MINJI: "sent"}

            musinsa.set_price(product.id, cheaper(product, 40))  # another drop: ANN is not tried again
            await sync_and_alert(app)
            assert len(alerts_to(fake, MINJI)) == 2
        tried = [c for c in fake.calls_of("sendMessage") if c.params.get("chat_id") == ANN]
        assert len(tried) == 1


async def test_a_restart_in_the_middle_of_sending_neither_loses_nor_repeats(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World, tmp_path: Path
) -> None:
    fake = fake_telegram
    for user in (ANN, MINJI):
        fake.user(user, language_code="en")
    product = priced(world)[3]
    # One message every 100 s: the first user's goes at once, the second's waits, and the bot stops then.
    slow = sync_settings(make_settings).model_copy(update={"alerts": AlertSettings(messages_per_second=0.01)})
    database = tmp_path / "data" / USERS_FILE

    def sent_to(user: int) -> bool:
        with sqlite3.connect(database) as raw:
            row = raw.execute("SELECT state FROM alert_log WHERE user_id = ?", (user,)).fetchone()
        return row is not None and row[0] == "sent"

    with musinsa_changes(world.musinsa.catalog) as musinsa:
        async with running(build_application(slow)) as app:
            store = store_of(app)
            for user in (ANN, MINJI):
                await store.save_product(user, product.id, price=product.effective_price, sold_out=False)
            musinsa.set_price(product.id, cheaper(product, 10))
            summary = await services(app).nightly.run("test")  # type: ignore[union-attr]
            assert summary is not None and summary.ok
            await fake.wait_until(lambda: sent_to(ANN), WAIT, "the first alert recorded as sent")
        assert len(alerts_to(fake, ANN)) == 1 and alerts_to(fake, MINJI) == []

        async with running(build_application(sync_settings(make_settings))):  # resumes at start-up
            await fake.wait_until(lambda: sent_to(MINJI), WAIT, "the second alert after the restart")
        assert len(alerts_to(fake, ANN)) == 1 and len(alerts_to(fake, MINJI)) == 1


async def test_changes_saved_by_a_sync_in_another_process_are_picked_up_by_the_poll(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World, tmp_path: Path
) -> None:
    from indexer.sync.changes import PriceChange, PriceChanges, save_changes

    fake = fake_telegram
    fake.user(ANN, language_code="en")
    product = priced(world)[4]
    async with running(build_application(sync_settings(make_settings))) as app:
        assert app.job_queue is not None and app.job_queue.get_jobs_by_name("alerts-poll")
        await store_of(app).save_product(ANN, product.id, price=product.effective_price, sold_out=False)
        # What `snapfit schedule` leaves in the shared data folder.
        change = PriceChange(product.id, product.effective_price, cheaper(product, 30), False, False)
        save_changes(tmp_path / "data", PriceChanges(sync_id="2026-12-07T04:00:00+00:00", changes=[change]))
        await runner(app).run_pass()
        [message] = alerts_to(fake, ANN)
        assert f"₩{cheaper(product, 30):,} (−30%)" in message_text(message)
        await runner(app).run_pass()
        assert len(alerts_to(fake, ANN)) == 1
