"""/similar <id or link> and the 'Similar #n' buttons: the neighbours of a Musinsa product."""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.context import BotContext
from bot.handlers.common import answer, claim_for_button, claim_for_message, reply, user_search
from bot.handlers.results import pressed_session, search_failed, show_first_page
from bot.messages import Lang, plain, text
from bot.preferences import lang_of, user_category
from bot.render import SimilarButton, product_summary
from bot.search import SearchError
from bot.timing import Outcome, StageTimings


async def on_similar(update: Update, context: BotContext) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    lang = lang_of(update, context)
    ref = " ".join(context.args or []).strip()
    if not ref:
        await reply(update, context, text(lang, "similar_usage"))
        return
    if not await claim_for_message(update, context, user.id, lang):
        return
    async with user_search(context, user.id, chat.id, "similar") as run:
        run.outcome = await similar_search(context, chat.id, user.id, lang, ref, run.timings)


async def on_similar_button(
    update: Update, context: BotContext, query: CallbackQuery, button: SimilarButton, lang: Lang
) -> None:
    """'Similar #n' under a page of results: the neighbours of result ``#n``."""
    pressed = await pressed_session(update, context, query, button.search_id, lang)
    if pressed is None:
        return
    session, chat_id, user_id = pressed
    if not 1 <= button.rank <= len(session.shown):
        await answer(query, plain(lang, "search_again"))
        return
    if not await claim_for_button(context, query, user_id, lang):
        return
    async with user_search(context, user_id, chat_id, "similar") as run:
        run.outcome = await similar_search(
            context, chat_id, user_id, lang, session.shown[button.rank - 1], run.timings
        )


async def similar_search(
    context: BotContext, chat_id: int, user_id: int, lang: Lang, ref: str | int, timings: StageTimings
) -> Outcome:
    """Search around product ``ref`` for ``user_id`` and show the first page (the caller holds the
    user's search slot)."""
    services = context.services
    category = user_category(context)
    try:
        result = await services.search.similar(
            ref, category=category, limit=services.settings.telegram.results_per_page, timings=timings
        )
    except SearchError as exc:
        return await search_failed(context, chat_id, lang, exc)
    return await show_first_page(
        context,
        chat_id,
        user_id,
        lang,
        "similar",
        result,
        timings,
        category=category,
        source_id=result.source.id,
        source_label=product_summary(result.source),
        exclude_ids=(result.source.id,),
    )
