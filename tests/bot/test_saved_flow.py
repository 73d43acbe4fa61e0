"""Saving products end to end: ⭐ under photo and text results, /saved with the price now (after the
catalog's price changed), gone products, remove, paging, the 200 cap, an expired search and a user
store that cannot be used; through build_application, real polling and the fake Telegram."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram.ext import Application

from bot.app import build_application
from bot.userdata import USERS_FILE, UserStore, user_store
from indexer.config import Settings
from tests.bot.conftest import World
from tests.bot.userdata_support import write
from tests.bot.world import WAIT, message_text, next_album, next_text, product_ids, running, services
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.server import Call

ANN = 7171  # English
MINJI = 7272  # Korean


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for button in FakeTelegram.buttons(message)]


def store_of(app: Application) -> UserStore:  # type: ignore[type-arg]
    store = user_store(app)
    assert store is not None
    return store


async def results(fake: FakeTelegram, chat_id: int, push: Callable[[], object]) -> tuple[list[int], Call]:
    """Search (a photo or words); the products shown and the results header with its buttons."""
    since = fake.mark()
    push()
    album = await next_album(fake, chat_id, since)
    header = await next_text(fake, chat_id, album.index, with_buttons=True)
    return product_ids(album), header


async def toast(fake: FakeTelegram, message: dict[str, Any], label: str | None = None, **press: Any) -> str:
    """Press a button of ``message`` (by ``label``, or ``callback_data=`` ...); the answer's text."""
    pressed = fake.press(message, text=label, **press) if label else fake.press(message, **press)
    qid = pressed["callback_query"]["id"]
    await fake.wait_until(lambda: fake.callback_answer(qid), WAIT, "an answer")
    return fake.callback_answer(qid).get("text", "")  # type: ignore[union-attr]


async def saved_list(fake: FakeTelegram, chat_id: int) -> Call:
    since = fake.mark()
    fake.push_message(chat_id, "/saved")
    return await next_text(fake, chat_id, since)


async def press_edit(fake: FakeTelegram, message: dict[str, Any], label: str) -> tuple[Call, str]:
    """Press ``label`` on a /saved page; the edit that follows and the press's answer."""
    since = fake.mark()
    answered = await toast(fake, message, label)
    edit = await fake.wait_for("editMessageText", timeout=WAIT, ok=True, since=since)
    return edit, answered


async def test_save_from_a_photo_twice_keeps_one_entry_and_saved_shows_the_price_change(
    bot: Application,  # type: ignore[type-arg]
    fake_telegram: FakeTelegram,
    world: World,
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    ids, header = await results(
        fake, ANN, lambda: fake.push_photo(ANN, world.musinsa.image_bytes(world.on_sale[0].id))
    )
    assert labels(header.result)[6:12] == [f"⭐{n}" for n in range(1, 7)]
    first, third = world.product(ids[0]), world.product(ids[2])
    name = first.name if len(first.name) <= 40 else first.name[:39].rstrip() + "…"
    assert await toast(fake, header.result, "⭐1") == f"⭐ Saved #1: {name}. See /saved"
    assert await toast(fake, header.result, "⭐1") == "#1 is already saved. See /saved"
    assert (await toast(fake, header.result, "⭐3")).startswith("⭐ Saved #3: ")
    store = store_of(bot)
    rows = await store.saved_products(ANN)
    assert [row.product_id for row in rows] == [third.id, first.id]  # one entry each, newest first
    assert (rows[1].saved_price, rows[1].saved_sold_out) == (first.effective_price, False)

    # The catalog changes: #1 gets cheaper and sells out, #3 leaves the index (Musinsa dropped it).
    catalog = services(bot).catalog
    cheaper = first.effective_price - 10_000 if first.effective_price > 20_000 else first.effective_price // 2
    drop = first.effective_price - cheaper
    await catalog.update_payload(
        [first.model_copy(update={"price": cheaper, "final_price": cheaper, "sold_out": True})]
    )
    await catalog.delete([third.id])
    page = await saved_list(fake, ANN)
    shown = message_text(page).split("\n\n")
    assert shown[0] == "⭐ Saved products · 1–2 of 2"
    assert (
        shown[1] == f"1. Product {third.id} · 🚫 no longer on Musinsa\nsaved at ₩{third.effective_price:,}\n"
        "View on Musinsa"
    )
    title, price, sold_out, link = shown[2].split("\n")
    assert title == f"2. {first.brand_name} · {first.name}"
    assert (
        price.startswith(f"₩{cheaper:,}") and f"· ▼ ₩{drop:,} (-" in price and price.endswith("since saved")
    )
    assert (sold_out, link) == ("⛔ Sold out", "View on Musinsa")
    assert labels(page.result) == ["✖ #1", "✖ #2"]  # one page: no Prev/Next

    # ✖ removes the gone product; the page is drawn again in place.
    edit, answered = await press_edit(fake, page.result, "✖ #1")
    assert answered == "Removed from your saved products."
    assert edit.result["message_id"] == page.result["message_id"]
    assert edit.result["text"].startswith("⭐ Saved products · 1–1 of 1\n\n1. ")
    assert [row.product_id for row in await store.saved_products(ANN)] == [first.id]
    edit, answered = await press_edit(fake, edit.result, "✖ #1")
    assert edit.result["text"].startswith("⭐ You haven't saved any products yet.")
    assert await store.saved_count(ANN) == 0


async def test_save_from_a_text_result_in_korean_and_an_expired_search(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    settings = make_settings()
    async with running(build_application(settings)) as app:
        ids, header = await results(fake, MINJI, lambda: fake.push_message(MINJI, "후드"))
        assert (await toast(fake, header.result, "⭐2")).startswith("⭐ #2 저장했어요: ")
        assert (
            await toast(fake, header.result, "⭐2") == "#2은(는) 이미 저장돼 있어요. /saved에서 볼 수 있어요"
        )
        assert [row.product_id for row in await store_of(app).saved_products(MINJI)] == [ids[1]]
        page = await saved_list(fake, MINJI)
        assert message_text(page).startswith(
            f"⭐ 저장한 상품 · 1개 중 1–1\n\n1. {world.product(ids[1]).brand_name}"
        )
        assert "저장 후 변동 없음" in message_text(page)
        since = fake.mark()
        fake.push_message(MINJI, "/help")
        help_text = message_text(await next_text(fake, MINJI, since))
        assert "결과 아래 ⭐n을 누르면 #n 상품이 저장돼요." in help_text
        assert "/saved — 저장한 상품 (결과 아래 ⭐)" in help_text
    async with running(build_application(settings)) as app:  # restarted: the search is gone, the save kept
        assert await toast(fake, header.result, "⭐3") == "이 검색은 만료되었어요. 사진을 다시 보내 주세요."
        assert [row.product_id for row in await store_of(app).saved_products(MINJI)] == [ids[1]]


async def test_saved_pages_page_in_place_and_a_removal_that_empties_a_page_shows_the_one_before(
    bot: Application,  # type: ignore[type-arg]
    fake_telegram: FakeTelegram,
    world: World,
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    store = store_of(bot)
    chosen = world.products[:11]
    for product in chosen:
        await store.save_product(ANN, product.id, price=product.effective_price, sold_out=product.sold_out)
    newest_first = [row.product_id for row in await store.saved_products(ANN)]
    page = await saved_list(fake, ANN)
    assert message_text(page).startswith("⭐ Saved products · 1–5 of 11\n\n1. ")
    assert labels(page.result) == [*(f"✖ #{k}" for k in range(1, 6)), "Next ▶"]
    edit, _ = await press_edit(fake, page.result, "Next ▶")
    assert edit.result["message_id"] == page.result["message_id"]
    assert edit.result["text"].startswith("⭐ Saved products · 6–10 of 11\n\n6. ")
    assert f"6. {world.product(newest_first[5]).brand_name} · " in edit.result["text"]
    assert labels(edit.result) == [*(f"✖ #{k}" for k in range(6, 11)), "◀ Prev", "Next ▶"]
    edit, _ = await press_edit(fake, edit.result, "Next ▶")
    assert edit.result["text"].startswith("⭐ Saved products · 11–11 of 11\n\n11. ")
    assert labels(edit.result) == ["✖ #11", "◀ Prev"]
    edit, answered = await press_edit(fake, edit.result, "✖ #11")
    assert answered == "Removed from your saved products."
    assert edit.result["text"].startswith("⭐ Saved products · 6–10 of 10\n\n6. ")
    assert labels(edit.result) == [*(f"✖ #{k}" for k in range(6, 11)), "◀ Prev"]
    assert newest_first[10] not in [row.product_id for row in await store.saved_products(ANN)]
    edit, _ = await press_edit(fake, edit.result, "◀ Prev")
    assert edit.result["text"].startswith("⭐ Saved products · 1–5 of 10\n\n1. ")
    # Someone else's press on this list (a group, a forwarded message) changes nothing.
    other = 7373
    fake.user(other, language_code="en")
    remove = FakeTelegram.buttons(edit.result)[0]["callback_data"]
    answered = await toast(fake, edit.result, callback_data=remove, user=other)
    assert answered == "This list belongs to someone else — send /saved to see yours."
    assert await store.saved_count(ANN) == 10


async def test_the_200th_product_is_the_last_one_saved(
    bot: Application,  # type: ignore[type-arg]
    fake_telegram: FakeTelegram,
    world: World,
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    store = store_of(bot)
    for n in range(200):  # seeded directly: ids the index does not hold
        await store.save_product(ANN, 90_000_000 + n, price=10_000, sold_out=False)
    ids, header = await results(
        fake, ANN, lambda: fake.push_photo(ANN, world.musinsa.image_bytes(world.on_sale[1].id))
    )
    assert await toast(fake, header.result, "⭐1") == (
        "You have 200 saved products, the most I keep. Remove some in /saved first."
    )
    assert await store.saved_count(ANN) == 200 and ids[0] not in {
        row.product_id for row in await store.saved_products(ANN)
    }
    page = await saved_list(fake, ANN)
    assert message_text(page).startswith("⭐ Saved products · 1–5 of 200\n\n1. Product 90000199 · 🚫 ")
    edit, _ = await press_edit(fake, page.result, "✖ #1")
    assert edit.result["text"].startswith("⭐ Saved products · 1–5 of 199\n\n")
    assert (await toast(fake, header.result, "⭐1")).startswith("⭐ Saved #1: ")
    assert await store.saved_count(ANN) == 200


async def test_an_unusable_user_store_refuses_saving_and_searches_go_on(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    settings = make_settings()
    settings.data.path.mkdir(parents=True, exist_ok=True)
    write(settings.data.path / USERS_FILE, b"\x00not an SQLite database\xff" * 200)
    async with running(build_application(settings)) as app:
        assert user_store(app) is None
        photo = world.musinsa.image_bytes(world.on_sale[2].id)
        ids, header = await results(fake, ANN, lambda: fake.push_photo(ANN, photo))
        assert ids and "⭐1" in labels(header.result)
        assert await toast(fake, header.result, "⭐1") == (
            "Saving products is unavailable right now. Please try again later; searches still work."
        )
        assert message_text(await saved_list(fake, MINJI)) == (
            "⚠️ 지금은 저장한 상품을 보여 드릴 수 없어요. 잠시 후 다시 시도해 주세요. 검색은 그대로 돼요."
        )
        more, _ = await results(fake, ANN, lambda: fake.press(header.result, text="More ▶"))
        assert more and not set(more) & set(ids)


async def test_a_store_that_fails_mid_run_answers_unavailable(
    bot: Application,  # type: ignore[type-arg]
    fake_telegram: FakeTelegram,
    world: World,
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    ids, header = await results(
        fake, ANN, lambda: fake.push_photo(ANN, world.musinsa.image_bytes(world.on_sale[3].id))
    )
    await store_of(bot).close()  # every call now raises UserStoreError ("... is closed")
    assert await toast(fake, header.result, "⭐2") == (
        "Saving products is unavailable right now. Please try again later; searches still work."
    )
    assert message_text(await saved_list(fake, ANN)).startswith(
        "⚠️ Your saved products can't be shown right now."
    )
    again, _ = await results(fake, ANN, lambda: fake.push_photo(ANN, world.musinsa.image_bytes(ids[1])))
    assert again
