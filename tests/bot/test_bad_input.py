"""Bad input and limits, end to end: every case gets a clear answer and the bot keeps working."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from telegram.ext import Application

from bot.app import build_application
from bot.messages import image_error_text, text
from indexer.config import Settings
from tests.bot.conftest import World
from tests.bot.world import WAIT, message_text, next_album, next_text, product_ids, running, services
from tests.fakes.telegram import FakeTelegram
from tests.image_corpus import bad_cases, case

ANN = 6161  # English
MINJI = 6262  # Korean
MIME = {
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "svg": "image/svg+xml",
}


async def reply_to(fake: FakeTelegram, chat_id: int, push: Callable[[], object]) -> str:
    since = fake.mark()
    push()
    return message_text(await next_text(fake, chat_id, since))


def plain(html: str) -> str:
    from tests.fakes.telegram.formatting import format_text

    return format_text(html, "HTML", None).text


async def test_every_bad_image_of_the_corpus_gets_its_own_answer(
    bot: Application, fake_telegram: FakeTelegram
) -> None:
    """Each corpus case is sent as an image file (a phone sends any file it calls an image so)."""
    fake = fake_telegram
    cases = bad_cases()
    since = fake.mark()
    for index, item in enumerate(cases):
        user = 20_000 + index  # one user each: no case waits for another
        fake.user(user, language_code="ko" if index % 2 else "en")
        extension = item.name.split("_")[0]
        fake.push_document(user, item.data, MIME.get(extension, "image/jpeg"), file_name=f"{item.name}.img")
    for index, item in enumerate(cases):
        user = 20_000 + index
        reply = await fake.wait_for(
            "sendMessage", lambda c, u=user: c.params["chat_id"] == u, WAIT, since=since
        )
        lang = "ko" if index % 2 else "en"
        assert message_text(reply) == plain(image_error_text(lang, item.error)), item.name
    assert not fake.calls_of("sendMediaGroup", since=since)
    # Only the file over [images] max_bytes was refused without downloading it.
    assert len(fake.calls_of("getFile", since=since)) == len(cases) - 1


async def test_broken_photos(bot: Application, fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    truncated = await reply_to(fake, ANN, lambda: fake.push_photo(ANN, case("truncated_jpeg").data))
    assert truncated == plain(image_error_text("en", "truncated"))
    bomb = await reply_to(fake, ANN, lambda: fake.push_photo(ANN, case("bomb_png_20000x20000").data))
    assert bomb == plain(image_error_text("en", "too_many_pixels"))


async def test_too_big_for_telegram(bot: Application, fake_telegram: FakeTelegram, world: World) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    photo = world.musinsa.image_bytes(world.products[0].id)
    since = fake.mark()
    huge = await reply_to(fake, ANN, lambda: fake.push_photo(ANN, photo, file_size=25 * 1024 * 1024))
    assert huge.startswith(
        "That file is too big for me to download (25.0 MB; Telegram lets bots download up to 20 MB)"
    )
    assert not fake.calls_of("getFile", since=since)  # checked before asking for it
    fake.fail_next("getFile", 400, "Bad Request: file is too big")
    refused = await reply_to(fake, MINJI, lambda: fake.push_photo(MINJI, photo))
    assert refused.startswith("파일이 너무 커서 받을 수 없어요 (> 20 MB")


async def test_other_kinds_of_message(bot: Application, fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    pdf = case("pdf").data
    assert await reply_to(
        fake, ANN, lambda: fake.push_document(ANN, pdf, "application/pdf", file_name="a.pdf")
    ) == ("That file isn't an image. Send a photo, or an image file (JPEG, PNG or WebP).")
    assert (await reply_to(fake, ANN, lambda: fake.push_sticker(ANN))).startswith("Nice sticker!")
    assert (await reply_to(fake, ANN, lambda: fake.push_video(ANN))).startswith("I can't search videos")
    assert (await reply_to(fake, ANN, lambda: fake.push_voice(ANN))).startswith("I can't listen to voice")
    assert (await reply_to(fake, MINJI, lambda: fake.push_voice(MINJI))).startswith(
        "음성이나 오디오 메시지는"
    )
    assert await reply_to(fake, ANN, lambda: fake.push_message(ANN, "/reindex")) == (
        "I don't know that command. /help lists what I can do."
    )
    location = {
        "message": {
            "message_id": 900,
            "date": int(time.time()),
            "chat": {"id": ANN, "type": "private", "first_name": "Ann"},
            "from": {"id": ANN, "is_bot": False, "first_name": "Ann", "language_code": "en"},
            "location": {"latitude": 37.56, "longitude": 126.97},
        }
    }
    assert await reply_to(fake, ANN, lambda: fake.push_update(location)) == (
        "I can only search photos — send me a photo of an outfit."
    )


async def test_an_album_is_searched_once_with_a_note(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    first, second, third = (world.musinsa.image_bytes(p.id) for p in world.products[:3])
    since = fake.mark()
    fake.push_album(MINJI, [first, second, third])
    album = await next_album(fake, MINJI, since)
    assert product_ids(album)[0] == world.products[0].id
    await next_text(fake, MINJI, album.index, with_buttons=True)
    texts = [message_text(c) for c in fake.calls_of("sendMessage", ok=True, since=since)]
    assert texts[0] == plain(text("ko", "album_note"))
    assert len(texts) == 2  # the note and the results' buttons, nothing for the other two photos
    # The other photos did not count against the limit, nor start searches.
    assert len(fake.calls_of("getFile", since=since)) == 1


async def test_one_search_at_a_time_per_user(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    since = fake.mark()
    fake.push_photo(ANN, world.musinsa.image_bytes(world.products[0].id))
    fake.push_photo(ANN, world.musinsa.image_bytes(world.products[1].id))
    busy = await next_text(fake, ANN, since, with_buttons=False)
    assert (
        message_text(busy)
        == "I'm still working on your previous search — send the next one when its results are in."
    )
    album = await next_album(fake, ANN, since)
    assert product_ids(album)[0] == world.products[0].id
    await next_text(fake, ANN, album.index, with_buttons=True)
    assert len(fake.calls_of("sendMediaGroup", since=since)) == 1


async def searched(fake: FakeTelegram, app: Application, chat_id: int, since: int) -> list[int]:  # type: ignore[type-arg]
    """The products of the next album in the chat, once its search is over (results and buttons sent)."""
    album = await next_album(fake, chat_id, since)
    keyboard = await next_text(fake, chat_id, album.index, with_buttons=True)
    assert keyboard.ok
    await fake.wait_until(lambda: chat_id not in services(app).active, WAIT, "the search to end")
    return product_ids(album)


async def test_searches_per_minute(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="en")
    photo = world.musinsa.image_bytes(world.products[0].id)
    notice = "That's a lot of searches! You can search up to 2 times a minute — please wait a moment."
    async with running(build_application(make_settings(photos_per_minute=2))) as app:
        for _ in range(2):
            since = fake.mark()
            fake.push_photo(ANN, photo)
            await searched(fake, app, ANN, since)
        since = fake.mark()
        fake.push_photo(ANN, photo)
        fake.push_photo(ANN, photo)
        fake.push_message(ANN, "hoodie")  # a text search counts like a photo
        fake.push_message(ANN, "/help")
        assert message_text(await next_text(fake, ANN, since)) == notice
        await fake.wait_for(
            "sendMessage", lambda c: c.result["text"].startswith("👋 snapfit"), WAIT, since=since
        )
        assert len(fake.calls_of("sendMessage", since=since)) == 2  # one notice for the burst, and /help
        assert not fake.calls_of("getFile", since=since)
        # Other users are not affected.
        since = fake.mark()
        fake.push_photo(MINJI, photo)
        await next_album(fake, MINJI, since)


async def test_similar_and_result_buttons_share_the_budget(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    """Every search may fetch from Musinsa: photos, /similar, More and Similar #n share one budget."""
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    notice = "That's a lot of searches! You can search up to 3 times a minute — please wait a moment."
    async with running(build_application(make_settings(photos_per_minute=3))) as app:
        since = fake.mark()
        fake.push_photo(ANN, world.musinsa.image_bytes(world.products[0].id))
        await searched(fake, app, ANN, since)
        keyboard = await next_text(fake, ANN, since, with_buttons=True)
        since = fake.mark()
        fake.press(keyboard.result, text="More ▶")
        await searched(fake, app, ANN, since)
        since = fake.mark()
        fake.push_message(ANN, f"/similar {world.products[1].id}")
        await searched(fake, app, ANN, since)
        # The budget of 3 is spent: a button is answered with the notice, and searches nothing.
        since = fake.mark()
        qid = fake.press(keyboard.result, text="Similar #2")["callback_query"]["id"]
        await fake.wait_until(lambda: fake.callback_answer(qid), WAIT, "an answer")
        assert fake.callback_answer(qid)["text"] == notice
        # /similar gets the notice once; the rest of the burst gets nothing.
        for _ in range(3):
            fake.push_message(ANN, f"/similar {world.products[2].id}")
        assert message_text(await next_text(fake, ANN, since)) == notice
        fake.push_message(ANN, "black hoodie")  # a text search is a search: refused without a word
        fake.push_message(ANN, "/help")  # ... while answers that search nothing still come
        await fake.wait_for(
            "sendMessage", lambda c: c.result["text"].startswith("👋 snapfit"), WAIT, since=since
        )
        assert len(fake.calls_of("sendMessage", since=since)) == 2
        assert not fake.calls_of("sendMediaGroup", since=since) and not fake.calls_of(
            "sendPhoto", since=since
        )


async def test_photos_refused_as_busy_cost_nothing_and_each_gets_an_answer(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    """25 photos at once: one is searched, the other 24 hear "busy", and none of them uses up the budget."""
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    busy = "I'm still working on your previous search — send the next one when its results are in."
    photos = [world.musinsa.image_bytes(product.id) for product in world.products[:25]]
    async with running(build_application(make_settings(photos_per_minute=5))) as app:
        since = fake.mark()
        for photo in photos:
            fake.push_photo(ANN, photo)
        await searched(fake, app, ANN, since)
        texts = [
            message_text(call)
            for call in fake.calls_of("sendMessage", ok=True, since=since)
            if call.params.get("reply_markup") is None
        ]
        assert texts == [busy] * 24
        assert len(fake.calls_of("getFile", since=since)) == 1
        # Only the one search counted: four more photos are searched one after the other.
        for photo in photos[:4]:
            since = fake.mark()
            fake.push_photo(ANN, photo)
            assert await searched(fake, app, ANN, since)


async def test_an_empty_catalog_that_no_sync_builds_says_search_is_unavailable(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World, tmp_path: Path
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    async with running(build_application(make_settings(store=tmp_path / "empty-index"))):
        photo = world.musinsa.image_bytes(world.products[0].id)
        english = await reply_to(fake, ANN, lambda: fake.push_photo(ANN, photo))
        assert (
            english == "Search is unavailable for now: the product catalog is empty. Please try again later."
        )
        korean = await reply_to(
            fake, MINJI, lambda: fake.push_message(MINJI, f"/similar {world.products[0].id}")
        )
        assert korean == "지금은 검색할 수 없어요. 상품 목록이 비어 있어요. 나중에 다시 시도해 주세요."
