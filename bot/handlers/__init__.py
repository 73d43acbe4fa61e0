"""The bot's handlers: thin adapters from Telegram updates to the services in ``BotServices``.

``register_handlers(app)`` wires them in order. Group -2 sees every update (an admin's first message
sets their command menu); group -1 holds the album gate (an album's extra photos
stop there with ``ApplicationHandlerStop``); group 0 holds everything else,
first match wins: commands, buttons, photos, plain text (``handlers.text``), then the rest.
Admin commands are registered like the others and checked in ``admin_only``.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, MessageHandler, TypeHandler, filters

from bot.handlers.admin import on_any_update, on_stats, on_sync
from bot.handlers.alerts import on_alerts, on_any_update_language
from bot.handlers.callbacks import button_handlers
from bot.handlers.category import on_category
from bot.handlers.errors import on_error
from bot.handlers.filter import on_filter
from bot.handlers.other import other_handlers
from bot.handlers.photo import on_photo, photo_gate
from bot.handlers.privacy import on_forget, on_privacy
from bot.handlers.saved import on_saved
from bot.handlers.settings import on_settings
from bot.handlers.similar import on_similar
from bot.handlers.start import on_help, on_start
from bot.handlers.text import text_handler

PHOTOS = filters.PHOTO | filters.Document.IMAGE

__all__ = ["PHOTOS", "register_handlers"]


def register_handlers(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, on_any_update_language), group=-3)
    app.add_handler(TypeHandler(Update, on_any_update), group=-2)
    app.add_handler(MessageHandler(PHOTOS, photo_gate), group=-1)
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CommandHandler("help", on_help))
    app.add_handler(CommandHandler("category", on_category))
    app.add_handler(CommandHandler("similar", on_similar))
    app.add_handler(CommandHandler("filter", on_filter))
    app.add_handler(CommandHandler("settings", on_settings))
    app.add_handler(CommandHandler("saved", on_saved))
    app.add_handler(CommandHandler("stats", on_stats))
    app.add_handler(CommandHandler("sync", on_sync))
    app.add_handler(CommandHandler("privacy", on_privacy))
    app.add_handler(CommandHandler("forget", on_forget))
    app.add_handler(CommandHandler("alerts", on_alerts))
    app.add_handlers(button_handlers())
    app.add_handler(MessageHandler(PHOTOS, on_photo))
    app.add_handler(text_handler())
    app.add_handlers(other_handlers())
    app.add_error_handler(on_error)
