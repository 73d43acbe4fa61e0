"""The real loading path: a tiny random SegFormer saved with save_pretrained, loaded as users load theirs."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file, save_file

from indexer.clothes_parser import (
    GarmentLoadError,
    GarmentParser,
    LabelPlan,
    LazyGarmentParser,
    find_garments,
)
from indexer.clothes_parser.segformer import LABEL_MAP_SIDE, load_segmenter
from indexer.config import GarmentSettings, ModelSettings
from tests.tiny_segformer import CLOTHES_LABELS, TINY_INPUT_SIZE, build_tiny_segformer

OUTFIT = Image.new("RGB", (120, 200), (230, 230, 230))
OUTFIT.paste((200, 30, 30), (20, 20, 100, 100))
OUTFIT.paste((30, 30, 200), (30, 100, 90, 180))
OUTFIT.paste((20, 20, 20), (25, 180, 95, 195))


def load(folder: Path | str, **garments: object) -> GarmentParser:
    # fp32 explicitly: `auto` is bf16 on CPUs with native bf16, and the label maps below are compared
    # with an fp32 reference (auto's choice is tested on its own).
    settings = GarmentSettings(model=str(folder), **garments)
    return GarmentParser.from_settings(settings, ModelSettings(precision="fp32"))


def test_the_model_folder_loads_through_the_auto_classes(tiny_segformer_dir: Path) -> None:
    assert sorted(p.name for p in tiny_segformer_dir.iterdir()) == [
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
    ]
    parser = load(tiny_segformer_dir)
    segmenter = parser.segmenter
    assert dict(segmenter.id2label) == dict(enumerate(CLOTHES_LABELS))
    assert parser.input_size == TINY_INPUT_SIZE
    assert segmenter.device == "cpu" and segmenter.precision == "fp32"
    assert parser.plan.garments["shoes"] == (9, 10)
    # segment() is the model's own answer: processor → model → logits upsampled → argmax.
    from transformers import AutoImageProcessor, AutoModelForSemanticSegmentation

    processor = AutoImageProcessor.from_pretrained(str(tiny_segformer_dir))
    model = AutoModelForSemanticSegmentation.from_pretrained(str(tiny_segformer_dir)).eval()
    with torch.inference_mode():
        logits = model(**processor(images=OUTFIT, return_tensors="pt")).logits
        expected = F.interpolate(logits, size=(200, 120), mode="bilinear", align_corners=False).argmax(1)[0]
    labels = segmenter.segment(OUTFIT)
    assert labels.shape == (200, 120) and labels.dtype == np.uint8
    assert np.array_equal(labels, expected.numpy())
    # parse() is find_garments() on that map with [garments]'s rules; the favoured labels show up.
    garments = parser.parse(OUTFIT)
    assert [g.label for g in garments] == [
        g.label for g in find_garments(OUTFIT, labels, parser.plan, min_area=0.02, padding=0.1)
    ]
    assert len(garments) >= 2
    assert {g.label for g in garments} <= {"upper-clothes", "pants", "shoes"}


def test_labels_come_from_the_models_config_not_from_fixed_ids(tmp_path: Path) -> None:
    """A model whose ids are in another order: the garments follow its config.json."""
    shuffled = ("Background", "Pants", "Face", "Left-shoe", "Upper-clothes", "Right-shoe", "Hair")
    folder = build_tiny_segformer(tmp_path / "shuffled", labels=shuffled, favour=("Pants", "Upper-clothes"))
    parser = load(folder)
    assert parser.plan.garments == {"pants": (1,), "upper-clothes": (4,), "shoes": (3, 5)}
    labels = parser.segmenter.segment(OUTFIT)
    for garment in parser.parse(OUTFIT):
        ids = parser.plan.garments[garment.label]
        assert np.isin(labels, ids).mean() == pytest.approx(garment.area)


def test_large_photos_are_labelled_on_a_bounded_map(tiny_segformer_dir: Path) -> None:
    parser = load(tiny_segformer_dir, min_area=0.0)
    big = OUTFIT.resize((1200, 2000), Image.Resampling.NEAREST)
    labels = parser.segmenter.segment(big)
    assert labels.shape == (LABEL_MAP_SIDE, round(1200 * LABEL_MAP_SIDE / 2000))
    for garment in parser.parse(big):
        left, top, right, bottom = garment.box
        assert 0 <= left < right <= 1200 and 0 <= top < bottom <= 2000


def test_bf16_follows_the_encoders_precision_setting_where_it_is_native(
    tiny_segformer_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import indexer.clothes_parser.segformer as segformer

    settings = GarmentSettings(model=str(tiny_segformer_dir))
    monkeypatch.setattr(segformer, "cpu_has_native_bf16", lambda: True)
    parser = GarmentParser.from_settings(settings, ModelSettings(precision="bf16"))
    assert parser.segmenter.precision == "bf16"
    assert parser.segmenter.model.decode_head.classifier.weight.dtype == torch.bfloat16
    labels = parser.segmenter.segment(OUTFIT)
    assert labels.shape == (200, 120) and int(labels.max()) < len(CLOTHES_LABELS)
    # Emulated bf16 would make each photo take minutes with the real model: fp32 instead, said once.
    monkeypatch.setattr(segformer, "cpu_has_native_bf16", lambda: False)
    with caplog.at_level(logging.WARNING, logger="indexer.clothes_parser"):
        parser = GarmentParser.from_settings(settings, ModelSettings(precision="bf16"))
    assert parser.segmenter.precision == "fp32"
    assert parser.segmenter.model.decode_head.classifier.weight.dtype == torch.float32
    assert "the garment parser runs in fp32: bf16 is emulated on this CPU" in caplog.text
    import indexer.embedding.policy as policy

    # auto follows the encoder's rule, whatever this CPU is.
    for native, expected in ((False, "fp32"), (True, "bf16")):
        monkeypatch.setattr(policy, "cpu_has_native_bf16", lambda native=native: native)
        monkeypatch.setattr(segformer, "cpu_has_native_bf16", lambda native=native: native)
        auto = GarmentParser.from_settings(settings, ModelSettings(precision="auto"))
        assert auto.segmenter.precision == expected


def test_a_missing_or_incomplete_folder_says_how_to_fix_it(tiny_segformer_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(GarmentLoadError, match=r"does not exist.*hf download mattmdjaga/segformer_b2"):
        load(tmp_path / "nowhere")
    for missing in ("model.safetensors", "preprocessor_config.json", "config.json"):
        folder = tmp_path / f"without-{missing}"
        shutil.copytree(tiny_segformer_dir, folder)
        (folder / missing).unlink()
        with pytest.raises(GarmentLoadError, match=f"lacks .*{missing}") as caught:
            load(folder)
        assert "\n" not in str(caught.value)
    a_file = tmp_path / "model.bin"
    a_file.write_bytes(b"x")
    with pytest.raises(GarmentLoadError, match="is a file, not a model folder"):
        load(a_file)


def test_a_hub_id_that_is_not_cached_fails_offline_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import huggingface_hub.constants

    # huggingface_hub read HF_HUB_OFFLINE when it was first imported, maybe before this test's env.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(GarmentLoadError) as caught:
        GarmentParser.from_settings(
            GarmentSettings(model="mattmdjaga/segformer_b2_clothes"),
            ModelSettings(cache_dir=str(tmp_path / "hf-cache")),
        )
    message = str(caught.value)
    assert message.startswith("cannot load the garment parser 'mattmdjaga/segformer_b2_clothes'")
    assert '[garments] model = "models/segformer_b2_clothes"' in message and "\n" not in message


def test_weights_that_do_not_cover_the_model_are_refused(tiny_segformer_dir: Path, tmp_path: Path) -> None:
    """transformers would fill missing tensors with random numbers and only log it."""
    folder = tmp_path / "headless"
    shutil.copytree(tiny_segformer_dir, folder)
    tensors = load_file(folder / "model.safetensors")
    save_file(
        {k: v for k, v in tensors.items() if not k.startswith("decode_head.classifier")},
        folder / "model.safetensors",
        metadata={"format": "pt"},
    )
    with pytest.raises(GarmentLoadError, match="random numbers"):
        load(folder)


def test_a_model_without_label_names_or_garment_labels_is_refused(
    tiny_segformer_dir: Path, tmp_path: Path
) -> None:
    unnamed = tmp_path / "unnamed"
    shutil.copytree(tiny_segformer_dir, unnamed)
    config = json.loads((unnamed / "config.json").read_text())
    config["id2label"] = {str(i): f"LABEL_{i}" for i in range(len(CLOTHES_LABELS))}
    config["label2id"] = {f"LABEL_{i}": i for i in range(len(CLOTHES_LABELS))}
    (unnamed / "config.json").write_text(json.dumps(config))
    with pytest.raises(GarmentLoadError, match="no label names"):
        load(unnamed)
    with pytest.raises(GarmentLoadError, match=r"has an entry in \[garments.categories\]"):
        load(tiny_segformer_dir, categories={"coat": ["002"]})


def test_a_missing_device_is_a_load_error(tiny_segformer_dir: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(GarmentLoadError, match="CUDA is not available"):
        load_segmenter(str(tiny_segformer_dir), device="cuda")


def test_lazy_parser_loads_once_from_many_threads(tiny_segformer_dir: Path) -> None:
    settings = GarmentSettings(model=str(tiny_segformer_dir))
    calls = []

    def loader() -> GarmentParser:
        calls.append(1)
        return GarmentParser.from_settings(settings, ModelSettings())

    lazy = LazyGarmentParser(settings, loader=loader)
    assert lazy.state == "not_loaded"
    got: list[GarmentParser | None] = []
    threads = [threading.Thread(target=lambda: got.append(lazy.get())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(calls) == 1 and len(got) == 4
    assert got[0] is not None and all(parser is got[0] for parser in got)
    assert lazy.state == "ready" and lazy.error is None


def test_lazy_parser_logs_a_failure_once_and_never_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = GarmentSettings(model=str(tmp_path / "missing"))
    lazy = LazyGarmentParser(settings, ModelSettings())
    with caplog.at_level(logging.WARNING, logger="indexer.clothes_parser"):
        assert lazy.get() is None
        assert lazy.get() is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("garment parser unavailable, photos are searched whole: ")
    assert '[garments] model = "models/segformer_b2_clothes"' in warnings[0]
    assert lazy.state == "unavailable" and "does not exist" in (lazy.error or "")
    # Any other failure of a loader counts the same (and names the model).
    broken = LazyGarmentParser(settings, loader=lambda: 1 / 0)  # type: ignore[arg-type,return-value]
    assert broken.get() is None and "ZeroDivisionError" in (broken.error or "")


def test_a_disabled_parser_is_never_loaded() -> None:
    lazy = LazyGarmentParser(GarmentSettings(enabled=False), loader=lambda: pytest.fail("loaded"))
    assert lazy.get() is None and lazy.state == "disabled"


def test_parse_refuses_what_is_not_an_rgb_image(tiny_segformer_dir: Path) -> None:
    parser = load(tiny_segformer_dir)
    with pytest.raises(TypeError, match="RGB"):
        parser.parse(OUTFIT.convert("L"))
    with pytest.raises(TypeError, match="RGB"):
        parser.parse(np.zeros((4, 4, 3)))  # type: ignore[arg-type]


def test_label_plan_accepts_any_spelling() -> None:
    plan = LabelPlan.build(
        {0: "BACKGROUND", 1: "Upper_Clothes", 2: "left shoe", 3: "Right-Shoe"},
        {"upper-clothes": ["001"], "Shoes": ["103"]},
        {"shoes": ["Left_Shoe", "RIGHT SHOE"]},
    )
    assert plan.garments == {"upper-clothes": (1,), "shoes": (2, 3)}
    assert plan.describe() == "upper-clothes=1 shoes=2+3"
