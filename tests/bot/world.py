"""The bot tests' world: a product index built from the fake Musinsa, settings aimed at the fakes, a harness.

``build_index`` indexes a catalog the way sync will (crawl with the real client, download images
with the image client, decode and embed with the tiny encoder, upsert into an Edge catalog) without
depending on the sync engine. ``running`` drives a real PTB ``Application`` the way ``run_polling``
(or ``run_webhook``) does, including ``post_init``/``post_shutdown``, inside the test's event loop.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.context import SERVICES_KEY
from bot.webhook import WebhookOptions
from indexer.config import (
    DataSettings,
    GarmentSettings,
    ImageSettings,
    MetricsSettings,
    ModelSettings,
    MusinsaSettings,
    ScheduleSettings,
    Settings,
    StoreSettings,
    TelegramSettings,
)
from indexer.images import ImageDecoder
from indexer.musinsa import MusinsaClient, crawl_catalog, image_client
from indexer.product import Product
from indexer.store import open_catalog
from tests.fakes.musinsa import FakeMusinsa
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.server import Call
from tests.fakes.telegram_ptb import TEST_TOKEN
from tests.image_corpus import CORPUS_MAX_BYTES

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.services import BotServices
    from indexer.embedding import Encoder

ADMIN = 900_001
ALLOWED_UPDATES = ["message", "callback_query"]  # as snapfit run asks for them
WAIT = 30.0  # the bound on every wait for the bot; nothing normally comes close
_PRODUCT_LINK = re.compile(r"/products/(\d+)")


def image_settings() -> ImageSettings:
    """Corpus limits (so the too_many_bytes case trips) and a fast image pace for tests."""
    return ImageSettings(max_bytes=CORPUS_MAX_BYTES, requests_per_second=50.0, download_concurrency=16)


async def build_index(
    *,
    musinsa: MusinsaSettings,
    images: ImageSettings,
    store: StoreSettings,
    encoder: Encoder,
    model_name: str,
    categories: Sequence[str],
    skip_ids: Sequence[int] = (),
) -> list[Product]:
    """Crawl ``categories``, embed every product's image and commit them as a new index version."""
    async with MusinsaClient(musinsa, images=images) as client:
        crawl = await crawl_catalog(client, list(categories))
    assert crawl.complete, "the fake catalog must crawl completely"
    products = [product for product in crawl.products if product.id not in set(skip_ids)]
    async with image_client(musinsa, images) as downloads:
        photos = await asyncio.gather(*(downloads.fetch_image(product.image_url) for product in products))
    decoder = ImageDecoder(images, encoder.image_size)
    vectors = encoder.embed_images([decoder.decode(photo) for photo in photos])
    catalog = await open_catalog(store)
    try:
        rebuild = await catalog.begin_rebuild(encoder.model_id, model_name, encoder.dimension)
        await rebuild.upsert(list(zip(products, vectors, strict=True)), model_id=encoder.model_id)
        await rebuild.commit()
    finally:
        await catalog.close()
    return products


def bot_settings(
    *,
    telegram: FakeTelegram,
    musinsa: FakeMusinsa,
    model_dir: Path,
    store_dir: Path,
    data_dir: Path,
    schedule: ScheduleSettings | None = None,
    garments: GarmentSettings | None = None,
    **telegram_overrides: Any,
) -> Settings:
    """Settings aimed at the fakes. The nightly job is scheduled as in production, but an empty index
    is not synced at start-up unless ``schedule`` says so (tests of an empty index want it empty);
    the garment parser is off unless ``garments`` turns it on."""
    values: dict[str, Any] = {
        "token": TEST_TOKEN,
        "base_url": telegram.base_url,
        "base_file_url": telegram.base_file_url,
        "admin_ids": [ADMIN],
        "results_per_page": 6,
        "photos_per_minute": 100,
        **telegram_overrides,
    }
    return Settings(
        telegram=TelegramSettings(**values),
        musinsa=musinsa.musinsa_settings(),
        images=image_settings(),
        model=ModelSettings(name=f"local-dir:{model_dir}"),
        store=StoreSettings(path=str(store_dir)),
        data=DataSettings(dir=str(data_dir)),
        schedule=schedule or ScheduleSettings(sync_when_empty=False),
        # /metrics and /healthz on a free port: tests run side by side, and so do other checkouts.
        metrics=MetricsSettings(port=0),
        garments=garments or GarmentSettings(enabled=False),
    )


def services(app: Application) -> BotServices:  # type: ignore[type-arg]
    """The running bot's services (after ``post_init``)."""
    return app.bot_data[SERVICES_KEY]


@asynccontextmanager
async def running(
    app: Application,  # type: ignore[type-arg]
    webhook: WebhookOptions | None = None,
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """initialize → post_init → polling (or ``webhook``) → start, and back down (shutdown, post_shutdown),
    as run_polling and run_webhook do."""
    assert app.updater is not None and app.post_init is not None and app.post_shutdown is not None
    await app.initialize()
    try:
        await app.post_init(app)
        if webhook is None:
            await app.updater.start_polling(poll_interval=0, timeout=1)
        else:
            await app.updater.start_webhook(**webhook.start_kwargs(), allowed_updates=ALLOWED_UPDATES)
        await app.start()
        yield app
    finally:
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)


# ------------------------------------------------------------------------------- reading replies


def product_ids(call: Call) -> list[int]:
    """The products of an album (sendMediaGroup) or single photo (sendPhoto), from their caption links."""
    messages = call.result if isinstance(call.result, list) else [call.result]
    found = []
    for message in messages:
        links = [
            e.get("url", "") for e in message.get("caption_entities", []) if e.get("type") == "text_link"
        ]
        match = next((m for m in map(_PRODUCT_LINK.search, links) if m), None)
        assert match is not None, f"no product link in caption {message.get('caption')!r}"
        found.append(int(match.group(1)))
    return found


async def next_album(fake: FakeTelegram, chat_id: int, since: int) -> Call:
    """The next album (or single product photo) the bot sent to ``chat_id`` after call ``since``."""

    def find() -> Call | None:
        for call in fake.calls[since:]:
            if (
                call.ok
                and call.method in ("sendMediaGroup", "sendPhoto")
                and call.params.get("chat_id") == chat_id
            ):
                return call
        return None

    return await fake.wait_until(find, WAIT, f"an album in chat {chat_id}")


async def next_text(
    fake: FakeTelegram, chat_id: int, since: int, *, with_buttons: bool | None = None
) -> Call:
    """The next text message the bot sent to ``chat_id`` after call ``since``."""

    def matches(call: Call) -> bool:
        if call.params.get("chat_id") != chat_id:
            return False
        if with_buttons is None:
            return True
        return (call.params.get("reply_markup") is not None) == with_buttons

    return await fake.wait_for("sendMessage", matches, WAIT, ok=True, since=since)


def message_text(call: Call) -> str:
    return call.result["text"]


def buttons(call: Call) -> list[dict[str, Any]]:
    return FakeTelegram.buttons(call.result)
