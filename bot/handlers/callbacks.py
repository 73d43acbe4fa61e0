"""Inline buttons: More, Similar #n, category choice, garment pick. Every query is answered, exactly once.

Whether a button can still work is decided before answering, from memory only, so a stale one
(after a restart or once its search expired) is answered "please search again" at once.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Message, Update

from bot.context import BotContext
from bot.handlers.category import category_prompt, choose_category
from bot.handlers.common import answer, edit_markup, edit_text, editable, lang_of, send, user_search
from bot.handlers.garments import on_garment_button
from bot.handlers.results import error_text, outcome_of, show_page
from bot.handlers.similar import similar_search
from bot.messages import Lang, plain
from bot.render import (
    CategoryButton,
    CategoryMenuButton,
    GarmentButton,
    PageButton,
    SimilarButton,
    parse_callback,
    without_more,
)
from bot.search import SearchError
from bot.sessions import SearchSession
from bot.timing import StageTimings
from indexer.store import ScoredProduct

log = logging.getLogger(__name__)


async def on_callback(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    lang = lang_of(update)
    button = parse_callback(query.data)
    if isinstance(button, PageButton):
        await _more(update, context, query, button, lang)
    elif isinstance(button, SimilarButton):
        await _similar(update, context, query, button, lang)
    elif isinstance(button, CategoryButton):
        await answer(query)
        confirmation = await choose_category(context, lang, button.code)
        chat_id = _chat_id(query)
        if not await edit_text(query, confirmation) and chat_id is not None:
            await send(context, chat_id, confirmation)
    elif isinstance(button, GarmentButton):
        await on_garment_button(update, context, query, button, lang)
    elif isinstance(button, CategoryMenuButton):
        await answer(query)
        prompt, markup = category_prompt(context, lang)
        if query.message is not None:
            await send(context, query.message.chat.id, prompt, markup)
    else:
        log.info("stale or unknown callback data %r", query.data)
        await answer(query, plain(lang, "search_again"))


def _chat_id(query: CallbackQuery) -> int | None:
    return query.message.chat.id if query.message is not None else None


async def _more(
    update: Update, context: BotContext, query: CallbackQuery, button: PageButton, lang: Lang
) -> None:
    services = context.services
    session = services.sessions.get(button.search_id)
    chat_id = _chat_id(query)
    user = update.effective_user
    if session is None or chat_id is None or user is None:
        await answer(query, plain(lang, "search_again"))
        return
    if button.page <= session.pages_sent or session.lock.locked():
        await answer(query, plain(lang, "already_shown"))
        return
    if button.page != session.pages_sent + 1 or session.exhausted:
        await answer(query, plain(lang, "search_again"))
        return
    if not services.active.claim(user.id):
        await answer(query, plain(lang, "user_busy"))
        return
    await answer(query)
    async with user_search(context, user.id, chat_id, "more") as run, session.lock:
        # The next page goes below; this message keeps its other buttons but loses "More".
        pressed = query.message if editable(query) and isinstance(query.message, Message) else None
        await edit_markup(query, without_more(pressed.reply_markup if pressed else None))
        try:
            items = await _next_page(context, session, run.timings)
        except SearchError as exc:
            await send(context, chat_id, error_text(lang, exc))
            run.outcome = outcome_of(exc)
        else:
            run.outcome = await show_page(context, chat_id, lang, session, items, run.timings)


async def _next_page(
    context: BotContext, session: SearchSession, timings: StageTimings
) -> list[ScoredProduct]:
    search = context.services.search
    if session.query is not None:
        return await search.search_vector(
            session.query,
            category=session.category,
            limit=session.page_size,
            offset=session.next_offset,
            exclude_ids=session.exclude_ids,
            timings=timings,
        )
    assert session.source_id is not None
    return await search.similar_stored(
        session.source_id,
        category=session.category,
        limit=session.page_size,
        offset=session.next_offset,
        timings=timings,
    )


async def _similar(
    update: Update, context: BotContext, query: CallbackQuery, button: SimilarButton, lang: Lang
) -> None:
    services = context.services
    session = services.sessions.get(button.search_id)
    chat_id = _chat_id(query)
    user = update.effective_user
    if session is None or chat_id is None or user is None or not 1 <= button.rank <= len(session.shown):
        await answer(query, plain(lang, "search_again"))
        return
    if not services.active.claim(user.id):
        await answer(query, plain(lang, "user_busy"))
        return
    await answer(query)
    async with user_search(context, user.id, chat_id, "similar") as run:
        run.outcome = await similar_search(
            context, chat_id, lang, session.shown[button.rank - 1], run.timings
        )
