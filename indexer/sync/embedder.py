"""Download → decode → embed → upsert, overlapped, for the products a sync must (re-)embed.

Workers fetch and decode images into a small bounded queue; one consumer embeds chunks in a
worker thread and upserts each at once, so a crash loses at most the chunk in flight. A failed
image is counted and tried again next sync; a block of the image host or a robots.txt refusal
stops fetching, and what was fetched is still stored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image

from indexer.images import ImageDecoder
from indexer.images import ImageError as DecodeError
from indexer.musinsa.client import MusinsaClient
from indexer.musinsa.errors import BlockedError, MusinsaError, RobotsDisallowedError
from indexer.product import Product
from indexer.store.catalog import ProductIndex
from indexer.sync.progress import SyncProgress
from indexer.sync.summary import ImageFailure

log = logging.getLogger(__name__)


class ImageEncoder(Protocol):
    """The part of ``indexer.embedding.Encoder`` a sync uses."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def image_size(self) -> int: ...

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray: ...


@dataclass
class EmbedResult:
    stored: list[int] = field(default_factory=list)
    failed: int = 0
    embedded: int = 0
    embed_seconds: float = 0.0
    stopped: str | None = None  # why fetching stopped early (a block or a robots refusal)


_DONE = None


class ImagePipeline:
    def __init__(
        self,
        *,
        client: MusinsaClient,
        decoder: ImageDecoder,
        encoder: ImageEncoder,
        target: ProductIndex,
        chunk_size: int,
        concurrency: int,
        progress: SyncProgress,
        on_failure: Callable[[ImageFailure], None] | None = None,
    ) -> None:
        self._client = client
        self._decoder = decoder
        self._encoder = encoder
        self._target = target
        self._chunk_size = max(1, chunk_size)
        self._concurrency = max(1, concurrency)
        self._progress = progress
        self._on_failure = on_failure
        self._result = EmbedResult()

    @property
    def result(self) -> EmbedResult:
        """What was done so far (also after ``run`` raised)."""
        return self._result

    async def run(self, products: Sequence[Product]) -> EmbedResult:
        if not products:
            return self._result
        work = iter(products)
        ready: asyncio.Queue[tuple[Product, Image.Image] | None] = asyncio.Queue(maxsize=2 * self._chunk_size)
        try:
            async with asyncio.TaskGroup() as group:
                consumer = group.create_task(self._consume(ready))
                workers = [
                    group.create_task(self._fetch(work, ready))
                    for _ in range(min(self._concurrency, len(products)))
                ]
                for worker in workers:
                    await worker
                await ready.put(_DONE)
                await consumer
        except BaseExceptionGroup as errors:  # one plain error for the caller, not a group
            raise _first(errors) from None
        return self._result

    def _fail(self, product: Product, stage: str, message: str) -> None:
        failure = ImageFailure(product.id, stage, message)
        self._result.failed += 1
        log.info("product %d: image %s failed: %s", product.id, stage, message)
        if self._on_failure is not None:
            self._on_failure(failure)
        self._progress.image_done(product.id, False)

    async def _fetch(
        self, work: Iterator[Product], ready: asyncio.Queue[tuple[Product, Image.Image] | None]
    ) -> None:
        for product in work:  # the workers share one iterator: each product is fetched once
            if self._result.stopped:
                return
            try:
                data = await self._client.fetch_image(product.image_url)
            except (BlockedError, RobotsDisallowedError) as exc:
                if not self._result.stopped:
                    self._result.stopped = f"image downloads stopped: {exc}"
                    log.warning("%s", self._result.stopped)
                self._fail(product, "download", str(exc))
                return
            except MusinsaError as exc:
                self._fail(product, "download", str(exc))
                continue
            try:
                image = await asyncio.to_thread(self._decoder.decode, data)
            except DecodeError as exc:
                self._fail(product, "decode", f"{exc.code}: {exc}")
                continue
            self._progress.image_done(product.id, True)
            await ready.put((product, image))

    async def _consume(self, ready: asyncio.Queue[tuple[Product, Image.Image] | None]) -> None:
        chunk: list[tuple[Product, Image.Image]] = []
        while True:
            item = await ready.get()
            if item is _DONE:
                break
            chunk.append(item)
            if len(chunk) >= self._chunk_size:
                await self._embed_and_store(chunk)
                chunk = []
        if chunk:
            await self._embed_and_store(chunk)

    async def _embed_and_store(self, chunk: list[tuple[Product, Image.Image]]) -> None:
        products = [product for product, _ in chunk]
        started = time.perf_counter()
        vectors = await asyncio.to_thread(self._encoder.embed_images, [image for _, image in chunk])
        self._result.embed_seconds += time.perf_counter() - started
        self._result.embedded += len(chunk)
        self._progress.embedded(len(chunk))
        await self._target.upsert(list(zip(products, vectors, strict=True)), model_id=self._encoder.model_id)
        self._result.stored.extend(product.id for product in products)
        self._progress.stored(len(chunk))


def _first(errors: BaseExceptionGroup) -> BaseException:
    group: BaseException = errors
    while isinstance(group, BaseExceptionGroup):
        group = group.exceptions[0]
    return group
