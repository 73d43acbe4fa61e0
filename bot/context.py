"""``BotContext``: the ``context`` every handler gets, with the bot's services typed as ``context.services``.

Registered through ``ContextTypes(context=BotContext)`` in ``bot.app.build_application``.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import CallbackContext, ExtBot

from bot.menus import ADMIN_MENUS_KEY, AdminMenus
from bot.services import BotServices

SERVICES_KEY = "snapfit.services"  # where post_init keeps the services in application.bot_data


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> BotServices:
        """The services ``post_init`` opened (encoder, catalog, sessions, limits...)."""
        services: BotServices = self.application.bot_data[SERVICES_KEY]
        return services

    @property
    def admin_menus(self) -> AdminMenus | None:
        """The admins' command menus still to set (None before ``post_init`` set any)."""
        menus: AdminMenus | None = self.application.bot_data.get(ADMIN_MENUS_KEY)
        return menus
