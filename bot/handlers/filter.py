"""/filter and its buttons: the price range, gender and sold-out items every search of the user keeps to.

``/filter`` alone opens the menu (its presses edit it in place); ``/filter 3-8만원`` sets the price
range typed (``bot.price_words``), or says why it cannot be read. Filters are saved with the user's
settings and written to disk at once, like the category. "Clear filters" under results forgets them.
"""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.context import BotContext
from bot.handlers.common import answer, chat_id_of, edit_text, reply, send
from bot.messages import Lang, plain, text
from bot.preferences import lang_of, set_user_filters, user_filters
from bot.price_words import PriceWordsError, parse_price_range
from bot.render import (
    ClearFiltersButton,
    FilterButton,
    filter_keyboard,
    filter_prompt,
    filters_summary,
    price_range_text,
)
from indexer.store import SearchFilters


async def save_filters(context: BotContext, filters: SearchFilters) -> None:
    """Keep ``filters`` as the user's (written to disk at once)."""
    set_user_filters(context, filters)
    await context.application.update_persistence()


async def on_filter(update: Update, context: BotContext) -> None:
    lang = lang_of(update, context)
    argument = " ".join(context.args or []).strip()
    filters = user_filters(context)
    if not argument:
        await reply(update, context, filter_prompt(lang, filters), filter_keyboard(lang, filters))
        return
    try:
        low, high = parse_price_range(argument)
    except PriceWordsError as exc:
        await reply(update, context, text(lang, "filter_bad_range", reason=exc.reason(lang)))
        return
    filters = filters.replace(min_price=low, max_price=high)
    await save_filters(context, filters)
    await reply(
        update,
        context,
        text(
            lang,
            "filter_price_set",
            price=price_range_text(lang, low, high),
            filters=filters_summary(lang, filters),
        ),
    )


async def on_filter_button(
    update: Update, context: BotContext, query: CallbackQuery, button: FilterButton, lang: Lang
) -> None:
    """A menu press: the filter changes and the menu is redrawn in place ("open": a new menu below)."""
    await answer(query)
    filters = user_filters(context)
    changed = button.applied_to(filters)
    if changed != filters:
        await save_filters(context, changed)
    prompt, markup = filter_prompt(lang, changed), filter_keyboard(lang, changed)
    chat_id = chat_id_of(query)
    if (button.action == "m" or not await edit_text(query, prompt, markup)) and chat_id is not None:
        await send(context, chat_id, prompt, markup)


async def on_clear_filters_button(
    update: Update, context: BotContext, query: CallbackQuery, button: ClearFiltersButton, lang: Lang
) -> None:
    """'Clear filters' under results: the saved filters are forgotten; the results stay as they were."""
    if user_filters(context).is_default:
        await answer(query, plain(lang, "filters_already_clear"))
        return
    await save_filters(context, SearchFilters())
    await answer(query, plain(lang, "filters_cleared_note"))
    chat_id = chat_id_of(query)
    if chat_id is not None:
        await send(context, chat_id, text(lang, "filters_cleared"))
