"""Micro-batching for concurrent single-image queries: one forward pass serves several users.

Queries that arrive within ``max_wait_ms`` of the first waiting one share a pass (at most
``max_batch``); at most ``max_queue`` are in flight, and one more raises ``EncoderBusyError``.
Passes run with interactive priority, ahead of a bulk caller's next chunk (the nightly sync).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from PIL import Image

from indexer.embedding.errors import EncoderBusyError, EncoderClosedError

log = logging.getLogger(__name__)


class PixelEncoder(Protocol):
    """What the batcher needs from ``Encoder``."""

    def preprocess_image(self, image: Image.Image) -> torch.Tensor: ...

    def embed_pixels(self, pixels: torch.Tensor) -> np.ndarray: ...


@dataclass
class _Request:
    pixels: torch.Tensor
    future: asyncio.Future[np.ndarray]
    queued_at: float


@dataclass
class BatcherStats:
    batches: int = 0  # forward passes run
    images: int = 0  # images embedded
    busy: int = 0  # requests refused with EncoderBusyError


class MicroBatcher:
    """Shares forward passes between concurrent ``await embed(image)`` calls on one event loop."""

    def __init__(
        self,
        encoder: PixelEncoder,
        *,
        max_batch: int = 8,
        max_wait_ms: float = 5.0,
        max_queue: int = 64,
    ) -> None:
        if max_batch < 1 or max_queue < 1 or max_wait_ms < 0:
            raise ValueError("max_batch and max_queue must be at least 1, max_wait_ms at least 0")
        self._encoder = encoder
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.max_queue = max_queue
        self.stats = BatcherStats()
        self._queue: deque[_Request] = deque()
        self._encoding: list[_Request] = []
        self._in_flight = 0
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    async def __aenter__(self) -> MicroBatcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def embed(self, image: Image.Image) -> np.ndarray:
        """The (dimension,) float32 unit vector of one decoded RGB image.

        Raises ``EncoderBusyError`` when ``max_queue`` requests are already in flight and
        ``EncoderClosedError`` after ``close()``; bad images raise what ``preprocess_image`` raises.
        """
        if self._closed:
            raise EncoderClosedError("the encoder is shutting down")
        if self._in_flight >= self.max_queue:
            self.stats.busy += 1
            raise EncoderBusyError(f"{self._in_flight} images are already waiting for the encoder")
        loop = self._bind(asyncio.get_running_loop())
        self._in_flight += 1
        try:
            pixels = await loop.run_in_executor(None, self._encoder.preprocess_image, image)
            if self._closed:
                raise EncoderClosedError("the encoder is shutting down")
            future: asyncio.Future[np.ndarray] = loop.create_future()
            self._queue.append(_Request(pixels, future, loop.time()))
            self._ensure_worker()
            assert self._wakeup is not None
            self._wakeup.set()
            return await future
        finally:
            self._in_flight -= 1

    async def close(self) -> None:
        """Refuse new work, finish what is queued, stop the worker thread. Idempotent."""
        self._closed = True
        if self._wakeup is not None:
            self._wakeup.set()
        if self._worker is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._worker)
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    def _bind(self, loop: asyncio.AbstractEventLoop) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = loop
            self._wakeup = asyncio.Event()
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="snapfit-encoder")
        elif self._loop is not loop:
            raise RuntimeError("a MicroBatcher serves one event loop")
        return loop

    def _ensure_worker(self) -> None:
        if self._worker is None or self._worker.done():
            assert self._loop is not None
            self._worker = self._loop.create_task(self._run(), name="snapfit-micro-batcher")

    async def _run(self) -> None:
        try:
            while True:
                batch = await self._next_batch()
                if batch is None:
                    return
                if batch:
                    await self._encode(batch)
        finally:
            # Only finds requests left when the worker is cancelled (event loop shutdown).
            for request in [*self._encoding, *self._queue]:
                if not request.future.done():
                    request.future.set_exception(EncoderClosedError("the encoder stopped"))
            self._encoding = []
            self._queue.clear()

    async def _next_batch(self) -> list[_Request] | None:
        """Wait for a batch: full, or its oldest request's window elapsed. None: closed and drained."""
        assert self._loop is not None and self._wakeup is not None
        self._drop_cancelled()
        while not self._queue:
            if self._closed:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
            self._drop_cancelled()
        deadline = self._queue[0].queued_at + self.max_wait
        while len(self._queue) < self.max_batch and not self._closed:
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                break
            self._wakeup.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._wakeup.wait()
            except TimeoutError:
                break
            self._drop_cancelled()
        batch: list[_Request] = []
        while self._queue and len(batch) < self.max_batch:
            request = self._queue.popleft()
            if not request.future.done():
                batch.append(request)
        return batch

    def _drop_cancelled(self) -> None:
        if any(request.future.done() for request in self._queue):
            self._queue = deque(request for request in self._queue if not request.future.done())

    async def _encode(self, batch: list[_Request]) -> None:
        assert self._loop is not None
        self._encoding = batch
        try:
            vectors = await self._loop.run_in_executor(
                self._executor, self._forward, [request.pixels for request in batch]
            )
        except Exception as exc:
            log.exception("micro-batch of %d images failed", len(batch))
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(exc)
            return
        finally:
            self._encoding = []
        self.stats.batches += 1
        self.stats.images += len(batch)
        for request, vector in zip(batch, vectors, strict=True):
            if not request.future.done():
                request.future.set_result(vector.copy())

    def _forward(self, pixels: list[torch.Tensor]) -> np.ndarray:
        return self._encoder.embed_pixels(torch.stack(pixels))
