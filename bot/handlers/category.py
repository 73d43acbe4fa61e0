"""/category: choose which products a search covers; the choice is stored with the user's settings."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.handlers.common import (
    Context,
    lang_of,
    reply,
    services_of,
    set_user_category,
    user_category,
)
from bot.messages import Lang, text
from bot.render import category_choices, category_keyboard, category_name
from indexer.categories import UnknownCategoryError, category_code, suggest

ALL_WORDS = frozenset({"all", "any", "everything", "*", "전체", "모두", "전부"})
SUGGESTIONS = 3


def parse_category(argument: str) -> str | None:
    """A category code for ``argument`` (None: all categories); ``UnknownCategoryError`` when unknown."""
    if argument.strip().casefold() in ALL_WORDS:
        return None
    return category_code(argument)


def category_prompt(context: Context, lang: Lang) -> tuple[str, InlineKeyboardMarkup]:
    services = services_of(context)
    current = user_category(context)
    choices = category_choices(services.settings.musinsa.categories)
    return (
        text(lang, "category_prompt", category=category_name(lang, current)),
        category_keyboard(lang, choices, current),
    )


async def on_category(update: Update, context: Context) -> None:
    lang = lang_of(update)
    argument = " ".join(context.args or []).strip()
    if not argument:
        prompt, markup = category_prompt(context, lang)
        await reply(update, context, prompt, markup)
        return
    try:
        code = parse_category(argument)
    except UnknownCategoryError:
        close = suggest(argument, SUGGESTIONS)
        if close:
            names = ", ".join(f"{category_name(lang, c.code)} ({c.code})" for c in close)
            await reply(
                update, context, text(lang, "category_unknown", name=argument[:60], suggestions=names)
            )
        else:
            await reply(update, context, text(lang, "category_unknown_no_suggestion", name=argument[:60]))
        return
    await reply(update, context, await choose_category(context, lang, code))


async def choose_category(context: Context, lang: Lang, code: str | None) -> str:
    """Store the user's category (written to disk at once) and say what was chosen."""
    set_user_category(context, code)
    await context.application.update_persistence()
    confirmation = text(lang, "category_set", category=category_name(lang, code))
    services = services_of(context)
    if code is not None and services.catalog.version is not None and await services.catalog.count(code) == 0:
        confirmation += "\n" + text(lang, "category_not_indexed")
    return confirmation
