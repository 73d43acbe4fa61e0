"""MicroBatcher: shared forward passes, bounded waits and queue, cancellation, errors, shutdown."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import numpy as np
import pytest
import torch
from PIL import Image

from indexer.embedding import Encoder, EncoderBusyError, EncoderClosedError, MicroBatcher
from tests.image_corpus import quadrant_image

WAIT = 30  # seconds: the bound on every wait in these tests, never reached when they pass


def images(count: int) -> list[Image.Image]:
    return [
        quadrant_image(24 + 3 * index, 40).rotate(37 * index, expand=True, fillcolor=(index * 20, 90, 200))
        for index in range(count)
    ]


class GatedEncoder:
    """The real encoder behind a gate: forward passes wait until the test opens it."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.passes: list[int] = []
        self.entered = threading.Event()
        self.fail_with: Exception | None = None

    def preprocess_image(self, image: Image.Image) -> torch.Tensor:
        return self.inner.preprocess_image(image)

    def embed_pixels(self, pixels: torch.Tensor) -> np.ndarray:
        self.passes.append(len(pixels))
        self.entered.set()
        if not self.gate.wait(WAIT):
            raise TimeoutError("gate never opened")
        if self.fail_with is not None:
            raise self.fail_with
        return self.inner.embed_pixels(pixels)


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll state that executor threads change (there is no event to await); bounded by WAIT."""
    try:
        async with asyncio.timeout(WAIT):
            while not condition():  # noqa: ASYNC110
                await asyncio.sleep(0.001)
    except TimeoutError:
        raise AssertionError(f"timed out waiting until {what}") from None


async def test_single_query_equals_the_batch_path(tiny_encoder: Encoder) -> None:
    image = images(1)[0]
    async with MicroBatcher(tiny_encoder) as batcher:
        vector = await asyncio.wait_for(batcher.embed(image), WAIT)
    assert vector.shape == (tiny_encoder.dimension,) and vector.dtype == np.float32
    np.testing.assert_allclose(vector, tiny_encoder.embed_images([image])[0], atol=1e-5)


async def test_concurrent_queries_share_forward_passes(tiny_encoder: Encoder) -> None:
    batch = images(12)
    expected = tiny_encoder.embed_images(batch)
    async with MicroBatcher(tiny_encoder, max_batch=16, max_wait_ms=500) as batcher:
        vectors = await asyncio.wait_for(asyncio.gather(*(batcher.embed(image) for image in batch)), WAIT)
        assert batcher.stats.images == 12
        assert batcher.stats.batches < 12
    np.testing.assert_allclose(np.stack(vectors), expected, atol=1e-5)


async def test_results_are_deterministic_under_concurrency(tiny_encoder: Encoder) -> None:
    batch = images(6)
    async with MicroBatcher(tiny_encoder, max_batch=4, max_wait_ms=2) as batcher:
        first = await asyncio.wait_for(asyncio.gather(*(batcher.embed(image) for image in batch)), WAIT)
        second = await asyncio.wait_for(
            asyncio.gather(*(batcher.embed(image) for image in batch[::-1])), WAIT
        )
    np.testing.assert_allclose(np.stack(first), np.stack(second[::-1]), atol=1e-5)


async def test_a_lone_query_does_not_wait_for_a_full_batch(tiny_encoder: Encoder) -> None:
    async with MicroBatcher(tiny_encoder, max_batch=64, max_wait_ms=5) as batcher:
        await asyncio.wait_for(batcher.embed(images(1)[0]), WAIT)
        assert batcher.stats.batches == 1


async def test_batches_never_exceed_max_batch(tiny_encoder: Encoder) -> None:
    gated = GatedEncoder(tiny_encoder)
    async with MicroBatcher(gated, max_batch=3, max_wait_ms=100) as batcher:
        tasks = [asyncio.create_task(batcher.embed(image)) for image in images(7)]
        await asyncio.to_thread(gated.entered.wait, WAIT)
        gated.gate.set()
        await asyncio.wait_for(asyncio.gather(*tasks), WAIT)
    assert max(gated.passes) <= 3 and sum(gated.passes) == 7


async def test_the_event_loop_keeps_running_during_a_forward_pass(tiny_encoder: Encoder) -> None:
    gated = GatedEncoder(tiny_encoder)
    async with MicroBatcher(gated) as batcher:
        task = asyncio.create_task(batcher.embed(images(1)[0]))
        await asyncio.to_thread(gated.entered.wait, WAIT)
        ticks = 0
        for _ in range(5):
            await asyncio.sleep(0.001)
            ticks += 1
        assert ticks == 5 and not task.done()
        gated.gate.set()
        await asyncio.wait_for(task, WAIT)


async def test_a_full_queue_answers_busy_at_once(tiny_encoder: Encoder) -> None:
    gated = GatedEncoder(tiny_encoder)
    two = images(3)
    async with MicroBatcher(gated, max_batch=1, max_queue=2) as batcher:
        first = asyncio.create_task(batcher.embed(two[0]))
        second = asyncio.create_task(batcher.embed(two[1]))
        await wait_until(lambda: batcher.in_flight == 2, "two requests in flight")
        with pytest.raises(EncoderBusyError) as caught:
            await batcher.embed(two[2])
        assert caught.value.code == "busy"
        assert batcher.stats.busy == 1
        gated.gate.set()
        done = await asyncio.wait_for(asyncio.gather(first, second), WAIT)
        # Room again once the queue drains.
        third = await asyncio.wait_for(batcher.embed(two[2]), WAIT)
    expected = tiny_encoder.embed_images(two)
    np.testing.assert_allclose(np.stack([*done, third]), expected, atol=1e-5)


async def test_a_cancelled_caller_does_not_disturb_the_others(tiny_encoder: Encoder) -> None:
    gated = GatedEncoder(tiny_encoder)
    batch = images(4)
    async with MicroBatcher(gated, max_batch=8, max_wait_ms=50) as batcher:
        busy = asyncio.create_task(batcher.embed(batch[0]))  # occupies the forward thread
        await asyncio.to_thread(gated.entered.wait, WAIT)
        waiting = [asyncio.create_task(batcher.embed(image)) for image in batch[1:]]
        await wait_until(lambda: batcher.in_flight == 4 and len(batcher._queue) == 3, "three queued")
        waiting[1].cancel()
        gated.gate.set()
        results = await asyncio.wait_for(asyncio.gather(busy, waiting[0], waiting[2]), WAIT)
        with pytest.raises(asyncio.CancelledError):
            await waiting[1]
        after = await asyncio.wait_for(batcher.embed(batch[2]), WAIT)
    expected = tiny_encoder.embed_images(batch)
    np.testing.assert_allclose(np.stack(results), expected[[0, 1, 3]], atol=1e-5)
    np.testing.assert_allclose(after, expected[2], atol=1e-5)
    assert gated.passes == [1, 2, 1], "the cancelled request is left out of its batch"


async def test_a_failed_pass_fails_its_callers_and_the_next_one_works(tiny_encoder: Encoder) -> None:
    gated = GatedEncoder(tiny_encoder)
    gated.fail_with = RuntimeError("forward pass failed")
    gated.gate.set()
    async with MicroBatcher(gated, max_wait_ms=20) as batcher:
        results = await asyncio.wait_for(
            asyncio.gather(*(batcher.embed(image) for image in images(3)), return_exceptions=True), WAIT
        )
        assert all(isinstance(result, RuntimeError) for result in results)
        gated.fail_with = None
        vector = await asyncio.wait_for(batcher.embed(images(1)[0]), WAIT)
    np.testing.assert_allclose(vector, tiny_encoder.embed_images(images(1))[0], atol=1e-5)


async def test_a_bad_image_fails_only_its_caller(tiny_encoder: Encoder) -> None:
    async with MicroBatcher(tiny_encoder, max_wait_ms=20) as batcher:
        good, bad = await asyncio.wait_for(
            asyncio.gather(
                batcher.embed(images(1)[0]), batcher.embed(Image.new("RGBA", (8, 8))), return_exceptions=True
            ),
            WAIT,
        )
    assert isinstance(bad, ValueError)
    np.testing.assert_allclose(good, tiny_encoder.embed_images(images(1))[0], atol=1e-5)


async def test_close_finishes_queued_work_then_refuses_more(tiny_encoder: Encoder) -> None:
    gated = GatedEncoder(tiny_encoder)
    batcher = MicroBatcher(gated, max_batch=2, max_wait_ms=0)
    tasks = [asyncio.create_task(batcher.embed(image)) for image in images(5)]
    await asyncio.to_thread(gated.entered.wait, WAIT)
    await wait_until(lambda: len(batcher._queue) + sum(gated.passes) == 5, "all queued or encoding")
    closing = asyncio.create_task(batcher.close())
    with pytest.raises(EncoderClosedError):
        await batcher.embed(images(1)[0])
    gated.gate.set()
    await asyncio.wait_for(closing, WAIT)
    vectors = await asyncio.wait_for(asyncio.gather(*tasks), WAIT)
    np.testing.assert_allclose(np.stack(vectors), tiny_encoder.embed_images(images(5)), atol=1e-5)
    await batcher.close()  # idempotent
    with pytest.raises(EncoderClosedError):
        await batcher.embed(images(1)[0])


async def test_close_without_use() -> None:
    await MicroBatcher(object()).close()  # type: ignore[arg-type]


def test_invalid_settings_are_refused(tiny_encoder: Encoder) -> None:
    for settings in ({"max_batch": 0}, {"max_queue": 0}, {"max_wait_ms": -1}):
        with pytest.raises(ValueError):
            MicroBatcher(tiny_encoder, **settings)  # type: ignore[arg-type]
