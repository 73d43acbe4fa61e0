"""The image (and text) encoder: one loaded model, one preprocessing, L2-normalised float32 vectors.

Index and query both call this class, so they share the transform and the precision. The
forward pass is serialised by a priority lock (torch already uses every core for one pass):
interactive work (``embed_pixels``, the micro-batcher's path, and ``embed_image``) goes
before the next chunk of bulk work (``embed_images``, which the nightly sync and
``snapfit eval`` call in small chunks). Preprocessing runs outside the lock so that other
threads can prepare the next batch. The forward pass itself runs on an engine
(``[model] engine``: PyTorch or ONNX Runtime, see ``indexer.embedding.engines``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import open_clip
import torch
import torch.nn.functional as F
from open_clip.transform import PreprocessCfg, image_transform_v2
from PIL import Image

from indexer.config import ModelSettings
from indexer.embedding.engines import ENGINES, QUANTIZE_MODES, ImageEngine, OnnxEngine, TorchEngine
from indexer.embedding.errors import EncoderError, EncoderLoadError
from indexer.embedding.loading import LoadedModel, load_model, quiet_open_clip_info
from indexer.embedding.policy import autocast, prepare_model, resolve_device, resolve_precision
from indexer.embedding.priority import Priority, PriorityLock
from indexer.images import DECODE_VERSION

log = logging.getLogger(__name__)

PREPROCESS_MODES = ("model", "squash", "shortest", "longest")
WHITE = 255
# Images per bulk forward pass on the CPU when [model] bulk_chunk = 0: it bounds how long a bot
# query waits behind the nightly sync, and is no slower per image than larger batches.
CPU_BULK_CHUNK = 8


class Encoder:
    """Turns RGB images (and texts) into unit-length float32 vectors of ``dimension`` floats.

    Build it with :meth:`from_settings`; the constructor takes an already loaded model (the
    benchmark uses that to time a randomly initialised architecture) and owns it from then on:
    reduced precision casts its weights in place.
    """

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        device: str = "auto",
        precision: str = "auto",
        batch_size: int = 32,
        preprocess: str = "model",
        threads: int = 0,
        engine: str = "torch",
        quantize: str = "none",
        bulk_chunk: int = 0,
    ) -> None:
        if preprocess not in PREPROCESS_MODES:
            raise EncoderLoadError(
                f"model.preprocess must be one of {', '.join(PREPROCESS_MODES)}, got {preprocess!r}"
            )
        if batch_size < 1:
            raise EncoderLoadError(f"model.batch_size must be at least 1, got {batch_size}")
        if engine not in ENGINES:
            raise EncoderLoadError(f"model.engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        if quantize not in QUANTIZE_MODES:
            raise EncoderLoadError(
                f"model.quantize must be one of {', '.join(QUANTIZE_MODES)}, got {quantize!r}"
            )
        if quantize != "none" and engine != "onnx":
            raise EncoderLoadError("model.quantize = 'int8' needs model.engine = 'onnx'")
        if bulk_chunk < 0:
            raise EncoderLoadError(f"model.bulk_chunk must be 0 (auto) or more, got {bulk_chunk}")
        if threads > 0:
            torch.set_num_threads(threads)
        self._device = resolve_device(device)
        if engine == "onnx" and precision == "auto" and self._device.type == "cpu":
            # ONNX Runtime runs fp32 only: `auto` means fp32 there, even on a CPU with native bf16.
            self._precision, reason = "fp32", "auto: engine 'onnx' runs in fp32"
        else:
            self._precision, reason = resolve_precision(precision, self._device)
        if engine == "onnx" and (self._device.type != "cpu" or self._precision != "fp32"):
            raise EncoderLoadError(
                f"model.engine = 'onnx' runs in fp32 on the CPU, but the encoder resolved to "
                f"{self._device.type}/{self._precision}; use engine = 'torch' there (or device = 'cpu', "
                "precision = 'fp32')"
            )
        self._batch_size = batch_size
        auto_chunk = CPU_BULK_CHUNK if self._device.type == "cpu" else batch_size
        self._bulk_chunk = min(batch_size, bulk_chunk or auto_chunk)
        self._preprocess = preprocess
        self._loaded = loaded
        model = prepare_model(loaded.model, self._device, self._precision)
        self._model = model
        self._preprocess_cfg = _effective_preprocess_cfg(loaded.preprocess_cfg, preprocess)
        self._transform = image_transform_v2(PreprocessCfg(**self._preprocess_cfg), is_train=False)
        self._engine: ImageEngine = (
            OnnxEngine(model.visual, self.image_size, quantize=quantize, threads=torch.get_num_threads())
            if engine == "onnx"
            else TorchEngine(model, self._device, self._precision)
        )
        self._quantize = quantize
        self._lock = PriorityLock()
        self._tokenizer: Any = None
        self._tokenizer_lock = threading.Lock()
        self._dimension = self._check_outputs(loaded)
        # fp32, bf16 and fp16 vectors of the same weights agree (cosine >= 0.99): one index serves
        # them all. int8 quantization changes the vectors, so it keeps an id of its own.
        self._model_id = (
            f"{loaded.label}@{loaded.weights}/{self._preprocess_cfg['resize_mode']}-"
            f"{_preprocess_digest(self._preprocess_cfg)}{'/int8' if quantize == 'int8' else ''}"
        )
        log.info(
            "encoder ready: %s, %d-d, device %s, precision %s (%s), engine %s, %d torch threads",
            self._model_id,
            self._dimension,
            self._device,
            self._precision,
            reason,
            self._engine.name,
            torch.get_num_threads(),
        )

    @classmethod
    def from_settings(cls, settings: ModelSettings) -> Encoder:
        """Load ``[model]``'s model; raises ``EncoderLoadError`` (one line) when that is impossible."""
        if settings.threads > 0:
            torch.set_num_threads(settings.threads)
        resolve_device(settings.device)  # fail before a slow load when the device does not exist
        return cls(
            load_model(settings),
            device=settings.device,
            precision=settings.precision,
            batch_size=settings.batch_size,
            preprocess=settings.preprocess,
            threads=settings.threads,
            engine=settings.engine,
            quantize=settings.quantize,
            bulk_chunk=settings.bulk_chunk,
        )

    @property
    def model_id(self) -> str:
        """Model, weights, preprocessing and quantization: vectors with different ids must not be mixed.

        The float precision is not part of it; ids stored before that ended in ``/fp32``, ``/bf16``
        or ``/fp16`` (compare with ``indexer.store.versions.same_model``).
        """
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def image_size(self) -> int:
        """The model's input side in pixels (decode with ``ImageDecoder(settings.images, image_size)``)."""
        size = self._preprocess_cfg["size"]
        return int(max(size) if isinstance(size, list | tuple) else size)

    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def precision(self) -> str:
        return self._precision

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @property
    def bulk_chunk(self) -> int:
        """Images per forward pass of ``embed_images``: the longest stretch a bot query waits behind."""
        return self._bulk_chunk

    @property
    def engine(self) -> str:
        """``torch`` or ``onnx``."""
        return self._engine.name

    @property
    def quantize(self) -> str:
        return self._quantize

    def waiting(self, priority: Priority) -> int:
        """Callers waiting for the forward pass now, by priority (queue depth for metrics and tests)."""
        return self._lock.waiting(priority)

    @property
    def preprocess(self) -> str:
        """The ``model.preprocess`` mode: "model", "squash", "shortest" or "longest"."""
        return self._preprocess

    @property
    def preprocess_cfg(self) -> dict[str, Any]:
        return dict(self._preprocess_cfg)

    def preprocess_image(self, image: Image.Image) -> torch.Tensor:
        """The model's input tensor (3, H, W) for one decoded RGB image. Thread-safe, lock-free."""
        _require_rgb(image)
        return self._transform(image)

    def embed_pixels(self, pixels: torch.Tensor, *, priority: Priority = Priority.INTERACTIVE) -> np.ndarray:
        """Vectors for a (N, 3, H, W) batch of preprocessed images: one forward pass under the lock.

        Interactive by default: this is the micro-batcher's path, and it goes before the next
        chunk of any bulk ``embed_images`` call that is running.
        """
        with torch.inference_mode():
            with self._lock.hold(priority):
                features = self._engine(pixels)
            return self._finish(features)

    def embed_images(
        self, images: Sequence[Image.Image], *, priority: Priority = Priority.BULK
    ) -> np.ndarray:
        """(len(images), dimension) float32, L2-normalised rows.

        Bulk by default (sync, eval): forward passes of ``bulk_chunk`` images, and a waiting
        interactive caller gets the encoder between two of them. ``priority=INTERACTIVE``
        runs passes of ``batch_size`` images ahead of bulk work.
        """
        images = list(images)
        for image in images:  # refuse bad input before spending any compute
            _require_rgb(image)
        if not images:
            return np.empty((0, self._dimension), dtype=np.float32)
        step = self._bulk_chunk if priority is Priority.BULK else self._batch_size
        parts = []
        for start in range(0, len(images), step):
            chunk = images[start : start + step]
            pixels = torch.stack([self.preprocess_image(image) for image in chunk])
            parts.append(self.embed_pixels(pixels, priority=priority))
        return np.concatenate(parts)

    def embed_image(self, image: Image.Image) -> np.ndarray:
        """One image's vector, with interactive priority (a user is waiting for it)."""
        return self.embed_images([image], priority=Priority.INTERACTIVE)[0]

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimension) float32, L2-normalised rows, with the model's own tokenizer."""
        texts = list(texts)
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"expected str, got {type(text).__name__}")
        if not texts:
            return np.empty((0, self._dimension), dtype=np.float32)
        tokenizer = self._get_tokenizer()
        parts = []
        for start in range(0, len(texts), self._batch_size):
            tokens = tokenizer(texts[start : start + self._batch_size])
            with torch.inference_mode():
                with self._lock.hold(Priority.INTERACTIVE), autocast(self._device, self._precision):
                    features = self._model.encode_text(tokens.to(self._device))
                parts.append(self._finish(features))
        return np.concatenate(parts)

    def _finish(self, features: torch.Tensor) -> np.ndarray:
        # Normalising inside bf16 autocast leaves norms ~0.5 % off: cast, then normalise in fp32.
        vectors = F.normalize(features.float(), dim=-1).cpu().numpy()
        if not np.isfinite(vectors).all():
            raise EncoderError(
                f"the model produced non-finite values in {self._precision}; try precision = fp32"
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _check_outputs(self, loaded: LoadedModel) -> int:
        """One forward pass at load time: finds the dimension, warms up, catches broken weights."""
        probe = Image.new("RGB", (self.image_size, self.image_size), (WHITE, WHITE, WHITE))
        try:
            vector = self.embed_pixels(self.preprocess_image(probe).unsqueeze(0))
        except EncoderError:
            raise EncoderLoadError(
                f"model {loaded.label}@{loaded.weights} produces non-finite vectors in {self._precision}: "
                "the weight file is damaged, or use precision = fp32"
            ) from None
        return int(vector.shape[1])

    def _get_tokenizer(self) -> Any:
        with self._tokenizer_lock:
            if self._tokenizer is None:
                try:
                    with quiet_open_clip_info():
                        self._tokenizer = open_clip.get_tokenizer(
                            self._loaded.tokenizer_name, cache_dir=self._loaded.cache_dir
                        )
                except Exception as exc:
                    raise EncoderLoadError(
                        f"the text tokenizer of {self._loaded.label} could not be loaded "
                        f"({' '.join(str(exc).split())[:200]}); for local-dir: models whose config names an "
                        "hf_tokenizer_name, copy the tokenizer files into the folder too"
                    ) from exc
            return self._tokenizer


def _require_rgb(image: object) -> None:
    if not isinstance(image, Image.Image):
        raise TypeError(f"expected a PIL image, got {type(image).__name__}")
    if image.mode != "RGB":
        # open_clip would convert after resizing, exposing whatever lies under transparency.
        raise ValueError(
            f"expected an RGB image, got mode {image.mode}: decode images with indexer.images first"
        )


def _effective_preprocess_cfg(model_cfg: dict[str, Any], mode: str) -> dict[str, Any]:
    cfg = dict(model_cfg)
    if mode != "model":
        cfg["resize_mode"] = mode
        cfg["fill_color"] = WHITE  # letterboxing pads with white, like catalogue backgrounds
    return cfg


def _preprocess_digest(cfg: dict[str, Any]) -> str:
    """Short hash of everything that changes the pixels the model sees."""
    canonical: dict[str, Any] = {
        key: list(value) if isinstance(value, list | tuple) else value for key, value in sorted(cfg.items())
    }
    if canonical.get("resize_mode") != "longest":
        canonical.pop("fill_color", None)  # only letterboxing pads
    canonical["decode_version"] = DECODE_VERSION
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()[:8]
