"""Photo in, products out: end to end through build_application, real polling and the fake Telegram."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.app import build_application
from indexer.config import ScheduleSettings, Settings
from tests.bot.conftest import World
from tests.bot.world import (
    ADMIN,
    WAIT,
    buttons,
    message_text,
    next_album,
    next_text,
    product_ids,
    running,
    services,
)
from tests.fakes.musinsa import LISTING_PATH, MUSINSA_ROBOTS, Fault
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_ptb import TEST_TOKEN

ANN = 4242  # English
MINJI = 4343  # Korean


async def photo_search(fake: FakeTelegram, chat_id: int, photo: bytes) -> tuple[list[int], dict]:
    """Send a photo; the product ids of the album and the message with buttons that follows it."""
    since = fake.mark()
    fake.push_photo(chat_id, photo)
    album = await next_album(fake, chat_id, since)
    keyboard = await next_text(fake, chat_id, album.index, with_buttons=True)
    return product_ids(album), keyboard.result


async def test_own_photo_first_with_upload_action_album_and_buttons(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, "Ann", language_code="en")
    target = world.products[5]
    since = fake.mark()
    fake.push_photo(ANN, world.musinsa.image_bytes(target.id))
    album = await next_album(fake, ANN, since)
    ids = product_ids(album)
    assert ids[0] == target.id
    assert len(ids) == len(set(ids)) == 6
    assert album.method == "sendMediaGroup"
    assert "reply_markup" not in album.params
    # "upload_photo" was shown before any work was visible, and before the album.
    actions = [a for a in fake.chat_actions(ANN) if a.call_index >= since]
    assert actions and actions[0].action == "upload_photo" and actions[0].call_index < album.index
    first_caption = album.result[0]["caption"]
    assert first_caption.startswith(f"#1 · {target.brand_name}\n{target.name}\n")
    assert "View on Musinsa" in first_caption
    # Product photos were uploaded as bytes, never as Musinsa URLs.
    assert all(media["media"].startswith("attach://") for media in album.params["media"])
    assert not fake.state.url_fetches
    keyboard = await next_text(fake, ANN, album.index, with_buttons=True)
    assert message_text(keyboard) == "🔎 Results 1–6 · All"
    assert [b["text"] for b in buttons(keyboard)] == [
        *(f"Similar #{n}" for n in range(1, 7)),
        *(f"⭐{n}" for n in range(1, 7)),
        "More ▶",
        "👍",
        "👎",
        "Category: All ✏️",
    ]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(keyboard))


async def test_repeat_results_reuse_uploaded_file_ids(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    photo = world.musinsa.image_bytes(world.products[8].id)
    first, _ = await photo_search(fake, ANN, photo)
    downloads = services(bot).photos.downloads
    since = fake.mark()
    second, _ = await photo_search(fake, ANN, photo)
    assert second == first
    album = fake.calls_of("sendMediaGroup", ok=True, since=since)[0]
    assert not any(media["media"].startswith("attach://") for media in album.params["media"])
    assert services(bot).photos.downloads == downloads


async def test_category_limits_the_results(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    since = fake.mark()
    fake.push_message(ANN, "/category tops")
    reply = await next_text(fake, ANN, since)
    assert message_text(reply) == "Category set to tops. Send a photo to search it."
    tops = {product.id for product in world.in_category("001")}
    pants = world.in_category("003")[0]
    ids, keyboard = await photo_search(fake, ANN, world.musinsa.image_bytes(pants.id))
    assert ids and set(ids) <= tops
    assert keyboard["text"] == "🔎 Results 1–6 · tops"
    assert FakeTelegram.buttons(keyboard)[-1]["text"] == "Category: tops ✏️"


async def test_more_edits_the_buttons_in_place_and_sends_the_next_album(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    first, keyboard = await photo_search(fake, ANN, world.musinsa.image_bytes(world.products[0].id))
    since = fake.mark()
    press = fake.press(keyboard, text="More ▶")
    album = await next_album(fake, ANN, since)
    second = product_ids(album)
    assert len(second) == 6 and not set(first) & set(second)
    assert album.result[0]["caption"].startswith("#7 · ")
    new_keyboard = await next_text(fake, ANN, album.index, with_buttons=True)
    assert message_text(new_keyboard) == "🔎 Results 7–12 · All"
    labels = [b["text"] for b in buttons(new_keyboard)]
    assert labels[:6] == [f"Similar #{n}" for n in range(7, 13)] and "More ▶" in labels
    assert fake.callback_answer(press["callback_query"]["id"]) is not None
    # The pressed message was edited in place: same buttons, minus "More".
    edited = fake.message(ANN, keyboard["message_id"])
    assert edited is not None and "edit_date" in edited
    assert [b["text"] for b in FakeTelegram.buttons(edited)] == [
        *(f"Similar #{n}" for n in range(1, 7)),
        *(f"⭐{n}" for n in range(1, 7)),
        "👍",
        "👎",
        "Category: All ✏️",
    ]
    # Pressing the old "More" again (a double tap) shows nothing twice.
    since = fake.mark()
    old_more = next(  # the message before the edit
        b["callback_data"] for b in FakeTelegram.buttons(keyboard) if b["text"] == "More ▶"
    )
    again = fake.press(
        keyboard,
        old_more,
        check_button=False,
    )
    await fake.wait_until(lambda: fake.callback_answer(again["callback_query"]["id"]), WAIT, "an answer")
    assert (
        fake.callback_answer(again["callback_query"]["id"])["text"]
        == "Those results are already shown below."
    )
    assert not fake.calls_of("sendMediaGroup", since=since)
    # Page on to the end: 25 products on sale (3 of the 28 indexed are sold out, hidden by default),
    # pages of 6 -> the fifth page has 1 and no "More".
    for expected_first in (13, 19, 25):
        more = next(b for b in buttons(new_keyboard) if b["text"] == "More ▶")
        since = fake.mark()
        fake.press(new_keyboard.result, more["callback_data"])
        album = await next_album(fake, ANN, since)
        first_message = album.result[0] if isinstance(album.result, list) else album.result  # 1: sendPhoto
        assert first_message["caption"].startswith(f"#{expected_first} · ")
        new_keyboard = await next_text(fake, ANN, album.index, with_buttons=True)
    assert len(world.on_sale) == 25 and len(product_ids(album)) == len(world.on_sale) - 24
    assert "More ▶" not in [b["text"] for b in buttons(new_keyboard)]


async def test_similar_button_shows_neighbours_of_that_result(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(MINJI, "민지", language_code="ko")
    target = world.products[10]
    ids, keyboard = await photo_search(fake, MINJI, world.musinsa.image_bytes(target.id))
    assert ids[0] == target.id
    since = fake.mark()
    press = fake.press(keyboard, text="비슷한 #2")
    album = await next_album(fake, MINJI, since)
    neighbours = product_ids(album)
    kind = world.product(ids[1]).category[:3]  # its own top-level category
    expected = await services(bot).catalog.similar(ids[1], category=kind, limit=6)
    assert ids[1] not in neighbours and neighbours == [item.product.id for item in expected]
    header = await next_text(fake, MINJI, album.index, with_buttons=True)
    source = world.product(ids[1])
    assert message_text(header).startswith(f"🔁 {source.brand_name} · ")
    assert f"결과 1–{len(neighbours)}" in message_text(header)
    assert fake.callback_answer(press["callback_query"]["id"]) is not None


async def test_stale_buttons_ask_to_search_again(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    settings = make_settings()
    async with running(build_application(settings)):
        _, keyboard = await photo_search(fake, ANN, world.musinsa.image_bytes(world.products[1].id))
        forged = fake.press(keyboard, "v1:p:zzzzzzzz:2", check_button=False)
        old_version = fake.press(keyboard, "v0:more:1", check_button=False)
        for query in (forged, old_version):
            qid = query["callback_query"]["id"]
            await fake.wait_until(lambda qid=qid: fake.callback_answer(qid), WAIT, "an answer")
            assert (
                fake.callback_answer(qid)["text"] == "This search has expired — please send the photo again."
            )
    # A restart forgets every search: the old buttons still answer, politely.
    async with running(build_application(settings)):
        since = fake.mark()
        for label in ("More ▶", "Similar #3"):
            qid = fake.press(keyboard, text=label)["callback_query"]["id"]
            await fake.wait_until(lambda qid=qid: fake.callback_answer(qid), WAIT, "an answer")
            assert (
                fake.callback_answer(qid)["text"] == "This search has expired — please send the photo again."
            )
        assert not fake.calls_of("sendMediaGroup", since=since)
    assert not fake.unanswered_callback_queries()


async def test_buttons_answer_only_the_user_whose_search_it_is(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    """In a group (or on a forwarded message) anyone can press a search's buttons: only its owner pages."""
    fake = fake_telegram
    group = -4_200_001
    bo = 4444
    fake.user(ANN, "Ann", language_code="en")
    fake.user(MINJI, "Minji", language_code="ko")
    fake.user(bo, "Bo", language_code="en")

    async def pressed_by(user: int, message: dict, label: str) -> str:
        qid = fake.press(message, text=label, user=user)["callback_query"]["id"]
        await fake.wait_until(lambda: fake.callback_answer(qid), WAIT, "an answer")
        return fake.callback_answer(qid)["text"]

    since = fake.mark()
    fake.push_photo(group, world.musinsa.image_bytes(world.products[3].id), user=ANN)
    album = await next_album(fake, group, since)
    keyboard = await next_text(fake, group, album.index, with_buttons=True)
    since = fake.mark()
    korean = "다른 사람의 검색 결과예요. 직접 사진을 보내 검색해 보세요."
    assert await pressed_by(MINJI, keyboard.result, "More ▶") == korean
    assert await pressed_by(MINJI, keyboard.result, "Similar #2") == korean
    assert await pressed_by(bo, keyboard.result, "Similar #2") == (
        "These results belong to someone else's search — send your own photo to search."
    )
    assert not fake.calls_of("sendMediaGroup", since=since) and not fake.calls_of("sendPhoto", since=since)
    assert not fake.calls_of("editMessageReplyMarkup", since=since)
    # The owner's press still works.
    fake.press(keyboard.result, text="More ▶", user=ANN)
    second = await next_album(fake, group, since)
    assert not set(product_ids(second)) & set(product_ids(album))
    assert not fake.unanswered_callback_queries()


async def test_a_429_on_the_album_is_retried(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.fail_next("sendMediaGroup", 429, retry_after=1)
    target = world.products[4]
    since = fake.mark()
    ids, _ = await photo_search(fake, ANN, world.musinsa.image_bytes(target.id))
    assert ids[0] == target.id
    attempts = fake.calls_of("sendMediaGroup", since=since)
    assert [call.status for call in attempts] == [429, 200]


@pytest.mark.parametrize("status", [500, 502])
async def test_a_server_error_on_the_album_is_retried_once(
    bot: Application,
    fake_telegram: FakeTelegram,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
) -> None:
    from bot import delivery

    monkeypatch.setattr(delivery, "SERVER_ERROR_RETRY_SECONDS", 0.01)
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.fail_next("sendMediaGroup", status)
    target = world.products[4]
    since = fake.mark()
    ids, _ = await photo_search(fake, ANN, world.musinsa.image_bytes(target.id))
    assert ids[0] == target.id
    assert [call.status for call in fake.calls_of("sendMediaGroup", since=since)] == [status, 200]
    assert not any(
        call.result["text"].startswith("Sorry") for call in fake.calls_of("sendMessage", ok=True, since=since)
    )
    # Twice in a row: one retry only, then the apology.
    fake.fail_next("sendMediaGroup", status, times=2)
    since = fake.mark()
    fake.push_photo(ANN, world.musinsa.image_bytes(target.id))
    apology = await next_text(fake, ANN, since)
    assert message_text(apology) == "Sorry, something went wrong on my side. Please try again."
    assert [call.status for call in fake.calls_of("sendMediaGroup", since=since)] == [status, status]


async def test_a_refused_album_item_is_left_out(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.fail_next(
        "sendMediaGroup",
        400,
        'Bad Request: failed to send message #2 with the error message "IMAGE_PROCESS_FAILED"',
    )
    target = world.products[12]
    since = fake.mark()
    fake.push_photo(ANN, world.musinsa.image_bytes(target.id))
    album = await next_album(fake, ANN, since)
    refused = fake.calls_of("sendMediaGroup", since=since)[0]
    assert refused.status == 400
    ids = product_ids(album)
    assert len(ids) == 5 and ids[0] == target.id
    assert [m["caption"].split(" · ")[0] for m in album.result] == ["#1", "#2", "#3", "#4", "#5"]
    keyboard = await next_text(fake, ANN, album.index, with_buttons=True)
    assert message_text(keyboard) == "🔎 Results 1–5 · All"
    assert [b["text"] for b in buttons(keyboard)][:5] == [f"Similar #{n}" for n in range(1, 6)]


async def test_korean_and_english_users_get_their_language(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    photo = world.musinsa.image_bytes(world.products[2].id)
    _, english = await photo_search(fake, ANN, photo)
    _, korean = await photo_search(fake, MINJI, photo)
    assert english["text"] == "🔎 Results 1–6 · All"
    assert korean["text"] == "🔎 검색 결과 1–6 · 전체"
    album = fake.calls_of("sendMediaGroup", ok=True)[-1]
    assert "무신사에서 보기" in album.result[0]["caption"]
    since = fake.mark()
    fake.push_sticker(MINJI)
    fake.push_sticker(ANN)
    hints = {
        call.params["chat_id"]: call.result["text"]
        for call in await fake.wait_for_count("sendMessage", 2, timeout=WAIT, since=since)
    }
    assert hints[MINJI].startswith("귀여운 스티커네요!")
    assert hints[ANN].startswith("Nice sticker!")


async def test_fifty_users_at_once_are_all_answered(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    users = list(range(10_000, 10_050))
    since = fake.mark()
    for index, user in enumerate(users):
        fake.user(user, language_code="ko" if index % 2 else "en")
        fake.push_photo(user, world.musinsa.image_bytes(world.on_sale[index % len(world.on_sale)].id))

    def answered() -> set[int]:
        return {
            call.params["chat_id"]
            for call in fake.calls_of("sendMessage", ok=True, since=since)
            if call.params.get("reply_markup") is not None
        }

    await fake.wait_until(lambda: answered() >= set(users), 180, "an answer for each of the 50 users")
    for index, user in enumerate(users):
        album = next(
            call
            for call in fake.calls_of("sendMediaGroup", ok=True, since=since)
            if call.params["chat_id"] == user
        )
        assert product_ids(album)[0] == world.on_sale[index % len(world.on_sale)].id
    assert not fake.calls_of("sendMediaGroup", ok=False, since=since)


async def test_the_token_never_reaches_the_logs(
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    caplog.set_level(logging.DEBUG)
    fake.fail_next("sendMediaGroup", 502, "Bad Gateway", times=2)  # retried once, then the apology
    async with running(build_application(make_settings())):
        since = fake.mark()
        fake.push_photo(ANN, world.musinsa.image_bytes(world.products[0].id))
        apology = await next_text(fake, ANN, since)
        assert message_text(apology) == "Sorry, something went wrong on my side. Please try again."
        await photo_search(fake, ANN, world.musinsa.image_bytes(world.products[0].id))
    logged = caplog.text + "\n".join(str(record.__dict__) for record in caplog.records)
    assert "unexpected error while handling message update" in caplog.text
    assert TEST_TOKEN not in logged
    assert TEST_TOKEN.split(":", 1)[1] not in logged


async def test_upload_action_is_repeated_while_working(
    bot: Application, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.handlers import common

    fake = fake_telegram
    fake.user(ANN, language_code="en")
    monkeypatch.setattr(common, "CHAT_ACTION_SECONDS", 0.01)
    async with common.chat_action(bot.bot, ANN):
        await fake.wait_until(lambda: len(fake.chat_actions(ANN)) >= 3, WAIT, "three chat actions")
    shown = len(fake.chat_actions(ANN))
    assert {action.action for action in fake.chat_actions(ANN)} == {"upload_photo"}
    since = fake.mark()
    fake.push_message(ANN, "/help")  # a round trip through the bot: the repeating has stopped
    await next_text(fake, ANN, since)
    assert len(fake.chat_actions(ANN)) == shown


async def test_harmless_telegram_refusals_are_swallowed(
    bot: Application, fake_telegram: FakeTelegram, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    since = fake.mark()
    fake.push_message(ANN, "/category")
    prompt = await next_text(fake, ANN, since, with_buttons=True)
    fake.press(prompt.result, text="pants")
    await fake.wait_for("editMessageText", timeout=WAIT, ok=True, since=since)
    # The same choice again (a double tap that raced the edit): the edit changes nothing.
    again = fake.press(prompt.result, "v1:c:003", check_button=False)
    refused = await fake.wait_for("editMessageText", timeout=WAIT, ok=False, since=since)
    assert "message is not modified" in refused.description
    assert fake.callback_answer(again["callback_query"]["id"]) is not None
    # An answer Telegram finds too late does not stop the button's work.
    _, keyboard = await photo_search(fake, ANN, world.musinsa.image_bytes(world.products[0].id))
    fake.fail_next(
        "answerCallbackQuery",
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    since = fake.mark()
    fake.press(keyboard, text="Similar #2")
    await next_album(fake, ANN, since)
    assert "unexpected error" not in caplog.text
    assert not [
        c for c in fake.calls_of("sendMessage", since=0) if c.result and "Sorry" in c.result.get("text", "")
    ]


# ------------------------------------------------------------------------------------ empty catalog


async def answer_to_photo(fake: FakeTelegram, chat_id: int, photo: bytes) -> str:
    since = fake.mark()
    fake.push_photo(chat_id, photo)
    return message_text(await next_text(fake, chat_id, since))


async def test_an_empty_catalog_is_being_built_only_while_its_sync_runs(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World, tmp_path: Path
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    photo = world.musinsa.image_bytes(world.products[0].id)
    world.musinsa.faults.next(Fault.slow(3.0), match=LISTING_PATH)  # the start-up sync is certainly running
    try:
        settings = make_settings(
            store=tmp_path / "empty-index", schedule=ScheduleSettings(sync_when_empty=True)
        )
        async with running(build_application(settings)) as app:
            nightly = app.bot_data["snapfit.services"].nightly
            await fake.wait_until(lambda: nightly.running, WAIT, "the start-up sync")
            answer = await answer_to_photo(fake, ANN, photo)
            assert answer == "The catalog is being built right now — please try again in a little while."
    finally:
        world.musinsa.faults.clear()


async def test_after_a_failed_sync_users_hear_search_is_unavailable_and_admins_hear_why(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World, tmp_path: Path
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(ADMIN, language_code="en")
    photo = world.musinsa.image_bytes(world.products[0].id)
    allowed = world.musinsa.robots_txt
    world.musinsa.robots_txt = MUSINSA_ROBOTS  # Musinsa's real robots.txt: Disallow: /
    try:
        settings = make_settings(
            store=tmp_path / "empty-index", schedule=ScheduleSettings(sync_when_empty=True)
        )
        async with running(build_application(settings)) as app:
            nightly = app.bot_data["snapfit.services"].nightly
            await fake.wait_until(lambda: nightly.last_summary is not None, WAIT, "the start-up sync")
            assert nightly.last_summary.error is not None
            answer = await answer_to_photo(fake, ANN, photo)
            assert (
                answer
                == "Search is unavailable for now: the product catalog is empty. Please try again later."
            )

            answer = await answer_to_photo(fake, ADMIN, photo)
            assert answer.startswith("Search is unavailable for now")
            assert "For admins: the index is empty: the last sync failed: robots.txt (" in answer
            assert "Next step: check robots.txt permission (docs/crawling.md)" in answer

            since = fake.mark()
            fake.push_message(ADMIN, "/stats")
            stats = message_text(await next_text(fake, ADMIN, since))
            assert "the last sync failed: robots.txt (" in stats and "then run /sync" in stats
    finally:
        world.musinsa.robots_txt = allowed
