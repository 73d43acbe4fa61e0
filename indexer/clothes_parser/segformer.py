"""The clothes-parsing model: a transformers semantic-segmentation model and its image processor.

``[garments] model`` is a Hugging Face id (downloaded once into the Hugging Face cache) or a
local folder holding ``config.json``, ``model.safetensors`` and ``preprocessor_config.json``, for
servers without internet. Both go through ``AutoImageProcessor`` + ``AutoModelForSemanticSegmentation``
exactly as transformers loads them, and every failure becomes one ``GarmentLoadError`` line that
says how to point ``[garments].model`` at a local folder. A model whose weights do not cover it
(transformers would fill the gaps with random numbers) is refused.

Device and precision follow ``[model]``, through the encoder's policy
(``indexer.embedding.policy``): bf16 only where it is native, matmul/conv weights cast, the rest
under ``torch.autocast``. One exception: a reduced precision set explicitly on a CPU that only
emulates it runs the parser in fp32 (logged): SegFormer's convolutions have no fast emulated-bf16
kernel.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from indexer.clothes_parser.errors import GarmentLoadError, offline_hint
from indexer.embedding.errors import EncoderLoadError
from indexer.embedding.policy import (
    autocast,
    cpu_has_native_bf16,
    prepare_model,
    resolve_device,
    resolve_precision,
)
from indexer.hub import HubUnreachableError, cached_file, first_cached, hub_access

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
PROCESSOR_FILE = "preprocessor_config.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
LABEL_MAP_SIDE = 768  # the label map's longer side: boxes to within 1/768 of the photo


class SegformerSegmenter:
    """Labels every pixel of a photo with the model's ``id2label`` classes. Thread-safe."""

    def __init__(
        self,
        model: torch.nn.Module,
        processor: Any,
        *,
        name: str,
        device: str = "auto",
        precision: str = "auto",
        emulated_ok: bool = False,
    ) -> None:
        try:
            self._device = resolve_device(device)
            self._precision, reason = resolve_precision(precision, self._device)
        except EncoderLoadError as exc:
            raise GarmentLoadError(str(exc)) from None
        emulated = self._device.type == "cpu" and not (self._precision == "bf16" and cpu_has_native_bf16())
        if self._precision != "fp32" and emulated and not emulated_ok:
            log.warning(
                "the garment parser runs in fp32: %s is emulated on this CPU, where its convolutions "
                "take about 60 times as long as in fp32",
                self._precision,
            )
            self._precision, reason = "fp32", f"{self._precision} is emulated on this CPU"
        self._model = prepare_model(model, self._device, self._precision)
        self._processor = processor
        self._name = name
        self._lock = threading.Lock()
        config = model.config
        self._id2label = {int(key): str(value) for key, value in config.id2label.items()}
        self._input_size = _input_size(processor)
        log.info(
            "garment parser ready: %s, %d labels, %d px input, device %s, precision %s (%s)",
            name,
            len(self._id2label),
            self._input_size,
            self._device,
            self._precision,
            reason,
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def model(self) -> torch.nn.Module:
        return self._model

    @property
    def id2label(self) -> Mapping[int, str]:
        return self._id2label

    @property
    def input_size(self) -> int:
        """The model's input side in pixels (photos are decoded for it at twice that)."""
        return self._input_size

    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def precision(self) -> str:
        return self._precision

    def segment(self, image: Image.Image) -> np.ndarray:
        """An (h, w) uint8 map of label ids over ``image``, its longer side at most ``LABEL_MAP_SIDE``."""
        pixels = self._processor(images=image, return_tensors="pt")["pixel_values"]
        scale = min(1.0, LABEL_MAP_SIDE / max(image.size))
        size = (max(1, round(image.height * scale)), max(1, round(image.width * scale)))
        with torch.inference_mode():
            with self._lock, autocast(self._device, self._precision):
                logits = self._model(pixel_values=pixels.to(self._device)).logits
            upsampled = F.interpolate(logits.float(), size=size, mode="bilinear", align_corners=False)
            return upsampled.argmax(dim=1)[0].to(torch.uint8).cpu().numpy()


def load_segmenter(
    source: str, *, device: str = "auto", precision: str = "auto", cache_dir: str | None = None
) -> SegformerSegmenter:
    """Load ``source`` (a Hugging Face id or a local folder) or raise ``GarmentLoadError`` (one line)."""
    from transformers import AutoImageProcessor, AutoModelForSemanticSegmentation
    from transformers.utils import logging as transformers_logging

    try:
        resolve_device(device)  # fail before a slow load when the device does not exist
    except EncoderLoadError as exc:
        raise GarmentLoadError(str(exc)) from None
    location = _local_folder(source)
    # A cached model loads from its snapshot folder, like a local one: no request to the Hub at all.
    folder = location or _cached_snapshot(source, cache_dir)
    transformers_logging.disable_progress_bar()
    try:
        processor = AutoImageProcessor.from_pretrained(str(folder or source), cache_dir=cache_dir)
        model, info = AutoModelForSemanticSegmentation.from_pretrained(
            str(folder or source), cache_dir=cache_dir, output_loading_info=True
        )
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise GarmentLoadError(
            f"cannot load the garment parser {source!r}: {_first_line(exc)}; {offline_hint(source)}"
        ) from None
    missing = sorted(info.get("missing_keys") or ())
    if missing:
        raise GarmentLoadError(
            f"the garment parser {source!r} has no weights for {len(missing)} of its tensors "
            f"(e.g. {missing[0]}): it would run on random numbers; {offline_hint(source)}"
        )
    labels = [str(name) for name in model.config.id2label.values()]
    if all(name.startswith("LABEL_") for name in labels):
        raise GarmentLoadError(
            f"the garment parser {source!r} has no label names (only {labels[0]}…): "
            "its config.json needs id2label"
        )
    name = location.name if location is not None else source
    return SegformerSegmenter(model, processor, name=name, device=device, precision=precision)


def _cached_snapshot(repo: str, cache_dir: str | None) -> Path | None:
    """The cached snapshot folder of ``repo`` when it holds every file the parser needs; else None
    when the Hub answers (transformers downloads), or ``GarmentLoadError`` within seconds."""
    config = cached_file(repo, CONFIG_FILE, cache_dir)
    weights = first_cached(repo, WEIGHT_FILES, cache_dir)
    processor = cached_file(repo, PROCESSOR_FILE, cache_dir)
    cached = config is not None and weights is not None and processor is not None
    try:
        source = hub_access(repo, cached=cached)
    except HubUnreachableError as exc:
        hint = offline_hint(repo)
        raise GarmentLoadError(f"cannot load the garment parser {repo!r}: {exc}; {hint}") from None
    return config.parent if source == "cache" and config is not None else None


def _local_folder(source: str) -> Path | None:
    """The folder ``source`` names, checked for the files transformers needs; None for a hub id."""
    path = Path(source).expanduser()
    looks_like_path = source.startswith(("/", ".", "~")) or "\\" in source or source.count("/") > 1
    if not path.exists():
        if looks_like_path:
            raise GarmentLoadError(f"garment parser folder {source!r} does not exist; {offline_hint(source)}")
        return None
    if not path.is_dir():
        raise GarmentLoadError(
            f"[garments] model {source!r} is a file, not a model folder; {offline_hint(source)}"
        )
    missing = [name for name in (CONFIG_FILE, PROCESSOR_FILE) if not (path / name).is_file()]
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        missing.append(" or ".join(WEIGHT_FILES))
    if missing:
        raise GarmentLoadError(
            f"garment parser folder {source!r} lacks {', '.join(missing)}; {offline_hint(source)}"
        )
    return path


def _input_size(processor: Any) -> int:
    size = getattr(processor, "size", None) or {}
    if isinstance(size, int):
        return size
    if not isinstance(size, Mapping):
        size = {key: getattr(size, key, None) for key in ("height", "width", "shortest_edge")}
    values = [int(value) for value in size.values() if isinstance(value, int | float) and value]
    return max(values) if values else 512


def _first_line(error: BaseException) -> str:
    """The first sentence of a transformers error (they go on for a paragraph)."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0].split(". ")[0].rstrip(".")
