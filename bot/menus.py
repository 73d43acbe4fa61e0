"""The command menus (setMyCommands): everyone's at start, and each admin's as soon as Telegram allows.

Everyone's menus (private and group chats, per language) are set when the bot starts. An admin's own
menu adds the admin commands in that admin's chat, and Telegram refuses it ("Chat not found") until
the admin has started the bot. ``AdminMenus`` therefore tries each admin at start and again when
that admin first writes to the bot in private, once per process after a success. A refused menu is
logged, never fatal: menus only hide commands.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.commands import menu
from bot.messages import LANGUAGES

log = logging.getLogger(__name__)

ADMIN_MENUS_KEY = "snapfit.admin_menus"  # where post_init keeps the AdminMenus in application.bot_data


async def set_everyones_menus(bot: Bot) -> None:
    """Everyone's commands in private and group chats, in every language."""
    for scope in (BotCommandScopeAllPrivateChats(), BotCommandScopeAllGroupChats()):
        for lang in LANGUAGES:
            try:
                await bot.set_my_commands(
                    menu(lang, admin=False), scope=scope, language_code=None if lang == "en" else lang
                )
            except TelegramError as exc:
                log.warning("could not set the %s command menu for %s: %s", lang, scope.type, exc)


class AdminMenus:
    """Which admins still lack their own menu, and setting it: at start, then on their first message."""

    def __init__(self, admin_ids: list[int]) -> None:
        self._missing = set(admin_ids)
        self._trying: set[int] = set()

    @property
    def missing(self) -> set[int]:
        """Admins whose menu is not set yet."""
        return set(self._missing)

    async def set_all(self, bot: Bot) -> None:
        """Try every admin's menu (at start); those who never wrote to the bot are tried again later."""
        for admin_id in sorted(self._missing):
            await self._try(bot, admin_id, first_attempt=True)

    async def seen(self, bot: Bot, user_id: int | None, chat_type: str | None) -> None:
        """An update from ``user_id``: set their menu if they are an admin without one, in private."""
        if user_id is None or user_id not in self._missing or chat_type != ChatType.PRIVATE:
            return
        await self._try(bot, user_id, first_attempt=False)

    async def _try(self, bot: Bot, admin_id: int, *, first_attempt: bool) -> None:
        if admin_id in self._trying:
            return
        self._trying.add(admin_id)
        try:
            for lang in LANGUAGES:
                await bot.set_my_commands(
                    menu(lang, admin=True),
                    scope=BotCommandScopeChat(admin_id),
                    language_code=None if lang == "en" else lang,
                )
        except TelegramError as exc:
            if first_attempt:
                log.warning(
                    "could not set the admin command menu for %d yet (%s): it is set when they first "
                    "write to the bot",
                    admin_id,
                    exc,
                )
            else:
                log.warning("could not set the admin command menu for %d: %s", admin_id, exc)
        else:
            self._missing.discard(admin_id)
            if not first_attempt:
                log.info("admin command menu set for %d", admin_id)
        finally:
            self._trying.discard(admin_id)
