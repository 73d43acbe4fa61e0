"""Garment pick: search the garment the user means, never a crop they did not choose.

After a photo is downloaded (``search_photo``):

- two or more garments: the photo comes back with numbered boxes and one button per garment
  plus "Whole photo"; the photo waits in ``services.pending`` for the press;
- exactly one: its crop is searched at once, and the results offer "Whole photo";
- none, or no parser (disabled, or its model cannot be loaded): the whole photo is searched.

A garment's crop is searched in its categories (``[garments.categories]``), unless the user chose one
with /category. A press on a photo that is no longer pending asks the user to send it again.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.context import BotContext
from bot.garment_finder import pending_garment
from bot.handlers.common import answer, chat_id_of, claim_for_button, send, user_search
from bot.handlers.results import search_failed, show_first_page
from bot.messages import Lang, plain, text
from bot.pending import PendingPhoto
from bot.preview import draw_preview
from bot.render import GarmentButton, garment_keyboard
from bot.scope import SearchScope, user_scope
from bot.search import SearchError
from bot.timing import Outcome, StageTimings

log = logging.getLogger(__name__)


async def search_photo(
    context: BotContext,
    chat_id: int,
    user_id: int,
    lang: Lang,
    data: bytes,
    timings: StageTimings,
    *,
    scope: SearchScope | None = None,
) -> Outcome:
    """The photo flow after the download: ask which garment, search the only one, or the whole photo.
    ``scope``: where to search (the user's, refined by the photo's caption); the user's when None."""
    services = context.services
    try:
        found = await services.garments.find(data, timings=timings)
    except SearchError as exc:
        return await search_failed(context, chat_id, lang, exc)
    if found is None or not found.garments:
        return await whole_photo_search(context, chat_id, user_id, lang, data, timings, scope=scope)
    with timings.stage("parse"):
        garments = await asyncio.to_thread(lambda: [pending_garment(g) for g in found.garments])
    photo = services.pending.add(user_id, data, garments, scope)
    if len(garments) == 1:
        return await garment_search(context, chat_id, lang, photo, 1, timings, scope=scope)
    with timings.stage("reply"):
        preview = await asyncio.to_thread(draw_preview, found.image, [g.box for g in found.garments])
        question = text(lang, "garments_prompt", count=len(garments))
        markup = garment_keyboard(lang, photo.id, [g.label for g in garments])
        try:
            await context.bot.send_photo(
                chat_id, preview, caption=question, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except BadRequest as exc:  # the question matters more than its picture
            log.warning("garment preview refused in chat %d (%s): asking without it", chat_id, exc.message)
            await send(context, chat_id, question, markup)
    return "asked"


async def whole_photo_search(
    context: BotContext,
    chat_id: int,
    user_id: int,
    lang: Lang,
    data: bytes,
    timings: StageTimings,
    *,
    scope: SearchScope | None = None,
) -> Outcome:
    """Search the whole photo in the user's category (the flow without a garment parser)."""
    scope = scope or user_scope(context)
    return await _search_image(context, chat_id, user_id, lang, data, scope.category, timings, scope=scope)


async def garment_search(
    context: BotContext,
    chat_id: int,
    lang: Lang,
    photo: PendingPhoto,
    number: int,
    timings: StageTimings,
    *,
    scope: SearchScope | None = None,
) -> Outcome:
    """Search garment ``number`` (1-based) of ``photo`` in its categories, or in the user's own."""
    garment = photo.garments[number - 1]
    scope = scope or user_scope(context)
    return await _search_image(
        context,
        chat_id,
        photo.user_id,
        lang,
        garment.crop,
        scope.category or garment.categories,
        timings,
        scope=scope,
        photo_id=photo.id,
        garment=garment.label,
    )


async def _search_image(
    context: BotContext,
    chat_id: int,
    user_id: int,
    lang: Lang,
    data: bytes,
    category: str | tuple[str, ...] | None,
    timings: StageTimings,
    *,
    scope: SearchScope,
    **details: str,
) -> Outcome:
    """Search image ``data`` (a photo or a garment's crop) in ``category`` with ``scope``'s filters and
    show the first page."""
    services = context.services
    try:
        result = await services.search.search_image(
            data,
            category=category,
            filters=scope.filters,
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
        "photo",
        result,
        timings,
        category=category,
        understood=scope.understood,
        **details,
    )


async def on_garment_button(
    update: Update, context: BotContext, query: CallbackQuery, button: GarmentButton, lang: Lang
) -> None:
    """A garment's button (or "Whole photo") under the question or under a garment's results."""
    services = context.services
    photo = services.pending.get(button.photo_id)
    chat_id = chat_id_of(query)
    user = update.effective_user
    if (
        photo is None
        or chat_id is None
        or user is None
        or (button.number is not None and not 1 <= button.number <= len(photo.garments))
    ):
        await answer(query, plain(lang, "photo_expired"))
        return
    if photo.user_id != user.id:
        await answer(query, plain(lang, "not_yours"))
        return
    if not await claim_for_button(context, query, user.id, lang):
        return
    scope = photo.scope if isinstance(photo.scope, SearchScope) else None  # the photo's caption's
    async with user_search(context, user.id, chat_id, "garment") as run:
        if button.number is None:
            run.outcome = await whole_photo_search(
                context, chat_id, user.id, lang, photo.data, run.timings, scope=scope
            )
        else:
            run.outcome = await garment_search(
                context, chat_id, lang, photo, button.number, run.timings, scope=scope
            )
