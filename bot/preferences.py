"""A user's lasting choices: language, category and filters, kept in their persisted ``user_data``.

Handlers read and write them only through these functions, so that where they are kept can change
(one place to move them from PTB's persistence to a database). Unreadable stored values (an older
release's, a damaged file's) read as the defaults.
"""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.context import BotContext
from bot.messages import LANGUAGES, Lang, language_of
from indexer.categories import is_known_code
from indexer.store import SearchFilters

CATEGORY_KEY = "category"
FILTERS_KEY = "filters"
LANGUAGE_KEY = "language"  # absent: follow the user's Telegram language


def _data(context: BotContext) -> dict[Any, Any] | None:
    return context.user_data


def lang_of(update: Update, context: BotContext) -> Lang:
    """The language to answer in: the user's /settings choice, else their Telegram language."""
    chosen = language_override(context)
    if chosen is not None:
        return chosen
    user = update.effective_user
    return language_of(user.language_code if user else None)


def language_override(context: BotContext) -> Lang | None:
    data = _data(context)
    value = data.get(LANGUAGE_KEY) if data is not None else None
    return value if value in LANGUAGES else None


def set_language_override(context: BotContext, lang: Lang | None) -> None:
    """Answer in ``lang`` from now on; None follows the Telegram language again."""
    data = _data(context)
    if data is None:
        return
    if lang is None:
        data.pop(LANGUAGE_KEY, None)
    else:
        data[LANGUAGE_KEY] = lang


def user_category(context: BotContext) -> str | None:
    """The user's chosen category code (None: all)."""
    data = _data(context)
    value = data.get(CATEGORY_KEY) if data is not None else None
    if is_known_code(value):
        return value
    return None


def set_user_category(context: BotContext, code: str | None) -> None:
    data = _data(context)
    if data is None:
        return
    if code is None:
        data.pop(CATEGORY_KEY, None)
    else:
        data[CATEGORY_KEY] = code


def user_filters(context: BotContext) -> SearchFilters:
    """The user's saved filters (sold-out hidden, nothing else, until they choose)."""
    data = _data(context)
    return SearchFilters.from_dict(data.get(FILTERS_KEY) if data is not None else None)


def set_user_filters(context: BotContext, filters: SearchFilters) -> None:
    data = _data(context)
    if data is None:
        return
    if filters.is_default:
        data.pop(FILTERS_KEY, None)
    else:
        data[FILTERS_KEY] = filters.to_dict()
