"""Plain text messages: a Musinsa link or number does what /similar does, words search by name.

Private chats: every text that is not a command. Groups: only a text addressed to the bot (its
@username in the text, or a reply to one of its messages), so the bot does not answer the chat's
conversation. How a text is read is ``bot.plain_text``; the searches claim the user's slot and
per-minute budget like photos do (a blank text or another shop's link is answered without a search).
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import MessageHandler, filters

from bot.context import BotContext
from bot.handlers.common import claim_for_message, reply, send, user_search
from bot.handlers.results import search_failed, show_first_page
from bot.handlers.similar import similar_from_message
from bot.messages import Lang, text
from bot.plain_text import Blank, OtherShopLink, ProductRef, Words, host_of, read_plain_text, without_mention
from bot.preferences import lang_of
from bot.scope import SearchScope, user_scope
from bot.search import SearchError
from bot.timing import Outcome, StageTimings
from indexer.text import MAX_QUERY_CHARS

# search_text's codes for words it cannot search (``bot.search.EmptyTextError``, ``TextTooLongError``)
EMPTY_TEXT = "empty_text"
TEXT_TOO_LONG = "text_too_long"


class AddressedToBot(filters.MessageFilter):
    """A message that names the bot (``@username``) or replies to one of its messages."""

    def filter(self, message: Message) -> bool:
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        username = bot.username if bot.username else None
        return bool(username and message.text and f"@{username.lower()}" in message.text.lower())


TEXT_MESSAGES = filters.TEXT & ~filters.COMMAND & (filters.ChatType.PRIVATE | AddressedToBot())


def text_handler() -> MessageHandler:  # type: ignore[type-arg]
    return MessageHandler(TEXT_MESSAGES, on_text)


async def on_text(update: Update, context: BotContext) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or message.text is None or user is None or chat is None:
        return
    lang = lang_of(update, context)
    musinsa = host_of(context.services.settings.musinsa.web_url)
    reading = read_plain_text(
        without_mention(message.text, context.bot.username),
        musinsa_hosts=frozenset({musinsa}) if musinsa else frozenset(),
    )
    if isinstance(reading, Blank):
        await reply(update, context, text(lang, "text_empty"))
    elif isinstance(reading, OtherShopLink):
        await reply(update, context, text(lang, "other_shop_link", host=reading.host))
    elif isinstance(reading, ProductRef):
        await similar_from_message(update, context, lang, reading.ref)
    elif isinstance(reading, Words):
        if not await claim_for_message(update, context, user.id, lang):
            return
        async with user_search(context, user.id, chat.id, "text") as run:
            run.outcome = await text_search(
                context, chat.id, user.id, lang, reading.words, user_scope(context), run.timings
            )


async def text_search(
    context: BotContext,
    chat_id: int,
    user_id: int,
    lang: Lang,
    words: str,
    scope: SearchScope,
    timings: StageTimings,
) -> Outcome:
    """Search products by ``words`` in ``scope`` and show the first page (the caller holds the slot)."""
    services = context.services
    if len(words) > MAX_QUERY_CHARS:
        return await _too_long(context, chat_id, lang, words)
    try:
        result = await services.search.search_text(
            words,
            category=scope.category,
            filters=scope.filters,
            limit=services.settings.telegram.results_per_page,
            timings=timings,
        )
    except SearchError as exc:
        if exc.code == EMPTY_TEXT:
            await send(context, chat_id, text(lang, "text_no_words"))
            return EMPTY_TEXT
        if exc.code == TEXT_TOO_LONG:
            return await _too_long(context, chat_id, lang, words)
        return await search_failed(context, chat_id, lang, exc)
    return await show_first_page(
        context,
        chat_id,
        user_id,
        lang,
        "text",
        result.items,
        timings,
        category=scope.category,
        filters=scope.filters,
        query=result.query_vector,
        text=words,
    )


async def _too_long(context: BotContext, chat_id: int, lang: Lang, words: str) -> Outcome:
    await send(context, chat_id, text(lang, "text_too_long", length=len(words), limit=MAX_QUERY_CHARS))
    return TEXT_TOO_LONG
