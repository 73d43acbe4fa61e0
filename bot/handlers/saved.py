"""⭐ under results and /saved: thin adapters over ``bot.saved`` (what to do) and ``bot.saved_render``.

A ⭐ press is answered with a toast only (the results stay as they are). /saved sends page 1; its
Prev/Next and '✖ #k' edit that message in place. The list buttons carry their owner's id: in a
group, another member's press is refused rather than showing or changing someone else's list.
When the user store is unavailable the features say so, and searches go on without it.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update

from bot.context import BotContext
from bot.handlers.common import answer, chat_id_of, edit_text, reply, send
from bot.handlers.results import pressed_session
from bot.messages import Lang, plain, text
from bot.preferences import lang_of
from bot.render import RemoveSavedButton, SaveButton, SavedPageButton
from bot.saved import SAVED_LIMIT, CatalogUnavailableError, SavedPage, load_page, save_product
from bot.saved_render import saved_keyboard, saved_page_text
from bot.userdata import UserStore, UserStoreError, user_store

log = logging.getLogger(__name__)

TOAST_NAME_CHARS = 40  # a callback answer shows at most 200 characters


def _store(context: BotContext) -> UserStore | None:
    return user_store(context.application)


async def on_save_button(
    update: Update, context: BotContext, query: CallbackQuery, button: SaveButton, lang: Lang
) -> None:
    """'⭐n': save result #n of a live search; the answer says what happened."""
    pressed = await pressed_session(update, context, query, button.search_id, lang)
    if pressed is None:
        return
    session, _, user_id = pressed
    if not 1 <= button.rank <= len(session.shown):
        await answer(query, plain(lang, "search_again"))
        return
    store = _store(context)
    if store is None:
        await answer(query, plain(lang, "saved_unavailable"))
        return
    try:
        saved = await save_product(store, context.services.catalog, user_id, session.shown[button.rank - 1])
    except (UserStoreError, CatalogUnavailableError) as exc:
        log.warning("saving a product for %d failed: %s", user_id, getattr(exc, "reason", exc))
        await answer(query, plain(lang, "saved_unavailable"))
        return
    if saved.outcome == "saved":
        name = saved.product.name if saved.product else ""
        if len(name) > TOAST_NAME_CHARS:
            name = name[: TOAST_NAME_CHARS - 1].rstrip() + "…"
        await answer(query, plain(lang, "saved_toast", n=button.rank, name=name))
    elif saved.outcome == "already":
        await answer(query, plain(lang, "saved_already", n=button.rank))
    elif saved.outcome == "full":
        await answer(query, plain(lang, "saved_full", limit=SAVED_LIMIT))
    else:
        await answer(query, plain(lang, "save_gone"))


async def _page(context: BotContext, store: UserStore, user_id: int, page: int) -> SavedPage:
    return await load_page(store, context.services.catalog, user_id, page)


def _web_url(context: BotContext) -> str:
    return context.services.settings.musinsa.web_url


async def on_saved(update: Update, context: BotContext) -> None:
    """/saved: page 1 of the user's saved products (or how to save some)."""
    lang = lang_of(update, context)
    user = update.effective_user
    store = _store(context)
    if user is None:
        return
    if store is None:
        await reply(update, context, text(lang, "saved_list_unavailable"))
        return
    try:
        page = await _page(context, store, user.id, 1)
    except UserStoreError as exc:
        log.warning("/saved for %d failed: %s", user.id, exc.reason)
        await reply(update, context, text(lang, "saved_list_unavailable"))
        return
    await reply(update, context, saved_page_text(lang, page, _web_url(context)), saved_keyboard(lang, page))


async def _show_again(
    context: BotContext, query: CallbackQuery, lang: Lang, store: UserStore, user_id: int, page: int
) -> bool:
    """Draw page ``page`` of the list into the pressed message (a new message when it cannot be
    edited any more); False when the store failed (nothing drawn)."""
    try:
        shown = await _page(context, store, user_id, page)
    except UserStoreError as exc:
        log.warning("/saved page for %d failed: %s", user_id, exc.reason)
        return False
    html, markup = saved_page_text(lang, shown, _web_url(context)), saved_keyboard(lang, shown)
    chat_id = chat_id_of(query)
    if not await edit_text(query, html, markup) and chat_id is not None:
        await send(context, chat_id, html, markup)
    return True


async def _owner_store(
    update: Update, query: CallbackQuery, context: BotContext, owner: int, lang: Lang
) -> UserStore | None:
    """The store, when the presser owns the list and the store works; else None, the press answered."""
    user = update.effective_user
    if user is None or user.id != owner:
        await answer(query, plain(lang, "saved_not_yours"))
        return None
    store = _store(context)
    if store is None:
        await answer(query, plain(lang, "saved_unavailable"))
    return store


async def on_saved_page_button(
    update: Update, context: BotContext, query: CallbackQuery, button: SavedPageButton, lang: Lang
) -> None:
    """/saved's Prev/Next: that page, in place."""
    store = await _owner_store(update, query, context, button.user_id, lang)
    if store is None:
        return
    if await _show_again(context, query, lang, store, button.user_id, button.page):
        await answer(query)
    else:
        await answer(query, plain(lang, "saved_unavailable"))


async def on_remove_saved_button(
    update: Update, context: BotContext, query: CallbackQuery, button: RemoveSavedButton, lang: Lang
) -> None:
    """'✖ #k': remove that product, then the same page again (the one before when it is now empty)."""
    store = await _owner_store(update, query, context, button.user_id, lang)
    if store is None:
        return
    try:
        removed = await store.remove_saved(button.user_id, button.product_id)
    except UserStoreError as exc:
        log.warning("removing a saved product for %d failed: %s", button.user_id, exc.reason)
        await answer(query, plain(lang, "saved_unavailable"))
        return
    await answer(query, plain(lang, "saved_removed" if removed else "saved_not_there"))
    await _show_again(context, query, lang, store, button.user_id, button.page)


__all__ = ["on_remove_saved_button", "on_save_button", "on_saved", "on_saved_page_button"]
