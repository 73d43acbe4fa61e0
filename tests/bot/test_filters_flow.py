"""Filters, captions and settings end to end: /filter (menu and typed ranges), a photo's caption, the
results header's filters and its clear button, /settings' language; through build_application, real
polling and the fake Telegram."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram.ext import Application

from bot.app import build_application
from indexer.config import Settings
from indexer.product import Product
from tests.bot.conftest import World
from tests.bot.test_garment_pick import an_outfit, garment_bot, question
from tests.bot.world import WAIT, message_text, next_album, next_text, product_ids, running
from tests.clothes_parser.planted import TOP_AND_PANTS, PlantedSegmenter
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.server import Call

ANN = 6161  # English
MINJI = 6262  # Korean
FILTER_MENU_EN = [
    "~₩30k",
    "~₩50k",
    "~₩100k",
    "₩100k+",
    "✓ Any price",
    "✓ All genders",
    "Men",
    "Women",
    "✓ Hide sold-out",
    "Show sold-out",
    "✖ Clear all",
]
EXAMPLES_EN = "Try for example /filter 3-8만원, /filter 30000-80000 or /filter under 50000."
EXAMPLES_KO = "예: /filter 3-8만원, /filter 5만원 이하, /filter 10만원 이상"


async def command(fake: FakeTelegram, chat_id: int, text: str) -> Call:
    """Send a message; the bot's next message in that chat."""
    since = fake.mark()
    fake.push_message(chat_id, text)
    return await next_text(fake, chat_id, since)


async def press_edit(fake: FakeTelegram, message: dict[str, Any], label: str) -> tuple[Call, dict[str, Any]]:
    """Press ``label`` on ``message``; the edit that follows and the press."""
    since = fake.mark()
    press = fake.press(message, text=label)
    edit = await fake.wait_for("editMessageText", timeout=WAIT, ok=True, since=since)
    await fake.wait_until(lambda: fake.callback_answer(press["callback_query"]["id"]), WAIT, "an answer")
    return edit, press


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for button in FakeTelegram.buttons(message)]


async def photo(
    fake: FakeTelegram, chat_id: int, image: bytes, caption: str | None = None
) -> tuple[list[int], Call]:
    """Send a photo; the products of the album and the results header (with its buttons) after it."""
    since = fake.mark()
    fake.push_photo(chat_id, image, caption)
    album = await next_album(fake, chat_id, since)
    header = await next_text(fake, chat_id, album.index, with_buttons=True)
    return product_ids(album), header


def on_sale(world: World, keep: Callable[[Product], bool] = lambda product: True) -> list[Product]:
    return [product for product in world.products if not product.sold_out and keep(product)]


async def test_the_filter_menu_edits_in_place_and_its_choices_survive_a_restart(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    settings = make_settings()
    async with running(build_application(settings)):
        menu = await command(fake, ANN, "/filter")
        assert message_text(menu) == (
            "Filters (for every search)\nPrice: any price\nGender: all\nSold-out items: hidden\n\n"
            "Tap to change, or type a range: /filter 3-8만원"
        )
        assert labels(menu.result) == FILTER_MENU_EN
        edit, _ = await press_edit(fake, menu.result, "~₩100k")
        assert edit.result["message_id"] == menu.result["message_id"]  # in place
        assert "Price: up to ₩100,000\n" in edit.result["text"]
        assert labels(edit.result)[:5] == ["~₩30k", "~₩50k", "✓ ~₩100k", "₩100k+", "Any price"]
        edit, _ = await press_edit(fake, edit.result, "Women")
        edit, _ = await press_edit(fake, edit.result, "Show sold-out")
        assert "Price: up to ₩100,000\nGender: women\nSold-out items: shown\n" in edit.result["text"]
        assert {"✓ Women", "✓ Show sold-out"} <= set(labels(edit.result))
    async with running(build_application(settings)):  # restarted: the choices were kept
        menu = await command(fake, ANN, "/filter")
        assert "Price: up to ₩100,000\nGender: women\nSold-out items: shown\n" in message_text(menu)
        allowed = {p.id for p in world.products if p.effective_price <= 100_000 and p.gender != "남성"}
        target = next(p for p in world.products if p.id in allowed)
        ids, header = await photo(fake, ANN, world.musinsa.image_bytes(target.id))
        assert ids[0] == target.id and len(ids) == 6 and set(ids) <= allowed
        assert message_text(header) == (
            "🔎 Results 1–6 · All\nFilters: up to ₩100,000 · women · incl. sold out"
        )
        assert labels(header.result)[-1] == "✖ Clear filters"
        edit, _ = await press_edit(fake, menu.result, "✖ Clear all")
        assert "Price: any price\nGender: all\nSold-out items: hidden\n" in edit.result["text"]
        assert labels(edit.result) == FILTER_MENU_EN
        ids, header = await photo(fake, ANN, world.musinsa.image_bytes(target.id))
        assert message_text(header) == "🔎 Results 1–6 · All"
        assert "✖ Clear filters" not in labels(header.result)


async def test_typed_ranges_and_the_reasons_for_unreadable_ones(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    assert message_text(await command(fake, ANN, "/filter 3-8만원")) == (
        "Price filter set: ₩30,000–₩80,000. Filters now: ₩30,000–₩80,000. Send a photo to search."
    )
    assert message_text(await command(fake, MINJI, "/filter 30000-80000")) == (
        "가격 필터를 30,000원~80,000원(으)로 정했어요. 현재 필터: 30,000원~80,000원. "
        "사진을 보내 검색해 보세요."
    )
    assert message_text(await command(fake, MINJI, "/filter 5만원 이하")).startswith(
        "가격 필터를 50,000원 이하(으)로 정했어요."
    )
    refusals = {
        "/filter 8-3만원": "The lowest price (₩80,000) is above the highest (₩30,000).",
        "/filter 999조원": "₩999,000,000,000,000 is more than any product costs (at most ₩100,000,000).",
        "/filter -5000": "A price can't be negative (-5000).",
        "/filter cheap stuff": "I couldn't read “cheap stuff” as a price range.",
        "/filter 3-8": "₩8 is too low for a price — did you mean 8만원?",
        "/filter <b>5</b>; DROP TABLE": "I couldn't read “<b>5</b>; DROP TABLE” as a price range.",
    }
    for typed, reason in refusals.items():
        answer = await command(fake, ANN, typed)
        assert message_text(answer) == f"{reason} {EXAMPLES_EN}"
        assert "\n" not in message_text(answer)
    korean = await command(fake, MINJI, "/filter 싼 거")
    assert message_text(korean) == f"“싼 거”을(를) 가격 범위로 읽지 못했어요. {EXAMPLES_KO}"
    # A refused range changed nothing; the saved one applies to photos.
    assert "Price: ₩30,000–₩80,000\n" in message_text(await command(fake, ANN, "/filter"))
    allowed = {p.id for p in on_sale(world, lambda p: 30_000 <= p.effective_price <= 80_000)}
    target = next(p for p in world.products if p.id in allowed)
    ids, header = await photo(fake, ANN, world.musinsa.image_bytes(target.id))
    assert ids[0] == target.id and set(ids) <= allowed and len(ids) == min(6, len(allowed))
    assert message_text(header) == f"🔎 Results 1–{len(ids)} · All\nFilters: ₩30,000–₩80,000"


async def test_a_caption_refines_that_one_search(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    fake.user(ANN, language_code="en")
    allowed = {
        p.id
        for p in on_sale(world, lambda p: p.category.startswith("103") and p.gender != "남성")
        if p.effective_price <= 200_000
    }
    target = next(p for p in world.products if p.id in allowed)
    since = fake.mark()
    ids, header = await photo(
        fake, MINJI, world.musinsa.image_bytes(world.products[0].id), "신발 여성 20만원 이하"
    )
    assert set(ids) == allowed
    assert message_text(header) == (
        f"🔎 검색 결과 1–{len(ids)} · 신발\n필터: 200,000원 이하 · 여성\n"
        "캡션에서: “20만원 이하”, “여성”, “신발”"
    )
    assert "✖ 필터 지우기" not in labels(header.result)  # nothing saved to clear
    assert not [c for c in fake.calls_of("sendMessage", since=since) if c.index < header.index]  # no note
    # Only that search: the saved filters and category are as they were.
    assert "가격: 모든 가격\n성별: 전체\n" in message_text(await command(fake, MINJI, "/filter"))
    ids, _ = await photo(fake, MINJI, world.musinsa.image_bytes(target.id))
    assert {world.product(i).category[:3] for i in ids} != {"103"}
    # English, over saved filters: the caption's price replaces the saved range.
    await command(fake, ANN, "/filter 10만+")
    pants = {
        p.id for p in on_sale(world, lambda p: p.category.startswith("003") and p.effective_price <= 100_000)
    }
    ids, header = await photo(fake, ANN, world.musinsa.image_bytes(target.id), "pants under 100k")
    assert set(ids) == pants
    assert message_text(header).endswith(
        "\nFilters: up to ₩100,000\nFrom your caption: “under 100k”, “pants”"
    )
    assert labels(header.result)[-1] == "✖ Clear filters"  # the saved ₩100,000 and up


async def test_a_caption_with_nothing_to_use_is_said_briefly_and_the_photo_searched(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    target = on_sale(world)[3]
    since = fake.mark()
    ids, header = await photo(fake, ANN, world.musinsa.image_bytes(target.id), "look at this!!")
    note = await next_text(fake, ANN, since)
    assert note.index < header.index
    assert message_text(note).startswith("I searched the photo alone: I found no price, gender or category")
    assert "under 50000" in message_text(note) and "여성" not in message_text(note)
    assert ids[0] == target.id and message_text(header) == "🔎 Results 1–6 · All"
    since = fake.mark()
    ids, header = await photo(fake, MINJI, world.musinsa.image_bytes(target.id), "이거 어디 거예요?")
    assert message_text(await next_text(fake, MINJI, since)).startswith(
        "캡션에서 가격·성별·카테고리를 찾지 못해"
    )
    # A price that cannot apply is left out, with its reason; the rest of the caption still applies.
    since = fake.mark()
    ids, header = await photo(fake, ANN, world.musinsa.image_bytes(target.id), "shoes 999조원")
    assert message_text(await next_text(fake, ANN, since)) == (
        "I left out the caption's price: ₩999,000,000,000,000 is more than any product costs "
        "(at most ₩100,000,000)."
    )
    assert {world.product(i).category[:3] for i in ids} == {"103"}
    assert message_text(header).endswith("From your caption: “shoes”")


async def test_one_tap_clears_the_saved_filters(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    await command(fake, ANN, "/filter 3만원 이상")
    target = on_sale(world, lambda p: p.effective_price >= 30_000)[0]
    _, header = await photo(fake, ANN, world.musinsa.image_bytes(target.id))
    assert message_text(header) == "🔎 Results 1–6 · All\nFilters: ₩30,000 and up"
    since = fake.mark()
    press = fake.press(header.result, text="✖ Clear filters")
    cleared = await next_text(fake, ANN, since)
    assert message_text(cleared) == (
        "Filters cleared: every price and gender, sold-out items hidden. Search again to see more."
    )
    assert fake.callback_answer(press["callback_query"]["id"])["text"] == "Filters cleared"
    assert "Price: any price\nGender: all\n" in message_text(await command(fake, ANN, "/filter"))
    again = fake.press(header.result, text="✖ Clear filters")
    await fake.wait_until(lambda: fake.callback_answer(again["callback_query"]["id"]), WAIT, "an answer")
    assert fake.callback_answer(again["callback_query"]["id"])["text"] == "No saved filters to clear"


async def test_settings_switch_the_language_and_open_the_other_menus(
    bot: Application, fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    settings = await command(fake, ANN, "/settings")
    assert message_text(settings) == "Settings\nLanguage: auto (Telegram's)\nFilters: none\nCategory: All"
    assert labels(settings.result) == ["✓ Auto", "한국어", "English", "⚙️ Filters", "🗂 Category"]
    edit, press = await press_edit(fake, settings.result, "한국어")
    assert edit.result["text"] == "설정\n언어: 한국어\n필터: 없음\n카테고리: 전체"
    assert labels(edit.result) == ["자동", "✓ 한국어", "English", "⚙️ 필터", "🗂 카테고리"]
    assert fake.callback_answer(press["callback_query"]["id"])["text"] == "언어: 한국어"
    assert message_text(await command(fake, ANN, "/help")).startswith("👋 snapfit은")
    since = fake.mark()
    fake.press(edit.result, text="⚙️ 필터")
    menu = await next_text(fake, ANN, since, with_buttons=True)
    assert message_text(menu).startswith("필터 (모든 검색에 적용)\n가격: 모든 가격")
    since = fake.mark()
    fake.press(edit.result, text="🗂 카테고리")
    categories = await next_text(fake, ANN, since, with_buttons=True)
    assert message_text(categories) == "검색할 카테고리를 고르세요 (현재: 전체):"
    edit, _ = await press_edit(fake, edit.result, "English")
    assert edit.result["text"].startswith("Settings\nLanguage: English\n")
    edit, _ = await press_edit(fake, edit.result, "Auto")
    assert edit.result["text"].startswith("Settings\nLanguage: auto (Telegram's)\n")
    assert message_text(await command(fake, ANN, "/help")).startswith("👋 snapfit finds")


async def test_a_captions_scope_waits_with_the_garment_question(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    async with garment_bot(make_settings, PlantedSegmenter(TOP_AND_PANTS)):
        since = fake.mark()
        fake.push_photo(ANN, an_outfit(world), "women")
        asked = await question(fake, ANN, since)
        since = fake.mark()
        fake.press(asked.result, text="2 👖 Pants")
        album = await next_album(fake, ANN, since)
        ids = product_ids(album)
        women_pants = {
            p.id for p in on_sale(world, lambda p: p.category.startswith("003") and p.gender != "남성")
        }
        assert set(ids) == women_pants
        header = await next_text(fake, ANN, album.index, with_buttons=True)
        assert message_text(header) == (
            f"🔎 👖 Pants · results 1–{len(ids)} · pants\nFilters: women\nFrom your caption: “women”"
        )


async def test_no_results_under_filters_says_they_may_be_why(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    await command(fake, MINJI, "/filter 1천원 이하")  # nothing in the catalog costs that little
    since = fake.mark()
    fake.push_photo(MINJI, world.musinsa.image_bytes(world.products[0].id))
    answer = await next_text(fake, MINJI, since)
    assert message_text(answer).endswith(
        "\n필터(1,000원 이하) 때문에 결과가 적을 수 있어요. /filter로 바꿀 수 있어요."
    )
    assert not fake.calls_of("sendMediaGroup", since=since)
