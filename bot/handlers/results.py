"""Pages of results: the first page of a search, "More", and what to say when there are none.

A search's session keeps what made it (category, filters, query vector or source product, words),
so "More" pages on with exactly that, whatever the user changed since.
"""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, Message, Update

from bot.context import BotContext
from bot.delivery import send_products
from bot.empty_catalog import empty_catalog_text
from bot.handlers.common import answer, chat_id_of, claim_for_button, edit_markup, editable, send, user_search
from bot.messages import Lang, image_error_text, plain, text
from bot.preferences import user_filters
from bot.render import (
    PageButton,
    category_name,
    no_results_text,
    results_header,
    results_keyboard,
    without_more,
)
from bot.search import BadImageError, CatalogEmptyError, InvalidProductRefError, SearchError
from bot.sessions import SearchKind, SearchSession
from bot.timing import Outcome, StageTimings
from indexer.store import ScoredProduct, SearchFilters

# SearchError code -> text key (errors with their own rendering are handled in error_text).
_ERROR_TEXTS = {
    "catalog_empty": "catalog_empty",
    "index_rebuilding": "index_rebuilding",
    "stale": "search_again",
    "busy": "encoder_busy",
    "unknown_product": "unknown_product",
    "musinsa_unavailable": "musinsa_unavailable",
    "product_image_unavailable": "product_image_unavailable",
    "text_index_pending": "text_index_pending",
}


def error_text(lang: Lang, error: SearchError) -> str:
    """What to tell the user about a search that could not run."""
    if isinstance(error, BadImageError):
        return image_error_text(lang, error.image_code)
    if isinstance(error, InvalidProductRefError):
        detail = error.detail.rstrip(".")
        return text(lang, "invalid_ref", detail=detail[:1].upper() + detail[1:])
    goods_no = getattr(error, "goods_no", "")
    return text(lang, _ERROR_TEXTS.get(error.code, "error_apology"), goods_no=goods_no)


def outcome_of(error: SearchError) -> Outcome:
    if isinstance(error, BadImageError):
        return f"bad_image:{error.image_code}"
    return error.code


async def search_failed(context: BotContext, chat_id: int, lang: Lang, error: SearchError) -> Outcome:
    """Tell the user why the search could not run; returns the outcome to record."""
    if isinstance(error, CatalogEmptyError):  # "being built" only while a sync runs; admins get why
        admin = chat_id in context.services.settings.telegram.admin_ids
        await send(context, chat_id, empty_catalog_text(context.services, lang, admin=admin))
        return outcome_of(error)
    await send(context, chat_id, error_text(lang, error))
    return outcome_of(error)


async def show_first_page(
    context: BotContext,
    chat_id: int,
    user_id: int,
    lang: Lang,
    kind: SearchKind,
    items: list[ScoredProduct],
    timings: StageTimings,
    *,
    category: str | tuple[str, ...] | None,
    filters: SearchFilters,
    **details: Any,
) -> Outcome:
    """Keep a search as ``user_id``'s new session (for "More" and "Similar #n"), made with ``category``
    and ``filters`` (and ``details``: its query vector, source product, words...), and show ``items``,
    its first page."""
    services = context.services
    session = services.sessions.create(
        kind,
        user_id=user_id,
        category=category,
        page_size=services.settings.telegram.results_per_page,
        filters=filters,
        **details,
    )
    return await show_page(context, chat_id, lang, session, items, timings)


async def show_page(
    context: BotContext,
    chat_id: int,
    lang: Lang,
    session: SearchSession,
    items: list[ScoredProduct],
    timings: StageTimings,
) -> Outcome:
    """Send one page of ``session`` (album + buttons) and record what was shown in it."""
    services = context.services
    with timings.stage("reply"):
        if not items:
            session.exhausted = True
            await send(context, chat_id, _none_found(lang, session))
            return "no_results"
        first_rank = len(session.shown) + 1
        shown = await send_products(
            context.bot,
            chat_id,
            [item.product for item in items],
            first_rank=first_rank,
            lang=lang,
            photos=services.photos,
        )
        session.shown.extend(product.id for product in shown)
        session.pages.append(tuple(product.id for product in shown))
        session.next_offset += len(items)
        session.pages_sent += 1
        session.exhausted = len(items) < session.page_size
        header = results_header(
            lang,
            first=first_rank,
            last=first_rank + len(shown) - 1,
            category=session.category,
            similar_to=session.source_label or None,
            garment=session.garment,
            filters=session.filters,
            understood=session.understood,
        )
        if session.text is not None:
            header = text(lang, "text_results_for", words=session.text) + "\n" + header
        markup = results_keyboard(
            lang,
            search_id=session.id,
            first_rank=first_rank,
            count=len(shown),
            next_page=None if session.exhausted else session.pages_sent + 1,
            category=session.category,
            whole_photo=session.photo_id if session.garment is not None else None,
            widen=session.kind == "similar" and session.category is not None,
            clear_filters=not user_filters(context).is_default,
            feedback_page=session.pages_sent,
        )
        await send(context, chat_id, header, markup)
    return "ok"


def _none_found(lang: Lang, session: SearchSession) -> str:
    """Nothing (more) to show: the end of a search, or what to try when its first page is empty."""
    if session.text is not None and session.pages_sent == 0:
        category = category_name(lang, session.category)
        return text(lang, "text_no_results", words=session.text, category=category)
    return no_results_text(lang, session.pages_sent == 0, session.category, session.filters)


async def pressed_session(
    update: Update, context: BotContext, query: CallbackQuery, search_id: str, lang: Lang
) -> tuple[SearchSession, int, int] | None:
    """The live search a pressed button belongs to, with the chat and user ids.

    None once the user has been answered: search again (the search expired, or Telegram left out
    the chat or the user), or not yours (the search is another user's).
    """
    session = context.services.sessions.get(search_id)
    chat_id = chat_id_of(query)
    user = update.effective_user
    if session is None or chat_id is None or user is None:
        await answer(query, plain(lang, "search_again"))
        return None
    if session.user_id != user.id:
        await answer(query, plain(lang, "not_yours"))
        return None
    return session, chat_id, user.id


async def on_more_button(
    update: Update, context: BotContext, query: CallbackQuery, button: PageButton, lang: Lang
) -> None:
    """ "More": the next page of a live search, below; the pressed message loses its "More"."""
    pressed = await pressed_session(update, context, query, button.search_id, lang)
    if pressed is None:
        return
    session, chat_id, user_id = pressed
    if button.page <= session.pages_sent or session.lock.locked():
        await answer(query, plain(lang, "already_shown"))
        return
    if button.page != session.pages_sent + 1 or session.exhausted:
        await answer(query, plain(lang, "search_again"))
        return
    if not await claim_for_button(context, query, user_id, lang):
        return
    async with user_search(context, user_id, chat_id, "more") as run, session.lock:
        pressed = query.message if editable(query) and isinstance(query.message, Message) else None
        await edit_markup(query, without_more(pressed.reply_markup if pressed else None))
        try:
            items = await _next_page(context, session, run.timings)
        except SearchError as exc:
            run.outcome = await search_failed(context, chat_id, lang, exc)
        else:
            run.outcome = await show_page(context, chat_id, lang, session, items, run.timings)


async def _next_page(
    context: BotContext, session: SearchSession, timings: StageTimings
) -> list[ScoredProduct]:
    search = context.services.search
    if session.text is not None:  # the words again, with the first page's query vector (no re-embed)
        return await search.search_text_page(
            session.text,
            session.query,
            category=session.category,
            filters=session.filters,
            limit=session.page_size,
            offset=session.next_offset,
            timings=timings,
        )
    if session.query is not None:
        return await search.search_vector(
            session.query,
            category=session.category,
            filters=session.filters,
            limit=session.page_size,
            offset=session.next_offset,
            exclude_ids=session.exclude_ids,
            timings=timings,
        )
    assert session.source_id is not None
    return await search.similar_stored(
        session.source_id,
        category=session.category,
        filters=session.filters,
        limit=session.page_size,
        offset=session.next_offset,
        timings=timings,
    )
