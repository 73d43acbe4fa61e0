"""/start and /help: what the bot does, how to use it (photos, words, links), an example, the current
category, the commands."""

from __future__ import annotations

from telegram import Update

from bot.commands import help_lines
from bot.context import BotContext
from bot.handlers.admin import is_admin
from bot.handlers.common import reply
from bot.messages import Lang, text
from bot.preferences import lang_of, user_category
from bot.render import category_name


def help_text(lang: Lang, *, category: str | None, admin: bool, per_minute: int) -> str:
    """The whole /help message; its command list comes from the same table as the command menus."""
    parts = [
        text(lang, "intro"),
        text(lang, "how_to"),
        text(lang, "how_to_words"),
        text(lang, "example"),
        text(lang, "caption_tip"),
        text(lang, "save_tip"),
        text(lang, "current_category", category=category_name(lang, category)),
        "\n".join([text(lang, "commands_header"), *help_lines(lang, admin=admin)]),
        text(lang, "limits", per_minute=per_minute),
    ]
    return "\n\n".join(parts)


async def on_help(update: Update, context: BotContext) -> None:
    services = context.services
    lang = lang_of(update, context)
    await reply(
        update,
        context,
        help_text(
            lang,
            category=user_category(context),
            admin=is_admin(update, context),
            per_minute=services.settings.telegram.photos_per_minute,
        ),
    )


on_start = on_help  # /start shows the same introduction: a first-time user needs all of it
