"""Plain text messages end to end: words search by name (Korean and English), a pasted Musinsa link or
product number does what /similar does, another shop's link gets one line, and bad text gets a clear
one-line answer while the bot keeps working. Real kiwipiepy, the real index, the fake Bot API."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
from telegram.ext import Application

from bot.context import BotContext
from bot.preferences import set_user_filters
from indexer.store import SearchFilters
from indexer.text import MAX_QUERY_CHARS
from tests.bot.conftest import World
from tests.bot.world import WAIT, buttons, message_text, next_album, next_text, product_ids, services
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.server import Call

ANN = 8181  # English
MINJI = 8282  # Korean
GROUP = -8_300_001
BOT_NAME = "snapfit_test_bot"


async def results(fake: FakeTelegram, chat_id: int, push: Callable[[], object]) -> tuple[list[int], Call]:
    """Push something that searches; the album's product ids and the message with its buttons."""
    since = fake.mark()
    push()
    album = await next_album(fake, chat_id, since)
    keyboard = await next_text(fake, chat_id, album.index, with_buttons=True)
    return product_ids(album), keyboard


async def answer(fake: FakeTelegram, chat_id: int, push: Callable[[], object]) -> str:
    """Push something that is answered with one text message (no search results); that text."""
    since = fake.mark()
    push()
    reply = message_text(await next_text(fake, chat_id, since))
    assert not fake.calls_of("sendMediaGroup", since=since) and not fake.calls_of("sendPhoto", since=since)
    return reply


def labels(keyboard: Call) -> list[str]:
    return [button["text"] for button in buttons(keyboard)]


def named(world: World, *words: str) -> set[int]:
    """The products on sale whose name holds every one of ``words``."""
    return {p.id for p in world.on_sale if all(word in p.name for word in words)}


async def test_korean_words_search_by_name_and_page_on(
    bot: Application, fake_telegram: FakeTelegram, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    caplog.set_level(logging.INFO, logger="bot.timing")
    hoods = named(world, "후드")
    assert len(hoods) == 7  # hoodies and hooded zip-ups on sale: one page of 6 and one more
    first, keyboard = await results(fake, MINJI, lambda: fake.push_message(MINJI, "후드"))
    assert len(first) == 6 and set(first) <= hoods
    assert message_text(keyboard) == "🔤 “후드”\n🔎 검색 결과 1–6 · 전체"
    assert labels(keyboard)[:6] == [f"비슷한 #{n}" for n in range(1, 7)] and "더 보기 ▶" in labels(keyboard)
    await fake.wait_until(lambda: "text search ok" in caplog.text, WAIT, "the text search's timing line")
    # More continues the same words.
    second, more_keyboard = await results(fake, MINJI, lambda: fake.press(keyboard.result, text="더 보기 ▶"))
    assert set(first) | set(second) == hoods and len(second) == 1
    assert message_text(more_keyboard) == "🔤 “후드”\n🔎 검색 결과 7–7 · 전체"
    # Similar from a text result is visual similarity, in that product's own kind.
    kind = world.product(first[1]).category[:3]
    expected = await services(bot).catalog.similar(first[1], category=kind, limit=6)
    similar, _ = await results(fake, MINJI, lambda: fake.press(keyboard.result, text="비슷한 #2"))
    assert similar == [item.product.id for item in expected]
    # Two words: the products holding both come first.
    denim, _ = await results(fake, MINJI, lambda: fake.push_message(MINJI, "데님 팬츠"))
    assert set(denim[:4]) == named(world, "데님", "팬츠")


async def test_english_words_and_brands(bot: Application, fake_telegram: FakeTelegram, world: World) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    adidas = {p.id for p in world.on_sale if p.brand == "adidas"}
    assert len(adidas) >= 3
    ids, keyboard = await results(fake, ANN, lambda: fake.push_message(ANN, "adidas"))
    assert set(ids[: len(adidas)]) == adidas
    assert message_text(keyboard) == "🔤 “adidas”\n🔎 Results 1–6 · All"
    # A brand in Korean, with a word: the brand's hoodies first, then its other products.
    korean, _ = await results(fake, ANN, lambda: fake.push_message(ANN, "아디다스 후드"))
    both = {p.id for p in world.on_sale if p.brand == "adidas" and "후드" in p.name}
    assert both and set(korean[: len(both)]) == both


async def test_text_search_applies_the_users_filters_and_category(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    set_user_filters(BotContext(bot, user_id=ANN), SearchFilters(gender="men"))
    ids, _ = await results(fake, ANN, lambda: fake.push_message(ANN, "adidas"))
    women = {p.id for p in world.products if p.gender == "여성"}
    assert ids and not set(ids) & women
    assert {p.id for p in world.on_sale if p.brand == "adidas" and p.gender != "여성"} == set(ids[:3])
    # The user's category applies to text (not to similar): denim in tops finds nothing.
    since = fake.mark()
    fake.push_message(ANN, "/category tops")
    await next_text(fake, ANN, since)
    none = await answer(fake, ANN, lambda: fake.push_message(ANN, "데님 팬츠"))
    assert none == (
        "No products match “데님 팬츠” in tops. Try fewer words, or loosen your filters with /filter."
    )


async def test_no_results_suggest_fewer_words_or_clearing_filters(
    bot: Application, fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    none = await answer(fake, MINJI, lambda: fake.push_message(MINJI, "캐시미어 코트"))
    assert none == (
        "전체에서 “캐시미어 코트”에 맞는 상품을 찾지 못했어요. 단어를 줄이거나 /filter로 필터를 풀어 보세요."
    )


async def test_a_pasted_link_or_number_does_what_similar_does(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    target = world.in_category("002")[1]
    by_command, _ = await results(fake, ANN, lambda: fake.push_message(ANN, f"/similar {target.id}"))
    assert by_command and all(world.product(i).category.startswith("002") for i in by_command)
    for chat, message in (
        (ANN, str(target.id)),
        (ANN, f"{world.musinsa.url}/products/{target.id}"),
        (MINJI, f"https://www.musinsa.com/products/{target.id}?utm_source=share"),
        (MINJI, f"이거랑 비슷한 거 찾아줘 musinsa.com/products/{target.id}!"),
        (ANN, f"mss.kr/{target.id}"),
    ):
        ids, keyboard = await results(
            fake, chat, lambda chat=chat, message=message: fake.push_message(chat, message)
        )
        assert ids == by_command, message
        similar_to = "Similar to " if chat == ANN else ""
        assert message_text(keyboard).startswith(f"🔁 {similar_to}{target.brand_name} · ")


async def test_links_that_are_not_musinsa_products(bot: Application, fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    other = await answer(fake, ANN, lambda: fake.push_message(ANN, "https://www.29cm.co.kr/products/123456"))
    assert other == (
        "Only Musinsa product links work here (www.29cm.co.kr is another shop). Send a link like "
        "https://www.musinsa.com/products/3783092, or the product number."
    )
    elsewhere = "이거 있어요? zigzag.kr/catalog/products/9"
    korean = await answer(fake, MINJI, lambda: fake.push_message(MINJI, elsewhere))
    assert korean.startswith("무신사 상품 링크만 찾을 수 있어요 (zigzag.kr은(는) 다른 쇼핑몰이에요).")
    brand_page = await answer(
        fake, ANN, lambda: fake.push_message(ANN, "https://www.musinsa.com/brands/adidas")
    )
    assert brand_page.startswith("That Musinsa link does not point to a product; send a product number")
    too_long = await answer(fake, ANN, lambda: fake.push_message(ANN, "1" * 30))
    assert too_long.startswith("111111111111111111")  # "… is too long to be a Musinsa product number"
    assert "too long to be a Musinsa product number" in too_long


async def test_bad_text_gets_a_clear_one_line_answer(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    long = await answer(fake, ANN, lambda: fake.push_message(ANN, "black hoodie " * 40))  # 520 characters
    assert long == (
        f"That's too long to search (519 characters, at most {MAX_QUERY_CHARS}). "
        "Try a few words, like black wide slacks."
    )
    emoji = await answer(fake, MINJI, lambda: fake.push_message(MINJI, "😀🔥👍"))
    assert emoji == (
        "검색할 단어를 찾지 못했어요. 검정 후드, nike hoodie처럼 상품을 말로 적거나 사진을 보내 주세요."
    )
    symbols = await answer(fake, ANN, lambda: fake.push_message(ANN, "?!... ~~~ ♥"))
    assert symbols.startswith("I found no words to search in that.")
    blank = {
        "message": {
            "message_id": 901,
            "date": int(time.time()),
            "chat": {"id": ANN, "type": "private", "first_name": "Ann"},
            "from": {"id": ANN, "is_bot": False, "first_name": "Ann", "language_code": "en"},
            "text": " \n ",
        }
    }
    empty = await answer(fake, ANN, lambda: fake.push_update(blank))
    assert empty == "Type a few words to search, like black hoodie, or send a photo."
    for reply in (long, emoji, symbols, empty):
        assert "\n" not in reply
    # Markup is only words, and is shown back as the user wrote it (escaped, never parsed).
    markup = "<b>후드</b> <script>alert(1)</script>"
    ids, keyboard = await results(fake, ANN, lambda: fake.push_message(ANN, markup))
    assert ids and message_text(keyboard).startswith(f"🔤 “{markup}”\n")
    # SQL-looking text is only words too: a search, and the bot keeps working.
    ids, _ = await results(fake, ANN, lambda: fake.push_message(ANN, "'; DROP TABLE products; --"))
    assert ids
    denim, _ = await results(fake, ANN, lambda: fake.push_message(ANN, "데님 팬츠"))
    assert set(denim[:4]) == named(world, "데님", "팬츠")
    assert not [c for c in fake.calls_of("sendMessage") if c.ok and "Sorry" in c.result["text"]]


async def test_text_searches_are_claimed_like_photos(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    since = fake.mark()
    fake.push_message(ANN, "후드")
    fake.push_message(ANN, "데님 팬츠")
    busy = await next_text(fake, ANN, since, with_buttons=False)
    assert message_text(busy) == (
        "I'm still working on your previous search — send the next one when its results are in."
    )
    album = await next_album(fake, ANN, since)
    assert set(product_ids(album)) <= named(world, "후드")
    await next_text(fake, ANN, album.index, with_buttons=True)
    assert len(fake.calls_of("sendMediaGroup", since=since)) == 1


async def test_in_groups_only_texts_addressed_to_the_bot_are_searched(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, "Ann", language_code="en")
    since = fake.mark()
    fake.push_message(GROUP, "후드 살까 말까", user=ANN)  # the group's own conversation: left alone
    fake.push_message(GROUP, f"@{BOT_NAME} 데님 팬츠", user=ANN)
    album = await next_album(fake, GROUP, since)
    assert set(product_ids(album)[:4]) == named(world, "데님", "팬츠")
    keyboard = await next_text(fake, GROUP, album.index, with_buttons=True)
    assert message_text(keyboard).startswith("🔤 “데님 팬츠”\n")
    assert len(fake.calls_of("sendMediaGroup", since=since)) == 1
    # A reply to one of the bot's messages is addressed to it too.
    ids, _ = await results(
        fake, GROUP, lambda: fake.push_message(GROUP, "후드", user=ANN, reply_to=keyboard.result)
    )
    assert set(ids) <= named(world, "후드")
    # Only the mention: nothing to search.
    alone = await answer(fake, GROUP, lambda: fake.push_message(GROUP, f"@{BOT_NAME}", user=ANN))
    assert alone == "Type a few words to search, like black hoodie, or send a photo."
    await fake.wait_until(lambda: ANN not in services(bot).active, WAIT, "the last search to end")
    sent = [c for c in fake.calls_of("sendMessage", since=since) if c.params.get("chat_id") == GROUP]
    assert not any("후드 살까 말까" in c.result["text"] or "still working" in c.result["text"] for c in sent)
    assert len(fake.calls_of("sendMediaGroup", since=since)) == 2
