"""The 👍 / 👎 buttons under a page of results: one vote per user per page, stored in the user store.

A second press on the same page changes nothing (the toast says the first vote counts). An expired
search asks for a new one; a store that cannot take the vote says feedback is unavailable now, and
the search itself is untouched.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update

from bot.context import BotContext
from bot.feedback import feedback_of
from bot.handlers.common import answer
from bot.handlers.results import pressed_session
from bot.messages import Lang, plain
from bot.render import FeedbackButton
from bot.search_metrics import MONITORING_KEY, BotMonitoring
from bot.userdata import UserStoreError, user_store

log = logging.getLogger(__name__)


async def on_feedback_button(
    update: Update, context: BotContext, query: CallbackQuery, button: FeedbackButton, lang: Lang
) -> None:
    """Store the vote (once per page) and thank the user in a toast."""
    pressed = await pressed_session(update, context, query, button.search_id, lang)
    if pressed is None:
        return
    session = pressed[0]
    if button.page in session.votes:
        await answer(query, plain(lang, "feedback_already"))
        return
    version = context.services.catalog.version
    feedback = feedback_of(
        session, button.page, button.vote, catalog_model_id=version.model_id if version else None
    )
    if feedback is None:
        await answer(query, plain(lang, "search_again"))
        return
    store = user_store(context.application)
    if store is None:
        await answer(query, plain(lang, "feedback_unavailable"))
        return
    session.votes[button.page] = feedback.vote  # before the await: a quick second press is a repeat
    try:
        await store.add_feedback(feedback)
    except UserStoreError as exc:
        session.votes.pop(button.page, None)
        log.warning("feedback not stored: %s", exc.reason)
        await answer(query, plain(lang, "feedback_unavailable"))
        return
    monitoring = context.application.bot_data.get(MONITORING_KEY)
    if isinstance(monitoring, BotMonitoring):
        monitoring.searches.observe_vote(feedback.flow, feedback.vote)
    await answer(query, plain(lang, "feedback_thanks"))
