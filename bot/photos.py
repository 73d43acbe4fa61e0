"""Product photos for result albums: downloaded by snapfit, checked, uploaded once, then reused by file_id.

Telegram must never be given a Musinsa URL: its servers would fetch it without Musinsa's Referer
and get the CDN's placeholder, and one bad URL fails the whole album. So each photo is downloaded
through the paced image client (with the Referer), decoded to prove it is a usable image (and
re-encoded as JPEG when Telegram would refuse it as it is), and uploaded as bytes. The file_id
Telegram returns is cached per product (bounded LRU), so repeat results cost no download. A photo
that cannot be had is remembered for a while and its product left out of the album.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from PIL import Image
from telegram.constants import FileSizeLimit

from indexer.config import ImageSettings
from indexer.images import ImageDecoder, ImageError
from indexer.musinsa import MusinsaError
from indexer.product import Product

if TYPE_CHECKING:
    from indexer.musinsa import MusinsaClient

log = logging.getLogger(__name__)

PhotoInput = str | bytes  # a Telegram file_id, or bytes to upload
TELEGRAM_DIMENSION_SUM = 10_000  # width + height
TELEGRAM_ASPECT_RATIO = 20
REENCODE_SIDE = 1280
SENDABLE_FORMATS = frozenset({"JPEG", "PNG"})
DEFAULT_CACHE_SIZE = 4096
DEFAULT_FAILURE_SECONDS = 600.0

_Key = tuple[int, str]


class PhotoRejectedError(Exception):
    """The downloaded bytes cannot become a Telegram photo."""


def prepare_photo(data: bytes, settings: ImageSettings) -> bytes:
    """Bytes Telegram accepts as a photo: the original when it already fits, else a JPEG re-encode."""
    try:
        image = ImageDecoder(settings, None).decode(data)
    except ImageError as exc:
        raise PhotoRejectedError(f"{exc.code}: {exc.message}") from None
    with Image.open(io.BytesIO(data)) as original:
        source_format = original.format
        width, height = original.size  # the file's own size: a huge JPEG may decode at a smaller scale
    if max(width, height) > TELEGRAM_ASPECT_RATIO * min(width, height):
        raise PhotoRejectedError(f"{width}x{height} is too narrow for a Telegram photo")
    if (
        source_format in SENDABLE_FORMATS
        and len(data) <= FileSizeLimit.PHOTOSIZE_UPLOAD
        and width + height <= TELEGRAM_DIMENSION_SUM
    ):
        return data
    image.thumbnail((REENCODE_SIDE, REENCODE_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


class ProductPhotos:
    """file_ids and fresh downloads of product photos; see the module docstring."""

    def __init__(
        self,
        client: MusinsaClient,
        settings: ImageSettings,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        failure_seconds: float = DEFAULT_FAILURE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._settings = settings
        self._cache_size = cache_size
        self._failure_seconds = failure_seconds
        self._clock = clock
        self._file_ids: OrderedDict[_Key, str] = OrderedDict()
        self._failed: OrderedDict[_Key, float] = OrderedDict()
        self._downloads: dict[_Key, asyncio.Task[bytes | None]] = {}
        self.downloads = 0  # photos actually fetched from the CDN (for tests and metrics)

    @staticmethod
    def _key(product: Product) -> _Key:
        return product.id, product.image_url  # a changed image URL is a new photo

    def cached(self, product: Product) -> str | None:
        key = self._key(product)
        file_id = self._file_ids.get(key)
        if file_id is not None:
            self._file_ids.move_to_end(key)
        return file_id

    def remember(self, product: Product, file_id: str) -> None:
        key = self._key(product)
        self._file_ids[key] = file_id
        self._file_ids.move_to_end(key)
        while len(self._file_ids) > self._cache_size:
            self._file_ids.popitem(last=False)

    def forget(self, product: Product) -> None:
        """Drop a cached file_id (Telegram refused it): the next use downloads again."""
        self._file_ids.pop(self._key(product), None)

    def mark_failed(self, product: Product) -> None:
        """Telegram refused this photo: leave the product out of albums for a while."""
        key = self._key(product)
        self._file_ids.pop(key, None)
        self._failed[key] = self._clock() + self._failure_seconds
        while len(self._failed) > self._cache_size:
            self._failed.popitem(last=False)

    async def get(self, product: Product) -> PhotoInput | None:
        """A file_id, or checked bytes to upload; None when no usable photo can be had now."""
        cached = self.cached(product)
        if cached is not None:
            return cached
        key = self._key(product)
        until = self._failed.get(key)
        if until is not None:
            if until > self._clock():
                return None
            del self._failed[key]
        task = self._downloads.get(key)
        if task is None:  # one download per photo, however many albums wait for it
            task = asyncio.create_task(self._download(product), name=f"photo-{product.id}")
            self._downloads[key] = task
            task.add_done_callback(lambda _: self._downloads.pop(key, None))
        return await asyncio.shield(task)

    async def get_fresh(self, product: Product) -> bytes | None:
        """Bytes to upload, ignoring a cached file_id (used after Telegram refused one)."""
        self.forget(product)
        photo = await self.get(product)
        return photo if isinstance(photo, bytes) else None

    async def _download(self, product: Product) -> bytes | None:
        key = self._key(product)
        try:
            data = await self._client.fetch_image(product.image_url)
            self.downloads += 1
            return await asyncio.to_thread(prepare_photo, data, self._settings)
        except (MusinsaError, PhotoRejectedError) as exc:
            log.warning("no photo for product %d (%s): %s", product.id, product.image_url, exc)
        except Exception:  # one product's photo must never fail a whole album
            log.exception("no photo for product %d (%s)", product.id, product.image_url)
        self._failed[key] = self._clock() + self._failure_seconds
        return None
