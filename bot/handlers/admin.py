"""Admin commands: only ``[telegram] admin_ids`` may use them; anyone else is told so.

The command menus show admin commands only in the admins' own chats, but menus merely hide
commands, so every admin handler is wrapped in ``admin_only``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from telegram import Update

from bot.handlers.common import Context, lang_of, reply, services_of
from bot.messages import text
from bot.render import MAX_MESSAGE
from bot.stats import render_stats

log = logging.getLogger(__name__)

Handler = Callable[[Update, Context], Awaitable[None]]


def is_admin(update: Update, context: Context) -> bool:
    user = update.effective_user
    return user is not None and user.id in services_of(context).settings.telegram.admin_ids


def admin_only(handler: Handler) -> Handler:
    """Run ``handler`` for admins; answer "not allowed" to everyone else."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        if not is_admin(update, context):
            user = update.effective_user
            log.info("refused admin command from user %s", user.id if user else None)
            await reply(update, context, text(lang_of(update), "not_allowed"))
            return
        await handler(update, context)

    return guarded


@admin_only
async def on_stats(update: Update, context: Context) -> None:
    """/stats: every section of the report (index size per category and model, then any added ones)."""
    report = await render_stats(services_of(context), lang_of(update))
    if len(report) > MAX_MESSAGE:
        report = report[: MAX_MESSAGE - 1].rsplit("\n", 1)[0] + "\n…"
    await reply(update, context, report)
