"""``GarmentFinder``: the bot's way to the clothes parser: loaded once, parsing off the event loop.

The bot loads the parser in the background at start-up (``preload``), so a photo never waits for
the model (or for a Hub that does not answer); the CLI loads it on first use. ``find(data)``
answers ``None`` when there is no parser (disabled, still loading in the background, or its model
failed to load: logged once, not retried until a restart) or it fails on the photo; the photo is
then searched whole. Photos are decoded at the parser's input size.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass

from PIL import Image

from bot.pending import PendingGarment
from bot.search import BadImageError, SearchBusyError
from bot.timing import StageTimings
from indexer.clothes_parser import Garment, GarmentParser, LazyGarmentParser
from indexer.config import GarmentSettings, ImageSettings, ModelSettings
from indexer.images import ImageDecoder, ImageError

log = logging.getLogger(__name__)

MAX_WAITING = 16  # photos waiting for the parser at once; more answer "busy" (like the encoder's queue)
CROP_JPEG_QUALITY = 95


@dataclass(frozen=True)
class FoundGarments:
    image: Image.Image  # the decoded photo the boxes refer to
    garments: list[Garment]


class GarmentFinder:
    """Finds the garments in a user's photo; see the module docstring."""

    def __init__(
        self, settings: GarmentSettings, images: ImageSettings, parser: LazyGarmentParser | None = None
    ) -> None:
        self.settings = settings
        self._images = images
        self.parser = parser or LazyGarmentParser(settings, ModelSettings())
        self._waiting = 0
        self._preloading = False
        self._said_loading = False

    @classmethod
    def from_settings(
        cls, settings: GarmentSettings, images: ImageSettings, model: ModelSettings
    ) -> GarmentFinder:
        return cls(settings, images, LazyGarmentParser(settings, model))

    @classmethod
    def disabled(cls) -> GarmentFinder:
        return cls(GarmentSettings(enabled=False), ImageSettings())

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    async def preload(self) -> None:
        """Load the parser now, in a worker thread; until it is ready, photos are searched whole."""
        if not self.settings.enabled or self.parser.state != "not_loaded":
            return
        self._preloading = True
        try:
            await asyncio.to_thread(self.parser.get)
        finally:
            self._preloading = False

    async def load(self) -> GarmentParser | None:
        """The parser, loading it on first use (in a worker thread); None when disabled, unavailable
        or still loading in the background."""
        if not self.settings.enabled or self.parser.state == "unavailable":
            return None
        if self._preloading and self.parser.state == "not_loaded":
            if not self._said_loading:
                self._said_loading = True
                log.info("the garment parser is still loading: photos are searched whole until it is ready")
            return None
        return await asyncio.to_thread(self.parser.get)

    async def find(
        self, data: bytes, *, timings: StageTimings | None = None, full_size: bool = False
    ) -> FoundGarments | None:
        """The garments in the photo ``data``; None when there is no parser to ask.

        Raises ``BadImageError`` for an undecodable photo and ``SearchBusyError`` when too many
        photos already wait for the parser. ``full_size`` decodes at the file's own resolution
        (the CLI, so boxes are in the file's pixels); the bot decodes for the parser's input size.
        """
        timings = timings if timings is not None else StageTimings()
        if not self.settings.enabled:
            return None
        if self._waiting >= MAX_WAITING:
            raise SearchBusyError(f"{self._waiting} photos are waiting for the garment parser")
        self._waiting += 1
        try:
            with timings.stage("parse"):
                parser = await self.load()
                if parser is None:
                    return None
                decoder = ImageDecoder(self._images, None if full_size else parser.input_size)
                try:
                    image = await asyncio.to_thread(decoder.decode, bytes(data))
                except ImageError as exc:
                    raise BadImageError(exc) from None
                try:
                    garments = await asyncio.to_thread(parser.parse, image)
                except Exception:  # the pick is an extra: a parser failure must not cost the search
                    log.exception("the garment parser failed on a photo: searching it whole")
                    return None
        finally:
            self._waiting -= 1
        log.debug("garments found: %s", ", ".join(g.label for g in garments) or "none")
        return FoundGarments(image, garments)


def crop_jpeg(image: Image.Image) -> bytes:
    """A crop as the JPEG bytes the search decodes (the catalog's photos are JPEGs too)."""
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=CROP_JPEG_QUALITY)
    return buffer.getvalue()


def pending_garment(garment: Garment) -> PendingGarment:
    return PendingGarment(
        garment.label, garment.categories, garment.area, garment.box, crop_jpeg(garment.crop)
    )
