"""Photos in, products out: the album gate and the photo search itself.

A caption refines that one search (``bot.caption.refine``: price, gender, category, sold-out
over the user's saved scope); a caption with none of them is said so, and the photo searched as sent.

Albums: Telegram delivers each photo of an album as its own update with a shared
``media_group_id``. The first of them that arrives is searched (with a note saying so); the
others are dropped silently and do not count against the rate limit. The user's search slot and
per-minute budget are claimed in ``on_photo`` (``handlers.common.claim_for_message``), busy first.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update
from telegram.constants import FileSizeLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.caption import refine
from bot.context import BotContext
from bot.handlers.common import claim_for_message, reply, user_search
from bot.handlers.garment_pick import search_photo
from bot.messages import Lang, format_bytes, image_error_text, text
from bot.preferences import lang_of
from bot.scope import SearchScope, user_scope
from bot.timing import Outcome, StageTimings

log = logging.getLogger(__name__)
# Telegram's download limit for bots, as users read it ("20 MB").
DOWNLOAD_LIMIT = f"{FileSizeLimit.FILESIZE_DOWNLOAD // 1_000_000} MB"


async def photo_gate(update: Update, context: BotContext) -> None:
    """Group -1: drop an album's extra photos (the first one seen is searched)."""
    message = update.effective_message
    if message is None:
        return
    if message.media_group_id and not context.services.albums.first(message.media_group_id):
        raise ApplicationHandlerStop


async def on_photo(update: Update, context: BotContext) -> None:
    """A photo, or an image sent as a file: pick the garment (``handlers.garment_pick``), then search."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    lang = lang_of(update, context)
    if not await claim_for_message(update, context, user.id, lang):
        return
    async with user_search(context, user.id, chat.id, "photo") as run:
        if message.media_group_id:
            await reply(update, context, text(lang, "album_note"))
        scope = await _scope(update, context, message.caption, lang)
        run.outcome = await _search(update, context, message, lang, scope, run.timings)


async def _scope(update: Update, context: BotContext, caption: str | None, lang: Lang) -> SearchScope:
    """The user's saved scope, refined by the photo's caption for this search; what of the caption
    could not be used is told first."""
    scope = user_scope(context)
    if not caption or not caption.strip():
        return scope
    reading = await asyncio.to_thread(refine, scope, caption)  # the analyser's first load is slow
    if reading.problem is not None:
        await reply(update, context, text(lang, "caption_price_problem", reason=reading.problem.reason(lang)))
    elif not reading.understood:
        await reply(update, context, text(lang, "caption_not_understood"))
    return reading.scope


def _incoming(message: Message) -> tuple[str, int | None]:
    """The file to download: the largest photo size, or the document."""
    if message.photo:
        largest = message.photo[-1]
        return largest.file_id, largest.file_size
    assert message.document is not None
    return message.document.file_id, message.document.file_size


async def _search(
    update: Update,
    context: BotContext,
    message: Message,
    lang: Lang,
    scope: SearchScope,
    timings: StageTimings,
) -> Outcome:
    chat_id = message.chat_id
    file_id, size = _incoming(message)
    if size is not None and size > FileSizeLimit.FILESIZE_DOWNLOAD:
        await reply(
            update, context, text(lang, "file_too_big", size=format_bytes(size), limit=DOWNLOAD_LIMIT)
        )
        return "too_big"
    if size is not None and size > context.services.settings.images.max_bytes:
        await reply(update, context, image_error_text(lang, "too_many_bytes"))
        return "bad_image:too_many_bytes"
    try:
        with timings.stage("download"):
            telegram_file = await context.bot.get_file(file_id)
            data = bytes(await telegram_file.download_as_bytearray())
    except BadRequest as exc:
        if "too big" in exc.message.lower():
            await reply(
                update, context, text(lang, "file_too_big", size=f"> {DOWNLOAD_LIMIT}", limit=DOWNLOAD_LIMIT)
            )
            return "too_big"
        log.warning("could not download a photo in chat %d: %s", chat_id, exc.message)
        await reply(update, context, text(lang, "download_failed"))
        return "download_failed"
    except TelegramError as exc:
        log.warning("could not download a photo in chat %d: %s", chat_id, exc)
        await reply(update, context, text(lang, "download_failed"))
        return "download_failed"

    user_id = update.effective_user.id if update.effective_user else chat_id
    return await search_photo(context, chat_id, user_id, lang, data, timings, scope)
