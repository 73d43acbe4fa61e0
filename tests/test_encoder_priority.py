"""Interactive work goes before bulk work on the shared encoder: checked by the order of forward passes.

No timing: the first bulk pass is held at a gate until the interactive caller is seen waiting
for the encoder, then the recorded order of passes must show the interactive one next.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from indexer.config import ModelSettings
from indexer.embedding import Encoder, MicroBatcher
from indexer.embedding.loading import load_model
from indexer.embedding.priority import Priority, PriorityLock
from tests.test_embedding import photos

WAIT = 30  # seconds: the bound on every wait, never reached when the tests pass


class PassRecorder:
    """Stands in for ``model.encode_image``: records each pass's batch size; can hold the next pass."""

    def __init__(self, encode_image: Callable[..., torch.Tensor]) -> None:
        self.encode_image = encode_image
        self.passes: list[int] = []
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def hold_next_pass(self) -> None:
        self.entered.clear()
        self.gate.clear()

    def __call__(self, pixels: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
        self.passes.append(len(pixels))
        self.entered.set()
        if not self.gate.wait(WAIT):
            raise TimeoutError("the test never opened the gate")
        return self.encode_image(pixels, *args, **kwargs)


def recorded_encoder(tiny_model_dir: Path, **settings: object) -> tuple[Encoder, PassRecorder]:
    """A real tiny encoder whose model records its forward passes (the load-time probe excluded)."""
    model_settings = ModelSettings(name=f"local-dir:{tiny_model_dir}", **settings)  # type: ignore[arg-type]
    loaded = load_model(model_settings)
    recorder = PassRecorder(loaded.model.encode_image)
    loaded.model.encode_image = recorder  # type: ignore[method-assign]
    encoder = Encoder(
        loaded,
        batch_size=model_settings.batch_size,
        bulk_chunk=model_settings.bulk_chunk,
        preprocess=model_settings.preprocess,
    )
    recorder.passes.clear()
    return encoder, recorder


def wait_for(condition: Callable[[], bool], what: str) -> None:
    done = threading.Event()
    for _ in range(WAIT * 1000):
        if condition():
            return
        done.wait(0.001)
    raise AssertionError(f"timed out waiting until {what}")


def bulk_images() -> list[Image.Image]:
    return [*photos(), *photos(), photos()[0], photos()[1]]  # 12 images: 6 passes of 2


def test_an_interactive_pass_waits_for_at_most_one_bulk_chunk(tiny_model_dir: Path) -> None:
    encoder, recorder = recorded_encoder(tiny_model_dir, bulk_chunk=2)
    expected_bulk = encoder.embed_images(bulk_images())
    query = photos()[2]
    expected_query = encoder.embed_image(query)
    recorder.passes.clear()

    results: dict[str, np.ndarray] = {}
    recorder.hold_next_pass()
    bulk = threading.Thread(target=lambda: results.update(bulk=encoder.embed_images(bulk_images())))
    bulk.start()
    assert recorder.entered.wait(WAIT), "the bulk job never started"
    pixels = encoder.preprocess_image(query).unsqueeze(0)
    interactive = threading.Thread(target=lambda: results.update(query=encoder.embed_pixels(pixels)))
    interactive.start()
    wait_for(lambda: encoder.waiting(Priority.INTERACTIVE) == 1, "the query waits for the encoder")
    recorder.gate.set()
    bulk.join(WAIT)
    interactive.join(WAIT)

    assert recorder.passes == [2, 1, 2, 2, 2, 2, 2]
    np.testing.assert_allclose(results["bulk"], expected_bulk, atol=1e-5)
    np.testing.assert_allclose(results["query"][0], expected_query, atol=1e-5)


async def test_a_micro_batch_goes_before_the_rest_of_a_sync(tiny_model_dir: Path) -> None:
    encoder, recorder = recorded_encoder(tiny_model_dir, bulk_chunk=2)
    query = photos()[3]
    expected = encoder.embed_image(query)
    recorder.passes.clear()
    recorder.hold_next_pass()
    loop = asyncio.get_running_loop()
    bulk = loop.run_in_executor(None, encoder.embed_images, bulk_images())
    assert await asyncio.to_thread(recorder.entered.wait, WAIT), "the bulk job never started"
    # A second bulk job (another sync batch) already waits: without priority it could go next.
    other_bulk = loop.run_in_executor(None, encoder.embed_images, photos()[:2])
    await asyncio.to_thread(wait_for, lambda: encoder.waiting(Priority.BULK) == 1, "the second job waits")
    async with MicroBatcher(encoder, max_batch=4, max_wait_ms=0) as batcher:
        answer = asyncio.ensure_future(batcher.embed(query))
        await asyncio.to_thread(
            wait_for, lambda: encoder.waiting(Priority.INTERACTIVE) == 1, "the micro-batch waits"
        )
        recorder.gate.set()
        vector = await asyncio.wait_for(answer, WAIT)
    await asyncio.wait_for(asyncio.gather(bulk, other_bulk), WAIT)
    assert recorder.passes[:2] == [2, 1] and sorted(recorder.passes[2:]) == [2] * 6
    np.testing.assert_allclose(vector, expected, atol=1e-5)


def test_waiting_interactive_work_goes_first_whatever_the_arrival_order() -> None:
    lock = PriorityLock()
    order: list[str] = []

    def take(name: str, priority: Priority) -> threading.Thread:
        def run() -> None:
            with lock.hold(priority):
                order.append(name)

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    bulk_names = [f"bulk-{index}" for index in range(5)]
    with lock.hold(Priority.BULK):
        threads = [take(name, Priority.BULK) for name in bulk_names]
        wait_for(lambda: lock.waiting(Priority.BULK) == 5, "five bulk callers wait")
        threads.append(take("query", Priority.INTERACTIVE))
        wait_for(lambda: lock.waiting(Priority.INTERACTIVE) == 1, "the query waits")
    for thread in threads:
        thread.join(WAIT)
    assert order[0] == "query" and sorted(order[1:]) == bulk_names
    assert lock.waiting(Priority.BULK) == lock.waiting(Priority.INTERACTIVE) == 0


def test_bulk_passes_use_bulk_chunk_and_interactive_ones_batch_size(tiny_model_dir: Path) -> None:
    encoder, recorder = recorded_encoder(tiny_model_dir, batch_size=3, bulk_chunk=2)
    images = photos() + photos()[:2]  # 7 images
    bulk = encoder.embed_images(images)
    assert recorder.passes == [2, 2, 2, 1]
    recorder.passes.clear()
    interactive = encoder.embed_images(images, priority=Priority.INTERACTIVE)
    assert recorder.passes == [3, 3, 1]
    np.testing.assert_allclose(bulk, interactive, atol=1e-5)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [({}, 8), ({"batch_size": 4}, 4), ({"bulk_chunk": 16}, 16), ({"bulk_chunk": 64, "batch_size": 32}, 32)],
)
def test_bulk_chunk_defaults_to_8_on_the_cpu_and_never_exceeds_batch_size(
    tiny_model_dir: Path, settings: dict[str, int], expected: int
) -> None:
    encoder = Encoder.from_settings(ModelSettings(name=f"local-dir:{tiny_model_dir}", **settings))
    assert encoder.device == "cpu" and encoder.bulk_chunk == expected
