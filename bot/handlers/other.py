"""Everything that is not a photo or a known command gets a short, specific answer (private chats)."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.handlers.common import lang_of, reply
from bot.messages import text


async def _answer(update: Update, context: BotContext, key: str) -> None:
    await reply(update, context, text(lang_of(update), key))


async def on_text(update: Update, context: BotContext) -> None:
    await _answer(update, context, "text_hint")


async def on_unknown_command(update: Update, context: BotContext) -> None:
    await _answer(update, context, "unknown_command")


async def on_sticker(update: Update, context: BotContext) -> None:
    await _answer(update, context, "sticker")


async def on_video(update: Update, context: BotContext) -> None:
    await _answer(update, context, "video")


async def on_voice(update: Update, context: BotContext) -> None:
    await _answer(update, context, "voice")


async def on_document(update: Update, context: BotContext) -> None:
    """A file that is not an image (images sent as files are searched like photos)."""
    await _answer(update, context, "not_image_document")


async def on_other(update: Update, context: BotContext) -> None:
    await _answer(update, context, "other_content")
