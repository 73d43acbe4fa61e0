"""Everything the handlers use, opened once per process and closed on shutdown: ``BotServices``.

``post_init`` opens it into ``application.bot_data`` (handlers read ``context.services``); ``post_shutdown``
closes it. The CLI's ``search``/``similar`` open the same object, so the bot and the CLI answer
from the same code. Opening opens the catalog (an Edge folder is owned by one process:
``CatalogLockedError`` otherwise), loads the encoder (seconds for a real model) and opens the
Musinsa clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.garment_finder import GarmentFinder
from bot.limits import ActiveSearches, AlbumGate, SearchRateLimit
from bot.messages import Lang
from bot.pending import PendingPhotos
from bot.photos import ProductPhotos
from bot.search import CatalogEmptyError, SearchService
from bot.sessions import SearchSessions
from bot.timing import TimingsLog
from indexer.config import Settings
from indexer.text import load_analyser

if TYPE_CHECKING:
    from indexer.embedding import Encoder, MicroBatcher
    from indexer.musinsa import MusinsaClient
    from indexer.schedule import NightlySync
    from indexer.store import Catalog

log = logging.getLogger(__name__)

# One section of /stats: an HTML text (or None to show nothing) for an admin in ``lang``.
StatsSection = Callable[["BotServices", Lang], Awaitable[str | None]]


@dataclass
class BotServices:
    """The catalog, the encoder and everything built on them, shared by all handlers."""

    settings: Settings
    catalog: Catalog
    encoder: Encoder
    batcher: MicroBatcher
    product_pages: MusinsaClient
    image_downloads: MusinsaClient
    search: SearchService
    photos: ProductPhotos
    sessions: SearchSessions = field(default_factory=SearchSessions)
    active: ActiveSearches = field(default_factory=ActiveSearches)
    albums: AlbumGate = field(default_factory=AlbumGate)
    timings: TimingsLog = field(default_factory=TimingsLog)
    rate: SearchRateLimit = field(default_factory=lambda: SearchRateLimit(10))
    # Garment pick: the parser (the bot preloads it) and the photos waiting for a choice.
    garments: GarmentFinder = field(default_factory=GarmentFinder.disabled)
    pending: PendingPhotos = field(default_factory=PendingPhotos)
    # /stats shows these in order (bot.stats); the bot adds its sections in bot.app.
    stats_sections: list[StatsSection] = field(default_factory=list)
    # The nightly sync engine of ``snapfit run`` (bot.nightly); None in the CLI's search/similar.
    nightly: NightlySync | None = None
    _background: set[asyncio.Task[None]] = field(default_factory=set, repr=False)
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack, repr=False)

    @classmethod
    async def open(cls, settings: Settings, *, require_index: bool = False) -> BotServices:
        """Open the catalog, load the encoder, open the Musinsa clients; closes what it opened on failure.

        The catalog goes first: a locked or unreachable store, or (``require_index``, the CLI's
        searches) an empty one, is reported before seconds of model loading or a download.
        """
        from indexer.embedding import Encoder, MicroBatcher
        from indexer.musinsa import MusinsaClient, image_client
        from indexer.store import open_catalog

        stack = contextlib.AsyncExitStack()
        try:
            catalog = await open_catalog(settings.store)
            stack.push_async_callback(catalog.close)
            if require_index and catalog.version is None:
                raise CatalogEmptyError("nothing is indexed yet")
            encoder = await asyncio.to_thread(Encoder.from_settings, settings.model)
            batcher = MicroBatcher(encoder)
            stack.push_async_callback(batcher.close)
            product_pages = await stack.enter_async_context(
                MusinsaClient(settings.musinsa, images=settings.images)
            )
            image_downloads = await stack.enter_async_context(image_client(settings.musinsa, settings.images))
            search = SearchService(
                catalog=catalog,
                encoder=encoder,
                batcher=batcher,
                images=settings.images,
                model=settings.model,
                musinsa=settings.musinsa,
                product_pages=product_pages,
                image_downloads=image_downloads,
                load_encoder=Encoder.from_settings,
            )
            stack.push_async_callback(search.close)
        except BaseException:
            await stack.aclose()
            raise
        services = cls(
            settings=settings,
            catalog=catalog,
            encoder=encoder,
            batcher=batcher,
            product_pages=product_pages,
            image_downloads=image_downloads,
            search=search,
            photos=ProductPhotos(image_downloads, settings.images),
            rate=SearchRateLimit(settings.telegram.photos_per_minute),
            garments=GarmentFinder.from_settings(settings.garments, settings.images, settings.model),
            pending=PendingPhotos(
                per_user=settings.garments.pending_per_user,
                ttl_seconds=settings.garments.pending_ttl_seconds,
            ),
            _stack=stack,
        )
        log.info(
            "services ready: model %s, index %s",
            encoder.model_id,
            catalog.version.name if catalog.version else "empty",
        )
        return services

    def preload_garment_parser(self) -> None:
        """Start loading the garment parser in the background (the bot, at start-up)."""
        if self.garments.enabled:
            self.spawn(self.garments.preload(), "garment-parser-load")

    def preload_text_analyser(self) -> None:
        """Load the Korean analyser (text search, captions) in the background (the bot, at start-up)."""
        self.spawn(_load_text_analyser(), "text-analyser-load")

    def spawn(self, work: Coroutine[object, object, None], name: str) -> None:
        """Run ``work`` in the background until it ends or the services close (then it is cancelled).

        Not PTB's ``create_task``: ``Application.stop`` waits for those, and a report that waits
        for an hours-long sync must not hold up a shutdown.
        """
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def on_close(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``callback`` when the services close, before anything opened earlier is closed."""
        self._stack.push_async_callback(callback)

    async def close(self) -> None:
        """Close the search models, the Musinsa clients and the catalog, last opened first. Idempotent."""
        for task in list(self._background):
            task.cancel()
        await self._stack.aclose()
        if self._background:
            await asyncio.wait(self._background)


async def _load_text_analyser() -> None:
    try:
        await asyncio.to_thread(load_analyser)
    except Exception:  # the first text search or caption tries again, and says what failed
        log.exception("the Korean text analyser could not be preloaded")
