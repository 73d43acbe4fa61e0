"""Everything that is not a photo, a plain text or a known command gets a short, specific answer
(private chats). Plain texts are searched (``handlers.text``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.context import BotContext
from bot.handlers.common import reply
from bot.messages import text
from bot.preferences import lang_of

PRIVATE = filters.ChatType.PRIVATE

# What a message is -> the text key it is answered with; the first match wins. Images sent as files
# never get here (they are searched like photos), so a document is a file that is not an image.
ANSWERS: tuple[tuple[filters.BaseFilter, str], ...] = (
    (filters.COMMAND, "unknown_command"),
    (filters.Sticker.ALL, "sticker"),
    (filters.VIDEO | filters.ANIMATION | filters.VIDEO_NOTE, "video"),
    (filters.VOICE | filters.AUDIO, "voice"),
    (filters.Document.ALL, "not_image_document"),
    (~filters.StatusUpdate.ALL, "other_content"),
)


def answer_with(key: str) -> Callable[[Update, BotContext], Awaitable[None]]:
    """A handler that answers with the ``key`` text in the user's language."""

    async def answer(update: Update, context: BotContext) -> None:
        await reply(update, context, text(lang_of(update, context), key))

    return answer


def other_handlers() -> list[MessageHandler]:  # type: ignore[type-arg]
    """One handler per entry of ``ANSWERS``, in private chats only, in order."""
    return [MessageHandler(kind & PRIVATE, answer_with(key)) for kind, key in ANSWERS]
