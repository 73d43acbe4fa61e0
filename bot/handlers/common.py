"""Small helpers every handler uses: the user's language and category, safe replies, the search frame."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.context import BotContext
from bot.messages import Lang, plain, text
from bot.timing import Outcome, SearchKind, StageTimings

log = logging.getLogger(__name__)

CHAT_ACTION_SECONDS = 4.5  # an action shows for at most 5 s (or until the next message)
_HARMLESS = ("message is not modified", "query is too old", "query id is invalid")


async def send(
    context: BotContext, chat_id: int, html: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    await context.bot.send_message(chat_id, html, parse_mode=ParseMode.HTML, reply_markup=markup)


async def reply(
    update: Update, context: BotContext, html: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer in the chat the update came from."""
    chat = update.effective_chat
    if chat is not None:
        await send(context, chat.id, html, markup)


def is_harmless(error: BadRequest) -> bool:
    """Telegram's refusals that only mean 'nothing to do': an unchanged edit, an expired query."""
    message = error.message.lower()
    return any(phrase in message for phrase in _HARMLESS)


async def answer(query: CallbackQuery, note: str | None = None) -> None:
    """Answer a callback query (once); an expired query is not an error worth reporting."""
    try:
        await query.answer(note)
    except BadRequest as exc:
        if not is_harmless(exc):
            raise
        log.debug("callback query %s not answered: %s", query.id, exc.message)


def _claim(context: BotContext, user_id: int) -> Literal["ok", "busy", "rate_limited"]:
    """The user's search slot, then one search of their per-minute budget (``bot.limits``).

    Busy first, so a request refused as busy costs nothing; over the budget, the slot is given back.
    Synchronous: concurrent updates of one user cannot both pass.
    """
    services = context.services
    if not services.active.claim(user_id):
        return "busy"
    if not services.rate.allow(user_id):
        services.active.release(user_id)
        return "rate_limited"
    return "ok"


async def claim_for_message(update: Update, context: BotContext, user_id: int, lang: Lang) -> bool:
    """Claim a search for a message: "busy" while one runs, one "slow down" notice per minute over
    the budget (further messages of the burst get no answer)."""
    claimed = _claim(context, user_id)
    if claimed == "busy":
        await reply(update, context, text(lang, "user_busy"))
    elif claimed == "rate_limited":
        rate = context.services.rate
        if rate.should_notify(user_id):
            await reply(update, context, text(lang, "rate_limited", limit=rate.per_minute))
    return claimed == "ok"


async def claim_for_button(context: BotContext, query: CallbackQuery, user_id: int, lang: Lang) -> bool:
    """Claim a search for a pressed button and answer the press ("busy" or "slow down" when refused)."""
    claimed = _claim(context, user_id)
    if claimed == "busy":
        await answer(query, plain(lang, "user_busy"))
    elif claimed == "rate_limited":
        await answer(query, plain(lang, "rate_limited", limit=context.services.rate.per_minute))
    else:
        await answer(query)
    return claimed == "ok"


def chat_id_of(query: CallbackQuery) -> int | None:
    """The chat of the pressed message (None when Telegram did not say)."""
    return query.message.chat.id if query.message is not None else None


def editable(query: CallbackQuery) -> bool:
    """Whether the pressed message can still be edited (Telegram withholds messages older than 48 h)."""
    return isinstance(query.message, Message) and query.message.is_accessible


async def edit_markup(query: CallbackQuery, markup: InlineKeyboardMarkup | None) -> None:
    if not editable(query):
        return
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as exc:
        if not is_harmless(exc):
            raise


async def edit_text(query: CallbackQuery, html: str, markup: InlineKeyboardMarkup | None = None) -> bool:
    """Edit the pressed message's text; False when it cannot be edited any more."""
    if not editable(query):
        return False
    try:
        await query.edit_message_text(html, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:
        if not is_harmless(exc):
            raise
    return True


@contextlib.asynccontextmanager
async def chat_action(bot: Bot, chat_id: int, action: str = ChatAction.UPLOAD_PHOTO) -> AsyncIterator[None]:
    """Show ``action`` at once and every 4.5 s until the work inside is done."""

    async def show() -> None:
        try:
            await bot.send_chat_action(chat_id, action)
        except TelegramError as exc:
            log.debug("chat action for %d failed: %s", chat_id, exc)

    async def keep_showing() -> None:
        while True:
            await asyncio.sleep(CHAT_ACTION_SECONDS)
            await show()

    await show()
    task = asyncio.create_task(keep_showing(), name=f"chat-action-{chat_id}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class SearchRun:
    """One search a handler runs: its stage timings and its outcome (set by the handler)."""

    timings: StageTimings = field(default_factory=StageTimings)
    outcome: Outcome = "error"


@contextlib.asynccontextmanager
async def user_search(
    context: BotContext, user_id: int, chat_id: int, kind: SearchKind
) -> AsyncIterator[SearchRun]:
    """The frame of every search: the chat action shown meanwhile, then, whatever happens, the user's
    search slot (claimed by the caller) released and the timings recorded under ``kind``."""
    services = context.services
    run = SearchRun()
    try:
        async with chat_action(context.bot, chat_id):
            yield run
    finally:
        services.active.release(user_id)
        services.timings.record(kind, run.outcome, run.timings)
