"""/settings: the language to answer in (auto, 한국어, English), and the way to the filter and category menus.

A language press is saved with the user's settings (written to disk at once) and the menu is
redrawn in place in the chosen language; every later message follows it. The filter and category
buttons are those menus' own (``v1:f:m:open``, ``v1:c:menu``): they open the menu below.
"""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.context import BotContext
from bot.handlers.common import answer, chat_id_of, edit_text, reply, send
from bot.messages import Lang, plain
from bot.preferences import (
    lang_of,
    language_override,
    set_language_override,
    user_category,
    user_filters,
)
from bot.render import SettingsButton, settings_keyboard, settings_prompt


def settings_menu(update: Update, context: BotContext) -> tuple[str, Lang]:
    """The settings text and the language it is in."""
    lang = lang_of(update, context)
    prompt = settings_prompt(
        lang,
        language=language_override(context),
        filters=user_filters(context),
        category=user_category(context),
    )
    return prompt, lang


async def on_settings(update: Update, context: BotContext) -> None:
    prompt, lang = settings_menu(update, context)
    await reply(update, context, prompt, settings_keyboard(lang, language_override(context)))


async def on_settings_button(
    update: Update, context: BotContext, query: CallbackQuery, button: SettingsButton, lang: Lang
) -> None:
    """A language press: saved, then the menu again in the language now in use."""
    set_language_override(context, button.language)
    await context.application.update_persistence()
    prompt, now = settings_menu(update, context)
    chosen = plain(now, f"language_{button.language or 'auto'}")
    await answer(query, plain(now, "language_set", language=chosen))
    markup = settings_keyboard(now, button.language)
    chat_id = chat_id_of(query)
    if not await edit_text(query, prompt, markup) and chat_id is not None:
        await send(context, chat_id, prompt, markup)
