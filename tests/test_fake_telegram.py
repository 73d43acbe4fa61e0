"""The fake Bot API, driven by python-telegram-bot's real client so its fidelity is proven against PTB.

Exact Telegram descriptions are checked on the fake's record of the call; PTB's exception message is the
description with "Bad Request: " stripped and the rest passed through ``str.capitalize()``.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram import ApiError, FakeTelegram, errors
from tests.fakes.telegram.formatting import format_text
from tests.fakes.telegram_ptb import TEST_TOKEN, polling

ANN = 42  # a private chat's id is its user's id
WAIT = 5.0  # the bound on every wait; nothing here should come close


def jpeg(width: int = 640, height: int = 480, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=85)
    return out.getvalue()


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


@pytest.fixture
async def fake(fake_telegram: FakeTelegram) -> FakeTelegram:
    fake_telegram.user(ANN, "Ann", language_code="ko")
    return fake_telegram


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TEST_TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


async def raw_call(
    fake: FakeTelegram, path: str, *, data: dict[str, Any] | None = None, method: str = "POST"
) -> tuple[int, dict[str, Any]]:
    """A plain HTTP request, for what PTB cannot produce."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, fake.root_url + path, data=data) as resp,
    ):
        return resp.status, await resp.json()


async def api(fake: FakeTelegram, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """A form-encoded API call with parameters PTB would not send."""
    return await raw_call(fake, f"/bot{TEST_TOKEN}/{method}", data={k: str(v) for k, v in params.items()})


def last(fake: FakeTelegram, method: str) -> Any:
    return fake.calls_of(method)[-1]


async def fetch_updates(bot: Bot, offset: int = 0) -> tuple[Update, ...]:
    return await asyncio.wait_for(bot.get_updates(offset=offset, timeout=0), WAIT)


# --- getMe, tokens, routing ------------------------------------------------------------------------------
async def test_get_me_names_the_bot_after_its_token(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "snapfit_test_bot")
    assert bot.username == "snapfit_test_bot"


async def test_wrong_token_is_rejected_at_initialize(fake: FakeTelegram) -> None:
    wrong = Bot("123456:WRONG", base_url=fake.base_url, base_file_url=fake.base_file_url)
    try:
        with pytest.raises(InvalidToken, match="was rejected by the server"):
            await wrong.initialize()
    finally:
        await wrong.shutdown()  # a failed initialize leaves PTB's HTTP client open
    assert (fake.calls[-1].method, fake.calls[-1].status, fake.calls[-1].description) == (
        "getMe",
        401,
        errors.UNAUTHORIZED,
    )


async def test_unknown_method_is_404_method_not_found(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy")
    assert (last(fake, "sendTelepathy").status, last(fake, "sendTelepathy").description) == (
        404,
        "Not Found: method not found",
    )
    assert await raw_call(fake, "/nothing/here", method="GET") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )


async def test_method_names_are_case_insensitive_and_get_and_json_work(fake: FakeTelegram) -> None:
    status, body = await raw_call(fake, f"/bot{TEST_TOKEN}/GETME/", method="GET")
    assert status == 200 and body["result"]["username"] == "snapfit_test_bot"
    async with aiohttp.ClientSession() as session:
        url = f"{fake.base_url}{TEST_TOKEN}/sendMessage"
        async with session.post(url, json={"chat_id": ANN, "text": "from JSON"}) as resp:
            assert resp.status == 200
    assert last(fake, "sendMessage").params == {"chat_id": ANN, "text": "from JSON"}
    assert [call.method for call in fake.calls] == ["getMe", "sendMessage"]


# --- polling with a real Application ---------------------------------------------------------------------
async def test_application_polls_and_answers_a_command(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.effective_user is not None
        await update.message.reply_text(f"hello {update.effective_user.language_code}")

    app = (
        ApplicationBuilder()
        .token(TEST_TOKEN)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    async with polling(app):
        update = fake.push_message(ANN, "/start")
        reply = await fake.wait_for("sendMessage", ok=True, timeout=WAIT)
    assert reply.result["text"] == "hello ko"
    assert reply.params["chat_id"] == update["message"]["chat"]["id"]
    methods = [call.method for call in fake.calls]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert fake.pending_updates == []  # the final getUpdates on stop confirmed what was fetched
    assert fake.chat_transcript(ANN, include_user=True) == ["» /start", "sendMessage #2: hello ko"]


async def test_buttons_pressed_through_polling_reach_the_callback_handler(fake: FakeTelegram) -> None:
    async def show(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text("pick", reply_markup=keyboard([("One", "v1:one"), ("Two", "v1:two")]))

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer()
        await query.edit_message_text(f"picked {query.data}")

    app = (
        ApplicationBuilder()
        .token(TEST_TOKEN)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("pick", show))
    app.add_handler(CallbackQueryHandler(pressed))
    async with polling(app):
        fake.push_message(ANN, "/pick")
        sent = await fake.wait_for("sendMessage", ok=True, timeout=WAIT)
        fake.press(sent.result, text="Two")
        await fake.wait_for("editMessageText", ok=True, timeout=WAIT)
    assert fake.unanswered_callback_queries() == []
    assert fake.messages(ANN)[-1]["text"] == "picked v1:two"
    assert "reply_markup" not in fake.messages(ANN)[-1]  # an edit without reply_markup removes the keyboard


# --- getUpdates semantics --------------------------------------------------------------------------------
async def test_long_poll_returns_as_soon_as_an_update_is_pushed() -> None:
    async with FakeTelegram(long_poll_limit=60) as fake:
        fake.user(ANN)
        async with Bot(TEST_TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
            poll = asyncio.create_task(client.get_updates(timeout=60, read_timeout=70))
            await fake.wait_until(lambda: fake.updates.polling, timeout=WAIT, what="a waiting poll")
            fake.push_message(ANN, "wake up")
            updates = await asyncio.wait_for(poll, WAIT)  # far below the poll's 60 s
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_update_ids_never_decrease_even_after_reset(fake: FakeTelegram, bot: Bot) -> None:
    first = fake.push_message(ANN, "one")["update_id"]
    second = fake.push_message(ANN, "two")["update_id"]
    fake.reset()
    fake.user(ANN)
    third = fake.push_message(ANN, "three")["update_id"]
    assert first < second < third
    updates = await fetch_updates(bot)
    assert [u.update_id for u in updates] == [third]  # reset forgot the pending ones


async def test_offset_confirms_and_negative_offset_keeps_the_newest(fake: FakeTelegram, bot: Bot) -> None:
    ids = [fake.push_message(ANN, f"m{i}")["update_id"] for i in range(4)]
    assert [u.update_id for u in await fetch_updates(bot)] == ids  # fetching alone confirms nothing
    assert [u.update_id for u in await fetch_updates(bot, offset=ids[2])] == ids[2:]
    assert [u.update_id for u in await fetch_updates(bot, offset=-1)] == ids[3:]
    assert [u.update_id for u in await fetch_updates(bot, offset=ids[3] + 1)] == []


async def test_allowed_updates_are_remembered_between_polls(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ANN, "menu", reply_markup=keyboard([("Go", "go")]))
    fake.push_message(ANN, "ignored")
    fake.press(sent.to_dict(), "go")
    updates = await asyncio.wait_for(bot.get_updates(timeout=0, allowed_updates=["callback_query"]), WAIT)
    assert [u.callback_query.data for u in updates if u.callback_query] == ["go"] and len(updates) == 1
    fake.push_message(ANN, "still ignored")
    assert await fetch_updates(bot, offset=updates[0].update_id + 1) == ()
    status, body = await api(fake, "getUpdates", allowed_updates="messages")
    assert (status, body["description"]) == (400, errors.CANT_PARSE_ALLOWED_UPDATES)


async def test_overlapping_polls_terminate_the_older_with_409(fake: FakeTelegram) -> None:
    kwargs = {"base_url": fake.base_url, "base_file_url": fake.base_file_url}
    async with Bot(TEST_TOKEN, **kwargs) as first, Bot(TEST_TOKEN, **kwargs) as second:
        older = asyncio.create_task(first.get_updates(timeout=4))
        await fake.wait_until(lambda: fake.updates.polling, timeout=WAIT, what="a waiting poll")
        assert await asyncio.wait_for(second.get_updates(timeout=0), WAIT) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(older, WAIT)
    assert errors.CONFLICT_POLLING in [call.description for call in fake.calls_of("getUpdates")]


# --- photos in and out -----------------------------------------------------------------------------------
async def test_pushed_photo_downloads_byte_for_byte(fake: FakeTelegram, bot: Bot) -> None:
    original = jpeg(960, 1280)
    fake.push_photo(ANN, original, caption="my outfit")
    (update,) = await fetch_updates(bot)
    assert update.message is not None and update.message.caption == "my outfit"
    sizes = update.message.photo
    assert [(p.width, p.height) for p in sizes] == [(68, 90), (240, 320), (600, 800), (960, 1280)]
    assert sizes[-1].file_size == len(original)
    telegram_file = await bot.get_file(sizes[-1])
    assert telegram_file.file_path is not None
    assert telegram_file.file_path.startswith(f"{fake.base_file_url}{TEST_TOKEN}/photos/file_")
    assert bytes(await telegram_file.download_as_bytearray()) == original
    thumbnail = await (await bot.get_file(sizes[0])).download_as_bytearray()
    with Image.open(io.BytesIO(bytes(thumbnail))) as image:
        assert image.size == (68, 90)


async def test_get_file_refuses_files_over_20_mb(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_photo(ANN, jpeg(), file_size=21 * 1024 * 1024)
    (update,) = await fetch_updates(bot)
    assert update.message is not None
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.get_file(update.message.photo[-1])
    assert last(fake, "getFile").description == "Bad Request: file is too big"
    with pytest.raises(BadRequest):
        await bot.get_file("AgACAgIAAxkBAAnope")
    assert last(fake, "getFile").description == errors.GET_FILE_FAILED


async def test_send_photo_upload_file_id_and_url(fake: FakeTelegram, bot: Bot) -> None:
    uploaded = await bot.send_photo(ANN, jpeg(500, 700), caption="<b>Brand</b> name", parse_mode="HTML")
    assert uploaded.caption == "Brand name"
    assert uploaded.caption_entities == (MessageEntity(MessageEntity.BOLD, 0, 5),)
    assert (uploaded.photo[-1].width, uploaded.photo[-1].height) == (500, 700)
    assert last(fake, "sendPhoto").files["photo"].data == jpeg(500, 700)
    again = await bot.send_photo(ANN, uploaded.photo[-1].file_id)
    assert [p.file_id for p in again.photo] == [p.file_id for p in uploaded.photo]
    fake.register_url("https://image.msscdn.net/a.jpg", jpeg(300, 300))
    by_url = await bot.send_photo(ANN, "https://image.msscdn.net/a.jpg")
    assert (by_url.photo[-1].width, by_url.photo[-1].height) == (300, 300)
    assert fake.state.url_fetches == ["https://image.msscdn.net/a.jpg"]
    with pytest.raises(BadRequest):
        await bot.send_photo(ANN, "https://image.msscdn.net/unregistered.jpg")
    assert last(fake, "sendPhoto").description == errors.URL_CONTENT_FAILED


async def test_send_photo_refuses_what_telegram_refuses(fake: FakeTelegram, bot: Bot) -> None:
    cases = [
        (b"this is not an image", "Bad Request: IMAGE_PROCESS_FAILED"),
        (jpeg()[:300], "Bad Request: IMAGE_PROCESS_FAILED"),  # truncated: header fine, pixels missing
        (jpeg(2100, 100), "Bad Request: PHOTO_INVALID_DIMENSIONS"),
        (b"\xff\xd8" + bytes(10 * 1024 * 1024), "Bad Request: file is too big"),
    ]
    for data, description in cases:
        with pytest.raises(BadRequest):
            await bot.send_photo(ANN, data)
        assert last(fake, "sendPhoto").description == description
    assert await api(fake, "sendPhoto", chat_id=ANN) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: there is no photo in the request"},
    )
    assert fake.messages(ANN) == []  # a refused call stores nothing


async def test_send_document_and_media_types_users_send(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_document(ANN, b"%PDF-1.4 tiny", filename="size-chart.pdf")
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.mime_type) == ("size-chart.pdf", "application/pdf")
    fake.push_document(ANN, jpeg(), "image/jpeg", file_name="full.jpg")
    fake.push_sticker(ANN)
    fake.push_video(ANN, caption="look")
    fake.push_voice(ANN)
    document, sticker, video, voice = [u.message for u in await fetch_updates(bot)]
    assert document is not None and document.document is not None
    assert document.document.mime_type == "image/jpeg"
    downloaded = await (await bot.get_file(document.document)).download_as_bytearray()
    assert bytes(downloaded) == jpeg()
    assert sticker is not None and sticker.sticker is not None and sticker.sticker.emoji == "👍"
    assert video is not None and video.video is not None and video.caption == "look"
    assert voice is not None and voice.voice is not None
    assert voice.voice.duration == dtm.timedelta(seconds=2)


# --- albums ----------------------------------------------------------------------------------------------
async def test_media_group_upload_is_recorded_and_returns_file_ids(fake: FakeTelegram, bot: Bot) -> None:
    images = [jpeg(400 + 10 * i, 600) for i in range(3)]
    await bot.send_chat_action(ANN, ChatAction.UPLOAD_PHOTO)
    sent = await bot.send_media_group(
        ANN, [InputMediaPhoto(image, caption=f"item {i}") for i, image in enumerate(images)]
    )
    assert len(sent) == 3 and len({m.media_group_id for m in sent}) == 1
    assert [m.caption for m in sent] == ["item 0", "item 1", "item 2"]
    call = last(fake, "sendMediaGroup")
    parts = [item["media"].removeprefix("attach://") for item in call.params["media"]]
    assert [call.files[part].data for part in parts] == images
    (action,) = fake.chat_actions(ANN)
    assert action.action == "upload_photo" and action.call_index < call.index
    assert fake.chat_transcript(ANN) == [
        "sendChatAction: upload_photo",
        "sendMediaGroup #1-#3: 3 items",
        "  #1 photo 400x600: item 0",
        "  #2 photo 410x600: item 1",
        "  #3 photo 420x600: item 2",
    ]
    reused = await bot.send_media_group(ANN, [InputMediaPhoto(m.photo[-1].file_id) for m in sent])
    assert [m.photo[-1].file_id for m in reused] == [m.photo[-1].file_id for m in sent]


@pytest.mark.parametrize(
    ("count", "description"),
    [
        (1, errors.ALBUM_TOO_FEW),
        (11, "Bad Request: too much messages to send as an album"),
    ],
)
async def test_media_group_needs_2_to_10_items(
    fake: FakeTelegram, bot: Bot, count: int, description: str
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)messages to send as an album"):
        await bot.send_media_group(ANN, [InputMediaPhoto(jpeg(64, 64))] * count)
    assert last(fake, "sendMediaGroup").description == description
    assert fake.messages(ANN) == []


async def test_media_group_limits_captions_and_mixing(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_media_group(
            ANN, [InputMediaPhoto(jpeg(), caption="x" * 1025), InputMediaPhoto(jpeg())]
        )
    assert last(fake, "sendMediaGroup").description == "Bad Request: message caption is too long"
    with pytest.raises(BadRequest):
        await bot.send_media_group(
            ANN, [InputMediaPhoto(jpeg()), InputMediaDocument(b"%PDF-1.4", filename="a.pdf")]
        )
    assert last(fake, "sendMediaGroup").description == errors.ALBUM_MIXED_DOCUMENT
    with pytest.raises(BadRequest):
        await bot.send_media_group(ANN, [InputMediaPhoto(jpeg()), InputMediaPhoto(b"broken")])
    assert last(fake, "sendMediaGroup").description == errors.ALBUM_ITEM_FAILED.format(
        position=2, error="IMAGE_PROCESS_FAILED"
    )
    sent = await bot.send_media_group(
        ANN, [InputMediaPhoto(jpeg(), caption="é" * 1024), InputMediaPhoto(jpeg())]
    )
    assert len(sent) == 2 and fake.violations == []


async def test_reply_markup_on_an_album_is_a_recorded_violation(fake: FakeTelegram, bot: Bot) -> None:
    markup = json.dumps({"inline_keyboard": [[{"text": "More", "callback_data": "more"}]]})
    with pytest.raises(BadRequest, match="has no reply_markup"):
        await bot.send_media_group(
            ANN, [InputMediaPhoto(jpeg()), InputMediaPhoto(jpeg())], api_kwargs={"reply_markup": markup}
        )
    assert len(fake.violations) == 1 and "reply_markup" in fake.violations[0]
    fake.violations.clear()  # the fixture fails any test that leaves a violation behind


# --- keyboards -------------------------------------------------------------------------------------------
async def test_callback_data_is_limited_to_64_bytes_not_characters(fake: FakeTelegram, bot: Bot) -> None:
    fits = "가" * 21 + "a"  # 64 bytes in UTF-8
    too_long = "가" * 21 + "ab"  # 65 bytes, only 23 characters
    sent = await bot.send_message(ANN, "ok", reply_markup=keyboard([("A", fits)]))
    assert sent.reply_markup == keyboard([("A", fits)])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ANN, "no", reply_markup=keyboard([("A", too_long)]))
    assert last(fake, "sendMessage").description == "Bad Request: BUTTON_DATA_INVALID"


@pytest.mark.parametrize(
    ("markup", "description"),
    [
        ({"inline_keyboard": [[{"text": "just text"}]]}, errors.TEXT_BUTTONS_UNALLOWED),
        (
            {"inline_keyboard": [[{"text": "two", "callback_data": "a", "url": "https://x.y"}]]},
            "Bad Request: BUTTON_TYPE_INVALID",
        ),
        ({"inline_keyboard": {"text": "not rows"}}, errors.INLINE_KEYBOARD_NOT_ARRAY),
        (
            {"inline_keyboard": [{"text": "row is not an array", "callback_data": "a"}]},
            errors.INLINE_KEYBOARD_NOT_ARRAY,
        ),
        ({"inline_keyboard": [[{"text": "link", "url": "javascript:alert(1)"}]]}, errors.BUTTON_URL_INVALID),
        ({"inline_keyboard": [[{"text": "empty", "callback_data": ""}]]}, errors.BUTTON_DATA_INVALID),
        ("not an object", errors.CANT_PARSE_REPLY_MARKUP),
    ],
)
async def test_keyboard_checks(fake: FakeTelegram, bot: Bot, markup: Any, description: str) -> None:
    with pytest.raises(BadRequest):
        await bot.send_message(ANN, "hi", api_kwargs={"reply_markup": json.dumps(markup)})
    assert last(fake, "sendMessage").description == description


# --- callback queries ------------------------------------------------------------------------------------
async def test_a_callback_query_takes_one_answer(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ANN, "menu", reply_markup=keyboard([("Go", "v1:go")]))
    fake.press(sent.to_dict(), "v1:go")
    (update,) = await fetch_updates(bot)
    query = update.callback_query
    assert query is not None and query.message is not None
    assert query.message.date.timestamp() > 0 and query.message.message_id == sent.message_id
    assert query.from_user.language_code == "ko"
    with pytest.raises(BadRequest):
        await query.answer("x" * 201)
    assert await query.answer("Loading…")
    assert fake.callback_answer(query.id) == {
        "text": "Loading…",
        "show_alert": False,
        "url": None,
        "cache_time": 0,
    }
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer()
    assert last(fake, "answerCallbackQuery").description == errors.QUERY_TOO_OLD
    with pytest.raises(BadRequest):
        await bot.answer_callback_query("12345")
    assert last(fake, "answerCallbackQuery").description == errors.QUERY_TOO_OLD


async def test_press_checks_the_button_exists(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ANN, "menu", reply_markup=keyboard([("Go", "go")]))
    with pytest.raises(ValueError, match="no button"):
        fake.press(sent.to_dict(), "forged")
    fake.press(sent.to_dict(), "forged", check_button=False)
    (update,) = await fetch_updates(bot)
    assert update.callback_query is not None and update.callback_query.data == "forged"


# --- editing and deleting --------------------------------------------------------------------------------
async def test_edits_follow_telegrams_rules(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ANN, "page 1", reply_markup=keyboard([("More", "p:2")]))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("page 1", ANN, sent.message_id, reply_markup=keyboard([("More", "p:2")]))
    assert last(fake, "editMessageText").description == errors.MESSAGE_NOT_MODIFIED
    edited = await bot.edit_message_text("page 1", ANN, sent.message_id)  # same text, keyboard removed
    assert edited.reply_markup is None and edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(ANN, sent.message_id)
    relabelled = await bot.edit_message_reply_markup(
        ANN, sent.message_id, reply_markup=keyboard([("Back", "p:1")])
    )
    assert relabelled.reply_markup == keyboard([("Back", "p:1")])
    user_message = fake.push_message(ANN, "mine")["message"]
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("hijack", ANN, user_message["message_id"])
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("gone", ANN, 999)
    with pytest.raises(BadRequest, match="There is no text in the message to edit"):
        photo = await bot.send_photo(ANN, jpeg())
        await bot.edit_message_text("text", ANN, photo.message_id)


async def test_caption_and_media_edits(fake: FakeTelegram, bot: Bot) -> None:
    photo = await bot.send_photo(ANN, jpeg(320, 320), caption="first")
    recaptioned = await bot.edit_message_caption(ANN, photo.message_id, caption="second")
    assert recaptioned.caption == "second"
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_caption(ANN, photo.message_id, caption="second")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.edit_message_caption(ANN, photo.message_id, caption="c" * 1025)
    replaced = await bot.edit_message_media(
        InputMediaPhoto(jpeg(200, 400), caption="next"),
        ANN,
        photo.message_id,
        reply_markup=keyboard([("x", "y")]),
    )
    assert (replaced.photo[-1].width, replaced.caption) == (200, "next")
    stored = fake.message(ANN, photo.message_id)
    assert stored is not None
    assert (stored["caption"], stored["photo"], stored["reply_markup"]) == (
        "next",
        [size.to_dict() for size in replaced.photo],
        keyboard([("x", "y")]).to_dict(),
    )


async def test_delete_message(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ANN, "bye")
    assert await bot.delete_message(ANN, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ANN, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("back?", ANN, sent.message_id)
    assert fake.messages(ANN) == []


# --- text, chats, commands -------------------------------------------------------------------------------
async def test_text_limits_and_parse_modes(fake: FakeTelegram, bot: Bot) -> None:
    assert (await bot.send_message(ANN, "y" * 4096)).text == "y" * 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ANN, "y" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ANN, "   ")
    link = await bot.send_message(
        ANN, '<a href="https://www.musinsa.com/products/1">무신사</a> 😀', parse_mode="HTML"
    )
    assert link.text == "무신사 😀"
    assert link.entities == (
        MessageEntity(MessageEntity.TEXT_LINK, 0, 3, url="https://www.musinsa.com/products/1"),
    )
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(ANN, "<blink>x</blink>", parse_mode="HTML")
    assert last(fake, "sendMessage").description == (
        'Bad Request: can\'t parse entities: Unsupported start tag "blink" at byte offset 0'
    )
    with pytest.raises(BadRequest):
        await bot.send_message(ANN, "Price 1.000 won", parse_mode="MarkdownV2")
    assert last(fake, "sendMessage").description == (
        "Bad Request: can't parse entities: "
        "Character '.' is reserved and must be escaped with the preceding '\\'"
    )
    escaped = await bot.send_message(ANN, r"*Price* 1\.000 won", parse_mode="MarkdownV2")
    assert escaped.text == "Price 1.000 won" and escaped.entities == (
        MessageEntity(MessageEntity.BOLD, 0, 5),
    )


async def test_user_entities_count_utf16_units(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_message(ANN, "/similar@snapfit_test_bot 😀 https://www.musinsa.com/products/3900000")
    (update,) = await fetch_updates(bot)
    message = update.message
    assert message is not None
    assert message.parse_entities() == {
        MessageEntity(MessageEntity.BOT_COMMAND, 0, 25): "/similar@snapfit_test_bot",
        MessageEntity(MessageEntity.URL, 29, 40): "https://www.musinsa.com/products/3900000",
    }


async def test_chats_must_exist_and_blocked_users_answer_403(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "who?")
    assert (await api(fake, "sendMessage", text="where?"))[1]["description"] == errors.CHAT_ID_EMPTY
    assert (await api(fake, "sendMessage", chat_id=0, text="where?"))[1][
        "description"
    ] == errors.CHAT_ID_EMPTY
    fake.block(ANN)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ANN, "still there?")
    fake.unblock(ANN)
    assert (await bot.send_message(ANN, "welcome back")).text == "welcome back"


async def test_commands_are_stored_by_scope_and_language(fake: FakeTelegram, bot: Bot) -> None:
    private = [BotCommand("start", "Start"), BotCommand("category", "Choose a category")]
    admin = [*private, BotCommand("sync", "Re-index now")]
    assert await bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats())
    assert await bot.set_my_commands(admin, scope=BotCommandScopeChat(ANN), language_code="ko")
    assert await bot.get_my_commands(scope=BotCommandScopeChat(ANN), language_code="ko") == tuple(admin)
    assert await bot.get_my_commands(scope=BotCommandScopeChat(ANN)) == ()
    assert fake.commands({"type": "all_private_chats"}) == [c.to_dict() for c in private]
    # Telegram refuses a chat scope for a chat the bot does not know (a user who never wrote to it).
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands(admin, scope=BotCommandScopeChat(777))
    assert last(fake, "setMyCommands").description == errors.CHAT_NOT_FOUND
    assert fake.commands({"type": "chat", "chat_id": 777}) == []
    for bad in ("Start", "a" * 33, "help-me"):
        with pytest.raises(BadRequest):
            await bot.set_my_commands([BotCommand(bad, "x")])
        assert last(fake, "setMyCommands").description == errors.BOT_COMMAND_INVALID
    assert await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert fake.commands({"type": "all_private_chats"}) == []
    assert await bot.set_my_description("Find Musinsa products from a photo")
    assert await bot.set_my_short_description("Photo → Musinsa")


# --- fault injection -------------------------------------------------------------------------------------
async def test_injected_faults_map_to_ptb_exceptions(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next("sendMediaGroup", 429, retry_after=3)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_media_group(ANN, [InputMediaPhoto(jpeg()), InputMediaPhoto(jpeg())])
    assert flood.value.retry_after == dtm.timedelta(seconds=3)
    assert last(fake, "sendMediaGroup").response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert len(await bot.send_media_group(ANN, [InputMediaPhoto(jpeg()), InputMediaPhoto(jpeg())])) == 2

    fake.fail_next("sendPhoto", 502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError) as gateway:
            await bot.send_photo(ANN, jpeg())
        assert type(gateway.value) is NetworkError
    assert (await bot.send_photo(ANN, jpeg())).photo

    fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ANN, "hi")
    fake.fail_next("getFile", 400, "Bad Request: file is too big")
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.get_file("anything")
    assert fake.messages(ANN)[-1].get("photo")  # faults stored nothing
    with pytest.raises(ValueError, match="does not implement"):
        fake.fail_next("sendTelepathy", 500)


# --- waiting helpers -------------------------------------------------------------------------------------
async def test_wait_for_times_out_with_the_recent_calls(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(ANN, "something else")
    with pytest.raises(AssertionError, match=r"waiting for a sendPhoto call(.|\n)*sendMessage -> ok"):
        await fake.wait_for("sendPhoto", timeout=0.05)
    mark = fake.mark()
    task = asyncio.create_task(fake.wait_for_count("sendMessage", 2, since=mark, timeout=WAIT))
    await bot.send_message(ANN, "one")
    await bot.send_message(ANN, "two")
    assert [call.result["text"] for call in await task] == ["one", "two"]


# --- the end-to-end shape the bot's tests will take ------------------------------------------------------
async def test_end_to_end_skeleton_photo_in_album_and_buttons_out(fake: FakeTelegram) -> None:
    """A toy photo handler run the way the bot will run: real polling, AIORateLimiter, a 429 on the album."""

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        await context.bot.send_chat_action(message.chat_id, ChatAction.UPLOAD_PHOTO)
        photo = await (await message.photo[-1].get_file()).download_as_bytearray()
        album = [InputMediaPhoto(bytes(photo), caption=f"Result {i}") for i in (1, 2)]
        await context.bot.send_media_group(message.chat_id, album)
        await message.reply_text("More?", reply_markup=keyboard([("More", "v1:p:s1:2")]))

    async def on_more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text("Page 2", reply_markup=keyboard([("Back", "v1:p:s1:1")]))

    app = (
        ApplicationBuilder()
        .token(TEST_TOKEN)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=1))
        .build()
    )
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    app.add_handler(CallbackQueryHandler(on_more, pattern=r"^v1:p:"))
    fake.fail_next("sendMediaGroup", 429, retry_after=1)
    async with polling(app):
        fake.push_photo(ANN, jpeg(720, 960))
        first, retried = await fake.wait_for_count("sendMediaGroup", 2, timeout=WAIT)
        follow_up = await fake.wait_for(
            "sendMessage", lambda c: "reply_markup" in c.result, ok=True, timeout=WAIT
        )
        fake.press(follow_up.result, text="More")
        await fake.wait_for("editMessageText", ok=True, timeout=WAIT)
    assert (first.status, retried.status) == (429, 200)
    assert [m["caption"] for m in retried.result] == ["Result 1", "Result 2"]
    (action,) = fake.chat_actions(ANN)
    assert action.action == "upload_photo" and action.call_index < retried.index
    assert fake.downloads[0].status == 200 and fake.downloads[0].path.startswith("photos/")
    assert fake.unanswered_callback_queries() == []
    assert fake.chat_transcript(ANN, include_user=True) == [
        "» [photo]",
        "sendChatAction: upload_photo",
        "sendMediaGroup #2-#3: 2 items",
        "  #2 photo 720x960: Result 1",
        "  #3 photo 720x960: Result 2",
        "sendMessage #4: More?  [More → v1:p:s1:2]",
        "» press #4: v1:p:s1:2",
        "answerCallbackQuery",
        "editMessageText #4: Page 2  [Back → v1:p:s1:1]",
    ]


# --- smaller pieces --------------------------------------------------------------------------------------
async def test_albums_groups_and_raw_updates_parse_in_ptb(fake: FakeTelegram, bot: Bot) -> None:
    album = fake.push_album(ANN, [jpeg(), jpeg(300, 300)], caption="two looks")
    with pytest.raises(ValueError, match="needs user"):
        fake.push_message(-100123, "hi all")
    fake.push_message(-1001234567890, "/start@snapfit_test_bot", user=fake.user(7, "Bo", language_code="en"))
    fake.push_update({"edited_message": {**album[0]["message"], "edit_date": album[0]["message"]["date"]}})
    first, second, group, edited = await fetch_updates(bot)
    assert first.message is not None and second.message is not None
    assert first.message.media_group_id == second.message.media_group_id is not None
    assert (first.message.caption, second.message.caption) == ("two looks", None)
    assert group.effective_chat is not None and group.effective_chat.type == "supergroup"
    assert group.effective_user is not None and group.effective_user.language_code == "en"
    assert edited.edited_message is not None


async def test_webhook_methods_and_dropping_pending_updates(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_message(ANN, "old news")
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 1)
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0


class WebhookReceiver:
    """A stand-in for the bot's webhook server: records each POST and answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str | None, str | None, dict[str, Any]]] = []
        self.status = 200
        self.runner: web.AppRunner | None = None
        self.origin = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self.received.append((request.path, secret, request.content_type, body))
        return web.Response(status=self.status)

    async def __aenter__(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.origin = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def test_set_webhook_is_strict_about_the_url_and_the_secret(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)an https url must be provided for webhook"):
        await bot.set_webhook("http://bot.example.com/hook")
    with pytest.raises(BadRequest, match=r"(?i)only on ports 80, 88, 443 or 8443"):
        await bot.set_webhook("https://bot.example.com:9000/hook")
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await bot.set_webhook("https://bot.example.com/hook", secret_token="no spaces")
    assert fake.webhook is None
    assert (await bot.get_webhook_info()).url == ""


async def test_getupdates_conflicts_while_a_webhook_is_set(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_webhook("https://bot.example.com:8443/hook", secret_token="s3cret")
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await fetch_updates(bot)
    assert last(fake, "getUpdates").status == 409
    info = await bot.get_webhook_info()
    assert (info.url, info.max_connections) == ("https://bot.example.com:8443/hook", 40)
    assert await bot.delete_webhook()
    assert fake.webhook is None and (await bot.get_webhook_info()).url == ""
    assert await fetch_updates(bot) == ()


async def test_webhook_delivers_pending_updates_with_the_secret_until_confirmed(
    fake: FakeTelegram, bot: Bot
) -> None:
    async with WebhookReceiver() as receiver:
        fake.webhook_origin = receiver.origin
        fake.webhook_delivery.retry_seconds = 0.05
        before = fake.push_message(ANN, "sent while polling")
        receiver.status = 500  # the bot is not ready yet: Telegram keeps the update and tries again
        assert await bot.set_webhook(
            "https://bot.example.com/telegram/hook",
            secret_token="s3cret-token",
            allowed_updates=["message"],
        )
        await fake.wait_until(lambda: len(fake.webhook_posts) >= 2, WAIT, "two failed deliveries")
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1 and info.allowed_updates == ("message",)
        assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        receiver.status = 200
        after = fake.push_message(ANN, "sent to the webhook")
        await fake.wait_until(lambda: not fake.pending_updates, WAIT, "every update delivered")
    delivered = [body for _, _, _, body in receiver.received]
    assert delivered[-2:] == [before, after]
    assert {(path, secret, kind) for path, secret, kind, _ in receiver.received} == {
        ("/telegram/hook", "s3cret-token", "application/json")
    }
    assert all(post.url == receiver.origin + "/telegram/hook" for post in fake.webhook_posts)
    assert [post.delivered for post in fake.webhook_posts][-2:] == [True, True]


async def test_set_webhook_drops_pending_updates_when_asked(fake: FakeTelegram, bot: Bot) -> None:
    fake.push_message(ANN, "old news")
    assert await bot.set_webhook("https://bot.example.com/hook", drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("https://bot.example.com/hook", 0)
    assert fake.webhook_posts == []


async def test_downloads_need_a_path_from_get_file(fake: FakeTelegram, bot: Bot) -> None:
    assert await raw_call(fake, f"/file/bot{TEST_TOKEN}/photos/file_1.jpg", method="GET") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    fake.push_photo(ANN, jpeg())
    (update,) = await fetch_updates(bot)
    assert update.message is not None
    path = (await bot.get_file(update.message.photo[-1])).file_path
    assert path is not None
    relative = path.removeprefix(f"{fake.base_file_url}{TEST_TOKEN}/")
    status, _ = await raw_call(fake, f"/file/bot123456:OTHER/{relative}", method="GET")
    assert status == 401
    assert [(d.path, d.status) for d in fake.downloads] == [("photos/file_1.jpg", 404), (relative, 401)]


async def test_documents_by_url_and_file_id(fake: FakeTelegram, bot: Bot) -> None:
    fake.register_url("https://example.com/size-chart.pdf", b"%PDF-1.4 chart")
    by_url = await bot.send_document(ANN, "https://example.com/size-chart.pdf")
    assert by_url.document is not None and by_url.document.file_name == "size-chart.pdf"
    again = await bot.send_document(ANN, by_url.document.file_id)
    assert again.document == by_url.document
    photo = await bot.send_photo(ANN, jpeg())
    with pytest.raises(BadRequest, match="Can't use file of type photo as document"):
        await bot.send_document(ANN, photo.photo[-1].file_id)
    fake.register_url("https://example.com/page.html", b"<html></html>", "text/html")
    with pytest.raises(BadRequest, match="Wrong type of the web page content"):
        await bot.send_document(ANN, "https://example.com/page.html")


@pytest.mark.parametrize(
    ("text", "mode", "plain", "entities"),
    [
        ("<b>bold <i>both</i></b> &lt;3 H&M", "HTML", "bold both <3 H&M", [("bold", 0, 9), ("italic", 5, 4)]),
        ('<a href="https://x.y/?a=1&amp;b=2">link</a>', "HTML", "link", [("text_link", 0, 4)]),
        ('<pre><code class="language-py">x = 1</code></pre>', "HTML", "x = 1", [("pre", 0, 5)]),
        ("😀 <u>under</u>", "HTML", "😀 under", [("underline", 3, 5)]),
        (r"__u__ ~s~ ||sp|| `c\`` [t](https://x.y/\))", "MarkdownV2", "u s sp c` t", None),
        ("*bold* _it_ `code` [t](https://x.y)", "Markdown", "bold it code t", None),
        ("  padded\n", None, "padded", []),
    ],
)
def test_parse_modes_give_plain_text_and_utf16_entities(
    text: str, mode: str | None, plain: str, entities: list[tuple[str, int, int]] | None
) -> None:
    formatted = format_text(text, mode)
    assert formatted.text == plain
    if entities is not None:
        assert [(e["type"], e["offset"], e["length"]) for e in formatted.entities] == entities


@pytest.mark.parametrize(
    ("text", "mode", "reason"),
    [
        ("<b>open", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", "HTML", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "HTML", "Unexpected end tag at byte offset 1"),
        ('<span class="red">x</span>', "HTML", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("가 <b", "HTML", "Unclosed start tag at byte offset 4"),
        ("*bold", "MarkdownV2", "Can't find end of Bold entity at byte offset 0"),
        ("a-b", "MarkdownV2", "Character '-' is reserved and must be escaped with the preceding '\\'"),
        ("_open", "Markdown", "Can't find end of the entity starting at byte offset 0"),
    ],
)
def test_markup_errors_use_telegrams_words(text: str, mode: str, reason: str) -> None:
    with pytest.raises(ApiError) as refused:
        format_text(text, mode)
    assert refused.value.description == f"Bad Request: can't parse entities: {reason}"


def test_unknown_parse_mode_is_refused() -> None:
    with pytest.raises(ApiError) as refused:
        format_text("x", "BBCode")
    assert refused.value.description == errors.UNSUPPORTED_PARSE_MODE
