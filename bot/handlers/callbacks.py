"""Inline buttons: one ``CallbackQueryHandler`` per kind of callback data, and a last one for stale data.

Every query is answered exactly once. Whether a button can still work is decided before answering,
from memory only, so a stale one (after a restart, or once its search expired) is answered "please
search again" at once; data no kind parses (an older version, a forged value) falls through to
``on_stale_button``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from telegram import CallbackQuery, Update
from telegram.ext import CallbackQueryHandler

from bot.alerts.button import AlertsButton
from bot.context import BotContext
from bot.handlers.alerts import on_alerts_button
from bot.handlers.category import on_category_button, on_category_menu_button
from bot.handlers.common import answer
from bot.handlers.feedback import on_feedback_button
from bot.handlers.filter import on_clear_filters_button, on_filter_button
from bot.handlers.garment_pick import on_garment_button
from bot.handlers.privacy import on_forget_button
from bot.handlers.results import on_more_button
from bot.handlers.saved import on_remove_saved_button, on_save_button, on_saved_page_button
from bot.handlers.settings import on_settings_button
from bot.handlers.similar import on_similar_button, on_widen_button
from bot.messages import Lang, plain
from bot.preferences import lang_of
from bot.render import (
    CategoryButton,
    CategoryMenuButton,
    ClearFiltersButton,
    FeedbackButton,
    FilterButton,
    ForgetButton,
    GarmentButton,
    PageButton,
    RemoveSavedButton,
    SaveButton,
    SavedPageButton,
    SettingsButton,
    SimilarButton,
    WidenButton,
)

log = logging.getLogger(__name__)

B = TypeVar("B")
B_co = TypeVar("B_co", covariant=True)
ButtonCallback = Callable[[Update, BotContext, CallbackQuery, B, Lang], Awaitable[None]]


class ButtonKind(Protocol[B_co]):
    def parse(self, data: object) -> B_co | None: ...


def button_handler(kind: ButtonKind[B], callback: ButtonCallback[B]) -> CallbackQueryHandler:  # type: ignore[type-arg]
    """The handler of the buttons ``kind`` parses: ``callback`` gets the query and the parsed button."""

    async def handle(update: Update, context: BotContext) -> None:
        query = update.callback_query
        button = kind.parse(query.data) if query is not None else None
        if query is None or button is None:  # PTB lets a query without data through any pattern
            await on_stale_button(update, context)
            return
        await callback(update, context, query, button, lang_of(update, context))

    return CallbackQueryHandler(handle, pattern=lambda data: kind.parse(data) is not None)


async def on_stale_button(update: Update, context: BotContext) -> None:
    """Callback data this version of the bot did not make: ask for a new search."""
    query = update.callback_query
    if query is None:
        return
    log.info("stale or unknown callback data %r", query.data)
    await answer(query, plain(lang_of(update, context), "search_again"))


def button_handlers() -> list[CallbackQueryHandler]:  # type: ignore[type-arg]
    """Every button's handler, then the catch-all for stale data; registered in this order."""
    return [
        button_handler(PageButton, on_more_button),
        button_handler(SimilarButton, on_similar_button),
        button_handler(WidenButton, on_widen_button),
        button_handler(CategoryButton, on_category_button),
        button_handler(CategoryMenuButton, on_category_menu_button),
        button_handler(GarmentButton, on_garment_button),
        button_handler(FilterButton, on_filter_button),
        button_handler(ClearFiltersButton, on_clear_filters_button),
        button_handler(SettingsButton, on_settings_button),
        button_handler(FeedbackButton, on_feedback_button),
        button_handler(ForgetButton, on_forget_button),
        button_handler(SaveButton, on_save_button),
        button_handler(SavedPageButton, on_saved_page_button),
        button_handler(RemoveSavedButton, on_remove_saved_button),
        button_handler(AlertsButton, on_alerts_button),
        CallbackQueryHandler(on_stale_button),
    ]
