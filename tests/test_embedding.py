"""The encoder: loading through local-dir:, vectors, precision, ids, and one-line load errors."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from indexer.config import ImageSettings, ModelSettings
from indexer.embedding import Encoder, EncoderLoadError
from indexer.embedding.loading import find_weight_file
from indexer.embedding.policy import cpu_has_native_bf16, parse_cpu_flags, resolve_device, resolve_precision
from indexer.images import ImageDecoder
from indexer.model_download import WEIGHT_FILES
from tests.image_corpus import CORPUS_MAX_BYTES, CORPUS_MAX_PIXELS, good_cases, quadrant_image
from tests.tiny_model import TINY_DIMENSION, TINY_IMAGE_SIZE, build_tiny_model


def photos() -> list[Image.Image]:
    """A few distinct RGB images of different sizes and contents."""
    return [
        quadrant_image(64, 48),
        quadrant_image(30, 90).rotate(90, expand=True),
        Image.new("RGB", (50, 70), (200, 30, 60)),
        Image.new("RGB", (20, 20), (10, 120, 240)),
        Image.effect_mandelbrot((80, 60), (-2, -1.2, 1, 1.2), 50).convert("RGB"),
    ]


def load(folder: Path, **settings: object) -> Encoder:
    return Encoder.from_settings(ModelSettings(name=f"local-dir:{folder}", **settings))  # type: ignore[arg-type]


def load_error(name: str, **settings: object) -> str:
    with pytest.raises(EncoderLoadError) as caught:
        Encoder.from_settings(ModelSettings(name=name, **settings))  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message, "a load error is one line"
    return message


# --- loading and identity ------------------------------------------------------------------


def test_tiny_model_loads_through_local_dir(tiny_encoder: Encoder) -> None:
    assert tiny_encoder.dimension == TINY_DIMENSION
    assert tiny_encoder.image_size == TINY_IMAGE_SIZE
    assert tiny_encoder.device == "cpu"
    assert tiny_encoder.model_id.startswith("local-dir:tiny-clip@sha256-")
    assert not tiny_encoder.model_id.endswith(("/fp32", "/bf16", "/fp16"))
    assert "/squash-" in tiny_encoder.model_id  # the folder's preprocess_cfg, SigLIP-style


def test_model_id_follows_the_weights_not_the_folder(
    tiny_model_dir: Path, tiny_encoder: Encoder, tmp_path: Path
) -> None:
    copy = tmp_path / "elsewhere" / tiny_model_dir.name
    shutil.copytree(tiny_model_dir, copy)
    assert load(copy).model_id == tiny_encoder.model_id
    other_weights = build_tiny_model(tmp_path / "other" / tiny_model_dir.name, seed=1)
    changed = load(other_weights).model_id
    assert changed != tiny_encoder.model_id
    assert changed.split("@")[1].split("/")[1:] == tiny_encoder.model_id.split("@")[1].split("/")[1:]


def test_model_id_follows_the_preprocessing(
    tiny_model_dir: Path, tiny_encoder: Encoder, tmp_path: Path
) -> None:
    ids = {mode: load(tiny_model_dir, preprocess=mode).model_id for mode in ("longest", "shortest")}
    assert len({tiny_encoder.model_id, *ids.values()}) == 3
    # The same effective transform under another name is the same preprocessing.
    assert load(tiny_model_dir, preprocess="squash").model_id == tiny_encoder.model_id
    # A changed preprocess_cfg in the folder (same weights) changes the id too.
    folder = tmp_path / tiny_model_dir.name
    shutil.copytree(tiny_model_dir, folder)
    config = json.loads((folder / "open_clip_config.json").read_text())
    config["preprocess_cfg"]["mean"] = [0.48145466, 0.4578275, 0.40821073]
    (folder / "open_clip_config.json").write_text(json.dumps(config))
    assert load(folder).model_id != tiny_encoder.model_id


def test_every_float_precision_is_one_model(tiny_model_dir: Path) -> None:
    """fp32 and bf16 (and fp16 where the device runs it) vectors agree: one id, one index."""
    fp32, bf16 = load(tiny_model_dir, precision="fp32"), load(tiny_model_dir, precision="bf16")
    assert fp32.model_id == bf16.model_id
    reference = fp32.embed_images(photos())
    assert (np.sum(reference * bf16.embed_images(photos()), axis=1) >= 0.99).all()
    if torch.cuda.is_available():
        fp16 = load(tiny_model_dir, device="cuda", precision="fp16")
        assert fp16.model_id == fp32.model_id
        assert (np.sum(reference * fp16.embed_images(photos()), axis=1) >= 0.99).all()


def test_weight_file_choice_matches_open_clip(tmp_path: Path) -> None:
    from open_clip.factory import _find_checkpoint_in_dir

    cases = (
        WEIGHT_FILES[::-1],
        WEIGHT_FILES[3:],
        ("zeta.bin", "alpha.pth", "beta.safetensors"),
        ("x.bin", "a.bin"),
    )
    for index, present in enumerate(cases):
        folder = tmp_path / f"case{index}"
        folder.mkdir()
        for name in present:
            (folder / name).write_bytes(b"")
        assert find_weight_file(folder) == Path(_find_checkpoint_in_dir(folder))
    (tmp_path / "empty").mkdir()
    assert find_weight_file(tmp_path / "empty") is None


# --- one-line load errors --------------------------------------------------------------------


def test_missing_folder(tmp_path: Path) -> None:
    message = load_error(f"local-dir:{tmp_path / 'nope'}")
    assert "does not exist" in message and "open_clip_config.json" in message


def test_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    assert "is not a folder" in load_error(f"local-dir:{tmp_path / 'file'}")


def test_folder_without_config(tmp_path: Path) -> None:
    message = load_error(f"local-dir:{tmp_path}")
    assert "no open_clip_config.json" in message and 'model.name = "local-dir:' in message


@pytest.mark.parametrize("content", ["{not json", '{"preprocess_cfg": {}}', "[1, 2]"])
def test_unusable_config(tmp_path: Path, content: str) -> None:
    (tmp_path / "open_clip_config.json").write_text(content)
    assert "open_clip_config.json" in load_error(f"local-dir:{tmp_path}")


def test_folder_without_weights_is_refused_not_silently_untrained(tmp_path: Path) -> None:
    folder = build_tiny_model(tmp_path / "m", weights=False)
    message = load_error(f"local-dir:{folder}")
    assert "no weight file" in message and "untrained" in message


@pytest.mark.parametrize("content", [b"", b"garbage" * 100])
def test_corrupt_weight_file(tmp_path: Path, content: bytes) -> None:
    folder = build_tiny_model(tmp_path / "m", weights=False)
    (folder / "open_clip_model.safetensors").write_bytes(content)
    message = load_error(f"local-dir:{folder}")
    assert "open_clip_model.safetensors" in message and "could not be loaded" in message


def test_weights_of_another_architecture(tmp_path: Path, tiny_model_dir: Path) -> None:
    folder = build_tiny_model(tmp_path / "m", weights=False)
    config = json.loads((folder / "open_clip_config.json").read_text())
    config["model_cfg"]["embed_dim"] = 48
    (folder / "open_clip_config.json").write_text(json.dumps(config))
    shutil.copy(tiny_model_dir / "open_clip_model.safetensors", folder)
    assert "could not be loaded" in load_error(f"local-dir:{folder}")


def test_weights_that_produce_nan(tmp_path: Path, tiny_model_dir: Path) -> None:
    from safetensors.torch import load_file, save_file

    folder = tmp_path / "nan"
    shutil.copytree(tiny_model_dir, folder)
    state = load_file(str(folder / "open_clip_model.safetensors"))
    state["visual.proj"] = torch.full_like(state["visual.proj"], float("nan"))
    save_file(state, str(folder / "open_clip_model.safetensors"))
    assert "non-finite" in load_error(f"local-dir:{folder}")


def test_unknown_builtin_name() -> None:
    message = load_error("ViT-Nonexistent-99")
    assert "not an open_clip model" in message and "local-dir:" in message


def test_builtin_without_weights_is_refused() -> None:
    message = load_error("ViT-B-32")
    assert "needs model.pretrained" in message and "laion2b_s34b_b79k" in message


def test_builtin_with_unknown_tag() -> None:
    assert "neither a weights tag" in load_error("ViT-B-32", pretrained="no-such-tag")


def test_hf_hub_offline_gives_the_local_dir_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    message = load_error("hf-hub:Marqo/marqo-fashionSigLIP", cache_dir=str(tmp_path / "hf-cache"))
    assert "HF_HUB_OFFLINE is set and Marqo/marqo-fashionSigLIP is not in the Hugging Face cache" in message
    assert 'model.name = "local-dir:/path/to/that/folder"' in message
    assert "open_clip_model.safetensors" in message


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_requested_without_cuda(tiny_model_dir: Path) -> None:
    assert "CUDA is not available" in load_error(f"local-dir:{tiny_model_dir}", device="cuda")


# --- device and precision policy ---------------------------------------------------------------


def test_cpu_flags_are_read_from_cpuinfo() -> None:
    cpuinfo = (
        "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16\n\n"
        "processor\t: 1\nflags\t: fpu amx_bf16\n"
    )
    flags = parse_cpu_flags(cpuinfo)
    assert {"avx2", "avx512_bf16", "amx_bf16"} <= flags
    assert cpu_has_native_bf16(flags)
    assert cpu_has_native_bf16(parse_cpu_flags("flags : avx512f amx_bf16"))
    assert not cpu_has_native_bf16(parse_cpu_flags("flags : fpu avx2 avx512f avx512bw"))


@pytest.mark.parametrize(
    ("requested", "device", "cpu_bf16", "cuda_bf16", "expected"),
    [
        ("auto", "cpu", False, False, "fp32"),
        ("auto", "cpu", True, False, "bf16"),
        ("auto", "cuda", False, True, "bf16"),
        ("auto", "cuda", False, False, "fp16"),
        ("auto", "mps", True, True, "fp32"),
        ("fp32", "cpu", True, True, "fp32"),
        ("bf16", "cpu", False, False, "bf16"),
        ("fp16", "cuda", False, True, "fp16"),
    ],
)
def test_precision_policy(
    requested: str, device: str, cpu_bf16: bool, cuda_bf16: bool, expected: str
) -> None:
    precision, reason = resolve_precision(
        requested, torch.device(device), cpu_bf16=cpu_bf16, cuda_bf16=cuda_bf16
    )
    assert precision == expected and reason


def test_auto_precision_on_this_machine_follows_its_cpu_flags(tiny_encoder: Encoder) -> None:
    if tiny_encoder.device == "cpu":
        assert tiny_encoder.precision == ("bf16" if cpu_has_native_bf16() else "fp32")


def test_auto_device() -> None:
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu").type == "cpu"


def test_threads_setting_applies(tiny_model_dir: Path) -> None:
    before = torch.get_num_threads()
    try:
        load(tiny_model_dir, threads=1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


# --- vectors ---------------------------------------------------------------------------------


def test_vectors_are_unit_float32_and_deterministic(tiny_encoder: Encoder) -> None:
    first = tiny_encoder.embed_images(photos())
    assert first.shape == (5, TINY_DIMENSION) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(tiny_encoder.embed_images(photos()), first)
    similarity = first @ first.T
    assert (similarity[~np.eye(5, dtype=bool)] < 0.9999).all(), "different images must differ"


def test_batching_does_not_change_vectors(tiny_model_dir: Path, tiny_encoder: Encoder) -> None:
    together = tiny_encoder.embed_images(photos())
    one_by_one = np.stack([tiny_encoder.embed_image(image) for image in photos()])
    in_pairs = load(tiny_model_dir, batch_size=2).embed_images(photos())
    np.testing.assert_allclose(one_by_one, together, atol=1e-5)
    np.testing.assert_allclose(in_pairs, together, atol=1e-5)


def test_concurrent_threads_get_the_same_vectors(tiny_encoder: Encoder) -> None:
    expected = tiny_encoder.embed_images(photos())
    results: dict[int, np.ndarray] = {}

    def work(index: int) -> None:
        results[index] = tiny_encoder.embed_images(photos())

    threads = [threading.Thread(target=work, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 1, 2, 3]
    for vectors in results.values():
        np.testing.assert_allclose(vectors, expected, atol=1e-5)


def test_empty_input(tiny_encoder: Encoder) -> None:
    assert tiny_encoder.embed_images([]).shape == (0, TINY_DIMENSION)
    assert tiny_encoder.embed_texts([]).shape == (0, TINY_DIMENSION)


def test_images_must_be_decoded_rgb(tiny_encoder: Encoder) -> None:
    with pytest.raises(ValueError, match="RGBA"):
        tiny_encoder.embed_images([quadrant_image(8, 8), Image.new("RGBA", (8, 8))])
    with pytest.raises(TypeError):
        tiny_encoder.embed_images([b"bytes"])  # type: ignore[list-item]


def test_text_vectors(tiny_encoder: Encoder) -> None:
    vectors = tiny_encoder.embed_texts(["a red shirt", "blue denim jeans", "white sneakers"])
    assert vectors.shape == (3, TINY_DIMENSION) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Alone or in a batch: equal up to float rounding (a batched matmul may sum in another order).
    np.testing.assert_allclose(tiny_encoder.embed_texts(["a red shirt"])[0], vectors[0], rtol=0, atol=1e-6)
    assert vectors[0] @ vectors[1] < 0.9999
    with pytest.raises(TypeError):
        tiny_encoder.embed_texts([42])  # type: ignore[list-item]


def test_bf16_agrees_with_fp32_on_the_same_weights(tiny_model_dir: Path, tiny_encoder: Encoder) -> None:
    fp32 = load(tiny_model_dir, precision="fp32")
    bf16 = load(tiny_model_dir, precision="bf16")
    assert bf16.precision == "bf16"
    a, b = fp32.embed_images(photos()), bf16.embed_images(photos())
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)  # re-normalised in fp32
    assert (np.sum(a * b, axis=1) >= 0.99).all()
    assert not np.array_equal(a, b), "bf16 must actually run in bf16"


def test_longest_mode_letterboxes_on_white(tiny_model_dir: Path) -> None:
    tall_red = Image.new("RGB", (10, 40), (255, 0, 0))
    pixels = load(tiny_model_dir, preprocess="longest").preprocess_image(tall_red)
    # mean = std = 0.5: white normalises to 1.0, red to (1, -1, -1).
    assert torch.allclose(pixels[:, :, 0], torch.ones(3, TINY_IMAGE_SIZE))
    assert torch.allclose(pixels[:, 16, 16], torch.tensor([1.0, -1.0, -1.0]), atol=0.05)
    cropped = load(tiny_model_dir, preprocess="shortest").preprocess_image(tall_red)
    assert torch.allclose(
        cropped[:, :, 0], torch.tensor([1.0, -1.0, -1.0]).unsqueeze(1).expand(3, 32), atol=0.05
    )


def test_every_decodable_corpus_image_embeds(tiny_encoder: Encoder) -> None:
    decoder = ImageDecoder(
        ImageSettings(max_bytes=CORPUS_MAX_BYTES, max_pixels=CORPUS_MAX_PIXELS), tiny_encoder.image_size
    )
    vectors = tiny_encoder.embed_images([decoder.decode(item.data) for item in good_cases()])
    assert vectors.shape == (len(good_cases()), TINY_DIMENSION)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
