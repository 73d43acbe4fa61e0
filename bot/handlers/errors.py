"""The last resort: log an unexpected error with its context and apologise to the user.

The log names the update, user and chat (never message contents or the token: the token is
redacted by ``indexer.logs`` and httpx's URL logging is kept at WARNING). A user who blocked
the bot cannot be apologised to, so that is logged quietly.
"""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.context import BotContext
from bot.handlers.common import is_harmless
from bot.messages import plain, text
from bot.preferences import lang_of

log = logging.getLogger(__name__)


def describe(update: object, context: BotContext) -> str:
    if isinstance(update, Update):
        user = update.effective_user
        chat = update.effective_chat
        kind = "callback" if update.callback_query else "message" if update.effective_message else "update"
        return (
            f"{kind} update {update.update_id} "
            f"(user {user.id if user else '-'}, chat {chat.id if chat else '-'})"
        )
    job = getattr(context, "job", None)
    if job is not None:
        return f"job {job.name!r}"
    return "a background task"


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    where = describe(update, context)
    if isinstance(error, Forbidden):
        log.info("%s: the bot cannot write to this chat (%s)", where, error)
        return
    if isinstance(error, BadRequest) and is_harmless(error):
        log.debug("%s: %s", where, error)
        return
    log.error(
        "unexpected error while handling %s: %s: %s", where, type(error).__name__, error, exc_info=error
    )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    lang = lang_of(update, context)
    query = update.callback_query
    try:
        if query is not None:
            with contextlib.suppress(BadRequest):  # already answered before the failure
                await query.answer(plain(lang, "error_apology"))
        await context.bot.send_message(
            update.effective_chat.id, text(lang, "error_apology"), parse_mode=ParseMode.HTML
        )
    except TelegramError as exc:
        log.warning("could not apologise in chat %d: %s", update.effective_chat.id, exc)
