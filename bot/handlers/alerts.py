"""/alerts on|off (and /alerts alone: the state with a button), and noting each user's Telegram language.

Alerts are sent outside any update, so the user's Telegram ``language_code`` is kept in the user
store (``AlertRunner.note_language``, written only when it changes) for the message's language.
"""

from __future__ import annotations

from telegram import CallbackQuery, Update

from bot.alerts.button import AlertsButton, alerts_keyboard
from bot.alerts.runner import ALERTS_KEY, AlertRunner
from bot.context import BotContext
from bot.handlers.common import answer, edit_text, reply
from bot.messages import Lang, format_price, plain, text
from bot.preferences import lang_of
from bot.userdata import user_store
from bot.userdata.store import UserStoreError

ON_WORDS = {"on", "yes", "1", "켜기", "켜"}
OFF_WORDS = {"off", "no", "0", "끄기", "꺼"}


async def on_any_update_language(update: Update, context: BotContext) -> None:
    user = update.effective_user
    runner = context.application.bot_data.get(ALERTS_KEY)
    if user is not None and isinstance(runner, AlertRunner):
        await runner.note_language(user.id, user.language_code)


async def on_alerts(update: Update, context: BotContext) -> None:
    lang = lang_of(update, context)
    user = update.effective_user
    store = user_store(context.application)
    if user is None:
        return
    if store is None:
        await reply(update, context, text(lang, "alerts_unavailable"))
        return
    word = context.args[0].strip().lower() if context.args else ""
    try:
        if word in ON_WORDS or word in OFF_WORDS:
            enabled = word in ON_WORDS
            await store.set_alerts(user.id, enabled)
            await reply(update, context, text(lang, "alerts_turned_on" if enabled else "alerts_turned_off"))
            return
        settings = await store.get_settings(user.id)
    except UserStoreError:
        await reply(update, context, text(lang, "alerts_unavailable"))
        return
    enabled = settings.alerts if settings is not None else True
    await reply(update, context, state_text(context, lang, enabled), alerts_keyboard(lang, enabled))


def state_text(context: BotContext, lang: Lang, enabled: bool) -> str:
    if not enabled:
        return "\n".join([text(lang, "alerts_state_off"), text(lang, "alerts_hint")])
    alerts = context.services.settings.alerts
    percent = f"{alerts.min_drop_percent:g}"
    state = text(lang, "alerts_state_on", percent=percent, won=format_price(lang, alerts.min_drop_won))
    return "\n".join([state, text(lang, "alerts_hint")])


async def on_alerts_button(
    update: Update, context: BotContext, query: CallbackQuery, button: AlertsButton, lang: Lang
) -> None:
    store = user_store(context.application)
    user = update.effective_user
    if store is None or user is None:
        await answer(query, plain(lang, "alerts_unavailable"))
        return
    try:
        await store.set_alerts(user.id, button.enabled)
    except UserStoreError:
        await answer(query, plain(lang, "alerts_unavailable"))
        return
    await answer(query, plain(lang, "alerts_turned_on" if button.enabled else "alerts_turned_off"))
    await edit_text(query, state_text(context, lang, button.enabled), alerts_keyboard(lang, button.enabled))
