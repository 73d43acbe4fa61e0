"""Admin commands: only ``[telegram] admin_ids`` may use them; anyone else is told so.

The command menus show admin commands only in the admins' own chats, but menus merely hide
commands, so every admin handler is wrapped in ``admin_only``. ``on_any_update`` (group -2, every
update) sets an admin's own menu when that admin first writes to the bot (``bot.menus``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from telegram import Update

from bot.context import BotContext
from bot.handlers.common import reply
from bot.messages import text
from bot.nightly import report_when_done
from bot.preferences import lang_of
from bot.render import fit_message
from bot.stats import render_stats

log = logging.getLogger(__name__)

Handler = Callable[[Update, BotContext], Awaitable[None]]


def is_admin(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.services.settings.telegram.admin_ids


def admin_only(handler: Handler) -> Handler:
    """Run ``handler`` for admins; answer "not allowed" to everyone else."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: BotContext) -> None:
        if not is_admin(update, context):
            user = update.effective_user
            log.info("refused admin command from user %s", user.id if user else None)
            await reply(update, context, text(lang_of(update, context), "not_allowed"))
            return
        await handler(update, context)

    return guarded


async def on_any_update(update: object, context: BotContext) -> None:
    """Group -2: an admin without their own command menu yet writes in private, so set it now."""
    menus = context.admin_menus
    if menus is None or not isinstance(update, Update):
        return
    user, chat = update.effective_user, update.effective_chat
    await menus.seen(context.bot, user.id if user else None, chat.type if chat else None)


@admin_only
async def on_stats(update: Update, context: BotContext) -> None:
    """/stats: every section of the report (index size per category and model, then any added ones)."""
    report = await render_stats(context.services, lang_of(update, context))
    await reply(update, context, fit_message(report))


@admin_only
async def on_sync(update: Update, context: BotContext) -> None:
    """/sync: start a sync now (unless one is running) and send its summary here when it ends."""
    services = context.services
    lang = lang_of(update, context)
    nightly = services.nightly
    chat = update.effective_chat
    if nightly is None or chat is None:
        return
    task = nightly.start(f"/sync by {update.effective_user.id if update.effective_user else '?'}")
    if task is None:
        await reply(update, context, text(lang, "sync_busy"))
        return
    await reply(update, context, text(lang, "sync_started"))
    services.spawn(
        report_when_done(context.bot, chat.id, lang, task, services.settings.schedule.timezone),
        name=f"sync report for chat {chat.id}",
    )
