"""The ONNX Runtime engine behind the same Encoder interface: parity with PyTorch fp32, ids, errors.

Skipped where the optional ONNX packages are missing (they are in the ``test`` extra, so CI
runs these).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.config import ModelSettings
from indexer.embedding import Encoder, EncoderLoadError, MicroBatcher
from tests.test_embedding import photos

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")


def load(folder: Path, **settings: object) -> Encoder:
    return Encoder.from_settings(ModelSettings(name=f"local-dir:{folder}", **settings))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def onnx_encoder(tiny_model_dir: Path) -> Encoder:
    return load(tiny_model_dir, engine="onnx")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def test_onnx_fp32_gives_the_torch_vectors_and_keeps_the_model_id(
    tiny_encoder: Encoder, onnx_encoder: Encoder
) -> None:
    assert onnx_encoder.engine == "onnx" and tiny_encoder.engine == "torch"
    expected, actual = tiny_encoder.embed_images(photos()), onnx_encoder.embed_images(photos())
    assert actual.shape == expected.shape and actual.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(actual, axis=1), 1.0, atol=1e-5)
    assert (cosines(actual, expected) >= 0.99).all()
    np.testing.assert_allclose(actual, expected, atol=1e-4)  # same weights, same maths
    assert onnx_encoder.model_id == tiny_encoder.model_id
    assert onnx_encoder.dimension == tiny_encoder.dimension


def test_onnx_batches_of_any_size(onnx_encoder: Encoder, tiny_model_dir: Path) -> None:
    together = onnx_encoder.embed_images(photos())
    one_by_one = np.stack([onnx_encoder.embed_image(image) for image in photos()])
    np.testing.assert_allclose(one_by_one, together, atol=1e-5)


async def test_onnx_serves_the_micro_batcher(onnx_encoder: Encoder, tiny_encoder: Encoder) -> None:
    images = photos()
    async with MicroBatcher(onnx_encoder, max_batch=4, max_wait_ms=50) as batcher:
        vectors = await asyncio.wait_for(asyncio.gather(*(batcher.embed(image) for image in images)), 30)
    np.testing.assert_allclose(np.stack(vectors), tiny_encoder.embed_images(images), atol=1e-4)


def test_int8_stays_close_to_fp32_but_gets_its_own_model_id(
    tiny_model_dir: Path, tiny_encoder: Encoder
) -> None:
    int8 = load(tiny_model_dir, engine="onnx", quantize="int8")
    assert int8.quantize == "int8" and int8.precision == "fp32"
    assert int8.model_id == tiny_encoder.model_id + "/int8"
    fp32, quantized = tiny_encoder.embed_images(photos()), int8.embed_images(photos())
    np.testing.assert_allclose(np.linalg.norm(quantized, axis=1), 1.0, atol=1e-5)
    assert (cosines(quantized, fp32) >= 0.99).all()
    assert not np.allclose(quantized, fp32, atol=1e-4), "int8 must actually quantize"


def test_invalid_engine_combinations_are_one_line_errors(tiny_model_dir: Path) -> None:
    with pytest.raises(EncoderLoadError, match=r"model\.quantize = 'int8' needs model\.engine = 'onnx'"):
        load(tiny_model_dir, quantize="int8")
    with pytest.raises(
        EncoderLoadError, match=r"runs in fp32 on the CPU, but the encoder resolved to cpu/bf16"
    ):
        load(tiny_model_dir, engine="onnx", precision="bf16")


def test_auto_precision_means_fp32_for_onnx_even_with_native_bf16(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import indexer.embedding.policy as policy

    monkeypatch.setattr(policy, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert load(tiny_model_dir).precision == "bf16"  # the torch engine takes the native bf16
    onnx = load(tiny_model_dir, engine="onnx")  # auto: no error, fp32 (all ONNX Runtime runs here)
    assert onnx.precision == "fp32" and onnx.model_id == load(tiny_model_dir).model_id


def test_missing_onnxruntime_says_how_to_install_it(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(
        EncoderLoadError, match=r"needs onnxruntime: install .* pip install 'snapfit\[onnx\]'"
    ):
        load(tiny_model_dir, engine="onnx")
