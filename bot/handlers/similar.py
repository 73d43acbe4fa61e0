"""/similar <id or link>, the 'Similar #n' buttons and 'Widen': the neighbours of a Musinsa product.

Neighbours are searched in the source product's own top-level category (a hoodie's are tops), not
in the user's /category, which keeps applying to photos and text; "Widen to all categories" runs
the same search again over every category. /similar uses the user's filters; "Similar #n" and
"Widen" those of the search they were pressed under.
"""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.context import BotContext
from bot.handlers.common import answer, claim_for_button, claim_for_message, reply, user_search
from bot.handlers.results import pressed_session, search_failed, show_first_page
from bot.messages import Lang, plain, text
from bot.preferences import lang_of, user_filters
from bot.render import SimilarButton, WidenButton, product_summary
from bot.search import SearchError
from bot.sessions import SearchSession
from bot.timing import Outcome, StageTimings
from indexer.store import ScoredProduct, SearchFilters


async def on_similar(update: Update, context: BotContext) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    lang = lang_of(update, context)
    ref = " ".join(context.args or []).strip()
    if not ref:
        await reply(update, context, text(lang, "similar_usage"))
        return
    await similar_from_message(update, context, lang, ref)


async def similar_from_message(update: Update, context: BotContext, lang: Lang, ref: str) -> None:
    """/similar, or a pasted link or product number: claim a search and show the neighbours of ``ref``."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    if not await claim_for_message(update, context, user.id, lang):
        return
    async with user_search(context, user.id, chat.id, "similar") as run:
        run.outcome = await similar_search(
            context, chat.id, user.id, lang, ref, user_filters(context), run.timings
        )


async def on_similar_button(
    update: Update, context: BotContext, query: CallbackQuery, button: SimilarButton, lang: Lang
) -> None:
    """'Similar #n' under a page of results: the neighbours of result ``#n``, with that search's filters."""
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
            context, chat_id, user_id, lang, session.shown[button.rank - 1], session.filters, run.timings
        )


async def similar_search(
    context: BotContext,
    chat_id: int,
    user_id: int,
    lang: Lang,
    ref: str | int,
    filters: SearchFilters,
    timings: StageTimings,
) -> Outcome:
    """Search around product ``ref`` in its own top-level category, with ``filters``, for ``user_id``
    and show the first page (the caller holds the user's search slot)."""
    services = context.services
    try:
        result = await services.search.similar(
            ref,
            same_kind=True,
            filters=filters,
            limit=services.settings.telegram.results_per_page,
            timings=timings,
        )
    except SearchError as exc:
        return await search_failed(context, chat_id, lang, exc)
    return await show_first_page(
        context,
        chat_id,
        user_id,
        lang,
        "similar",
        result.items,
        timings,
        category=result.category,
        filters=filters,
        query=result.query,
        source_id=result.source.id,
        source_label=product_summary(result.source),
        exclude_ids=(result.source.id,),
    )


async def on_widen_button(
    update: Update, context: BotContext, query: CallbackQuery, button: WidenButton, lang: Lang
) -> None:
    """'Widen to all categories' under a similar search: the same neighbours, over every category."""
    pressed = await pressed_session(update, context, query, button.search_id, lang)
    if pressed is None:
        return
    session, chat_id, user_id = pressed
    if session.source_id is None:
        await answer(query, plain(lang, "search_again"))
        return
    if not await claim_for_button(context, query, user_id, lang):
        return
    async with user_search(context, user_id, chat_id, "similar") as run:
        try:
            items = await _widened(context, session, run.timings)
        except SearchError as exc:
            run.outcome = await search_failed(context, chat_id, lang, exc)
            return
        run.outcome = await show_first_page(
            context,
            chat_id,
            user_id,
            lang,
            "similar",
            items,
            run.timings,
            category=None,
            filters=session.filters,
            query=session.query,
            source_id=session.source_id,
            source_label=session.source_label,
            exclude_ids=session.exclude_ids,
        )


async def _widened(context: BotContext, session: SearchSession, timings: StageTimings) -> list[ScoredProduct]:
    """The first page of ``session``'s similar search over all categories (no Musinsa fetch, no embed:
    the stored product's own vector, or the query vector kept from the first search)."""
    search = context.services.search
    limit = session.page_size
    if session.query is not None:
        return await search.search_vector(
            session.query,
            filters=session.filters,
            limit=limit,
            exclude_ids=session.exclude_ids,
            timings=timings,
        )
    assert session.source_id is not None
    return await search.similar_stored(
        session.source_id, filters=session.filters, limit=limit, timings=timings
    )
