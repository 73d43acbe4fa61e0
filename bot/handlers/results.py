"""Showing a page of results (album, then the message with buttons) and saying why there are none."""

from __future__ import annotations

from bot.context import BotContext
from bot.delivery import send_products
from bot.handlers.common import send
from bot.messages import Lang, image_error_text, text
from bot.render import category_name, results_header, results_keyboard
from bot.search import (
    BadImageError,
    InvalidProductRefError,
    SearchError,
)
from bot.sessions import SearchSession
from bot.timing import Outcome, StageTimings
from indexer.store import ScoredProduct

# SearchError code -> text key (errors with their own rendering are handled in error_text).
_ERROR_TEXTS = {
    "catalog_empty": "catalog_empty",
    "index_rebuilding": "index_rebuilding",
    "stale": "search_again",
    "busy": "encoder_busy",
    "unknown_product": "unknown_product",
    "musinsa_unavailable": "musinsa_unavailable",
    "product_image_unavailable": "product_image_unavailable",
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
            key = "no_results" if session.pages_sent == 0 else "no_more_results"
            await send(context, chat_id, text(lang, key, category=category_name(lang, session.category)))
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
        )
        markup = results_keyboard(
            lang,
            search_id=session.id,
            first_rank=first_rank,
            count=len(shown),
            next_page=None if session.exhausted else session.pages_sent + 1,
            category=session.category,
            whole_photo=session.photo_id if session.garment is not None else None,
        )
        await send(context, chat_id, header, markup)
    return "ok"
