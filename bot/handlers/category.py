"""/category and its buttons: choose which products a search covers, stored with the user's settings."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Update

from bot.context import BotContext
from bot.handlers.common import answer, chat_id_of, edit_text, reply, send
from bot.messages import Lang, text
from bot.preferences import lang_of, set_user_category, user_category
from bot.render import CategoryButton, CategoryMenuButton, category_choices, category_keyboard, category_name
from indexer.categories import UnknownCategoryError, category_code, suggest

ALL_WORDS = frozenset({"all", "any", "everything", "*", "전체", "모두", "전부"})
SUGGESTIONS = 3


def parse_category(argument: str) -> str | None:
    """A category code for ``argument`` (None: all categories); ``UnknownCategoryError`` when unknown."""
    if argument.strip().casefold() in ALL_WORDS:
        return None
    return category_code(argument)


def category_prompt(context: BotContext, lang: Lang) -> tuple[str, InlineKeyboardMarkup]:
    services = context.services
    current = user_category(context)
    choices = category_choices(services.settings.musinsa.categories)
    return (
        text(lang, "category_prompt", category=category_name(lang, current)),
        category_keyboard(lang, choices, current),
    )


async def on_category(update: Update, context: BotContext) -> None:
    lang = lang_of(update, context)
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


async def choose_category(context: BotContext, lang: Lang, code: str | None) -> str:
    """Store the user's category (written to disk at once) and say what was chosen."""
    set_user_category(context, code)
    await context.application.update_persistence()
    confirmation = text(lang, "category_set", category=category_name(lang, code))
    services = context.services
    if code is not None and services.catalog.version is not None and await services.catalog.count(code) == 0:
        confirmation += "\n" + text(lang, "category_not_indexed")
    return confirmation


async def on_category_button(
    update: Update, context: BotContext, query: CallbackQuery, button: CategoryButton, lang: Lang
) -> None:
    """A category's button: the choice is confirmed in place of the choices (or below them)."""
    await answer(query)
    confirmation = await choose_category(context, lang, button.code)
    chat_id = chat_id_of(query)
    if not await edit_text(query, confirmation) and chat_id is not None:
        await send(context, chat_id, confirmation)


async def on_category_menu_button(
    update: Update, context: BotContext, query: CallbackQuery, button: CategoryMenuButton, lang: Lang
) -> None:
    """'Category: …' under results: the choices, as a new message."""
    await answer(query)
    prompt, markup = category_prompt(context, lang)
    chat_id = chat_id_of(query)
    if chat_id is not None:
        await send(context, chat_id, prompt, markup)
