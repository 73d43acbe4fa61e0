"""/privacy (what is stored, and for how long) and /forget (delete it all, after a confirmation).

/forget's buttons carry the asking user's id: in a group, another member's press is answered "not
yours" and deletes nothing. Confirming deletes every row about the user in one transaction
(``bot.userdata.forget_user``: settings, saved products, alert log, feedback, and their in-memory
settings), then their live searches; a store that cannot delete now deletes nothing and says so.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update

from bot.context import BotContext
from bot.handlers.common import answer, chat_id_of, edit_text, reply, send
from bot.messages import Lang, plain, text
from bot.preferences import lang_of
from bot.render import ForgetButton, forget_keyboard
from bot.userdata import UserStoreError, forget_user

log = logging.getLogger(__name__)


async def on_privacy(update: Update, context: BotContext) -> None:
    await reply(update, context, text(lang_of(update, context), "privacy"))


async def on_forget(update: Update, context: BotContext) -> None:
    """Ask first: a button deletes, another cancels."""
    user = update.effective_user
    if user is None:
        return
    lang = lang_of(update, context)
    await reply(update, context, text(lang, "forget_prompt"), forget_keyboard(lang, user.id))


async def on_forget_button(
    update: Update, context: BotContext, query: CallbackQuery, button: ForgetButton, lang: Lang
) -> None:
    user = update.effective_user
    if user is None or user.id != button.user_id:
        await answer(query, plain(lang, "forget_not_yours"))
        return
    await answer(query)
    if not button.confirm:
        await _say(context, query, text(lang, "forget_cancelled"))
        return
    try:
        forgotten = await forget_user(context.application, user.id)
    except UserStoreError as exc:
        log.warning("/forget of a user failed, nothing deleted: %s", exc.reason)
        await _say(context, query, text(lang, "forget_unavailable"))
        return
    context.services.sessions.drop_user(user.id)
    log.info("/forget: deleted %d rows about a user", forgotten.total)
    done = text(
        lang,
        "forget_done",
        settings=forgotten.settings,
        saved=forgotten.saved,
        alerts=forgotten.alerts,
        feedback=forgotten.feedback,
    )
    await _say(context, query, done)


async def _say(context: BotContext, query: CallbackQuery, html: str) -> None:
    """In place of the question (its buttons gone), or anew when it cannot be edited any more."""
    if await edit_text(query, html):
        return
    chat_id = chat_id_of(query)
    if chat_id is not None:
        await send(context, chat_id, html)
