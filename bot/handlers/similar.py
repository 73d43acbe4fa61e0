"""/similar <id or link>: the neighbours of a Musinsa product (also behind the 'Similar #n' buttons)."""

from __future__ import annotations

from telegram import Update

from bot.context import BotContext
from bot.handlers.common import lang_of, reply, send, user_category, user_search
from bot.handlers.results import error_text, outcome_of, show_page
from bot.messages import Lang, text
from bot.render import product_summary
from bot.search import SearchError
from bot.timing import Outcome, StageTimings


async def on_similar(update: Update, context: BotContext) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    lang = lang_of(update)
    ref = " ".join(context.args or []).strip()
    if not ref:
        await reply(update, context, text(lang, "similar_usage"))
        return
    services = context.services
    if not services.active.claim(user.id):
        await reply(update, context, text(lang, "user_busy"))
        return
    async with user_search(context, user.id, chat.id, "similar") as run:
        run.outcome = await similar_search(context, chat.id, lang, ref, run.timings)


async def similar_search(
    context: BotContext, chat_id: int, lang: Lang, ref: str | int, timings: StageTimings
) -> Outcome:
    """Search around product ``ref`` and show the first page (the caller holds the user's search slot)."""
    services = context.services
    page_size = services.settings.telegram.results_per_page
    category = user_category(context)
    try:
        result = await services.search.similar(ref, category=category, limit=page_size, timings=timings)
    except SearchError as exc:
        await send(context, chat_id, error_text(lang, exc))
        return outcome_of(exc)
    session = services.sessions.create(
        "similar",
        category=category,
        page_size=page_size,
        query=result.query,
        source_id=result.source.id,
        source_label=product_summary(result.source),
        exclude_ids=(result.source.id,),
    )
    return await show_page(context, chat_id, lang, session, result.items, timings)
