"""Sending a page of products: an album (2-10 photos), one photo, or a text list — never a broken album.

Photos come from ``ProductPhotos`` (a cached file_id, else checked bytes). A product whose photo
cannot be had is left out, and the rest are numbered consecutively. When Telegram refuses an album
item (``failed to send message #n``) that product is dropped and the album sent again; when it
refuses a cached file_id, fresh bytes are uploaded instead. A server error (Telegram's 5xx) or a
failed connection is retried once after a short pause; a timeout is not, since the album may have been
sent. If no photo at all can be sent, the products go out as one text message, so a search always
shows its results.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence

from telegram import Bot, InputMediaPhoto, Message
from telegram.constants import MediaGroupLimit, ParseMode
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.messages import Lang
from bot.photos import PhotoInput, ProductPhotos
from bot.render import caption, results_list
from indexer.product import Product

log = logging.getLogger(__name__)

MAX_ALBUM = MediaGroupLimit.MAX_MEDIA_LENGTH
MAX_ATTEMPTS = 3
SERVER_ERROR_RETRY_SECONDS = 1.0  # the pause before the one retry of a send Telegram failed with 5xx
_ITEM_FAILED = re.compile(r"message #(\d+)", re.IGNORECASE)
# What Telegram says about one photo it refuses (single sendPhoto): its file, URL, content or size.
_PHOTO_PROBLEM = re.compile(r"photo|image|file|media|url|dimension|webpage", re.IGNORECASE)


def failed_album_item(error: BadRequest) -> int | None:
    """The 1-based position Telegram names in 'failed to send message #n with the error message …'."""
    match = _ITEM_FAILED.search(error.message)
    return int(match.group(1)) if match else None


async def send_products(
    bot: Bot,
    chat_id: int,
    products: Sequence[Product],
    *,
    first_rank: int,
    lang: Lang,
    photos: ProductPhotos,
) -> list[Product]:
    """Send ``products`` (at most 10) numbered from ``first_rank``; returns those shown, in order."""
    products = list(products)[:MAX_ALBUM]
    inputs = await asyncio.gather(*(photos.get(product) for product in products))
    entries = [(product, media) for product, media in zip(products, inputs, strict=True) if media is not None]
    for _ in range(MAX_ATTEMPTS):
        if not entries:
            break
        try:
            sent = await _send_retrying_once(bot, chat_id, entries, first_rank, lang)
        except BadRequest as exc:
            entries = await _recover(exc, entries, photos)
            continue
        for (product, _), message in zip(entries, sent, strict=False):
            if message.photo:
                photos.remember(product, message.photo[-1].file_id)
        return [product for product, _ in entries]
    if products:
        log.warning("no product photo could be sent to chat %d: sending the results as text", chat_id)
        await bot.send_message(chat_id, results_list(lang, first_rank, products), parse_mode=ParseMode.HTML)
    return products


async def _send_retrying_once(
    bot: Bot, chat_id: int, entries: list[tuple[Product, PhotoInput]], first_rank: int, lang: Lang
) -> Sequence[Message]:
    """``_send``, once more after a 5xx or a connection failure (PTB raises ``NetworkError`` for both)."""
    try:
        return await _send(bot, chat_id, entries, first_rank, lang)
    except (BadRequest, TimedOut):  # BadRequest is a NetworkError too: a refusal, handled by the caller
        raise
    except NetworkError as exc:
        log.warning("Telegram failed the album for chat %d (%s): retrying once", chat_id, exc.message)
    await asyncio.sleep(SERVER_ERROR_RETRY_SECONDS)
    return await _send(bot, chat_id, entries, first_rank, lang)


async def _send(
    bot: Bot, chat_id: int, entries: list[tuple[Product, PhotoInput]], first_rank: int, lang: Lang
) -> Sequence[Message]:
    if len(entries) == 1:
        product, media = entries[0]
        message = await bot.send_photo(
            chat_id, media, caption=caption(lang, first_rank, product), parse_mode=ParseMode.HTML
        )
        return [message]
    album = [
        InputMediaPhoto(media, caption=caption(lang, first_rank + index, product), parse_mode=ParseMode.HTML)
        for index, (product, media) in enumerate(entries)
    ]
    return await bot.send_media_group(chat_id, album)


async def _recover(
    error: BadRequest, entries: list[tuple[Product, PhotoInput]], photos: ProductPhotos
) -> list[tuple[Product, PhotoInput]]:
    """What to send next after Telegram refused the album; raises when nothing can be changed."""
    if len(entries) > 1:
        position = failed_album_item(error)
    else:
        position = 1 if _PHOTO_PROBLEM.search(error.message) else None
    if position is not None and 1 <= position <= len(entries):
        product, media = entries[position - 1]
        if isinstance(media, str):  # a cached file_id Telegram no longer accepts: upload the bytes
            fresh = await photos.get_fresh(product)
            if fresh is not None:
                log.info("file_id of product %d refused (%s): uploading it again", product.id, error.message)
                return [*entries[: position - 1], (product, fresh), *entries[position:]]
        log.warning(
            "Telegram refused the photo of product %d (%s): leaving it out", product.id, error.message
        )
        photos.mark_failed(product)
        return [*entries[: position - 1], *entries[position:]]
    if any(isinstance(media, str) for _, media in entries):
        log.info("album refused (%s): uploading its photos again instead of cached file_ids", error.message)
        refreshed = []
        for product, media in entries:
            fresh = await photos.get_fresh(product) if isinstance(media, str) else media
            if fresh is not None:
                refreshed.append((product, fresh))
        return refreshed
    raise error
