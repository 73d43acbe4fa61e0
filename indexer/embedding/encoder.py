"""The image (and text) encoder: one loaded model, one preprocessing, L2-normalised float32 vectors.

Index and query both call this class, so they share the transform and the precision. The
forward pass is serialised by a lock (torch already uses every core for one pass);
preprocessing runs outside it so that other threads can prepare the next batch.
"""

from __future__ import annotations

import contextlib
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
from indexer.embedding.errors import EncoderError, EncoderLoadError
from indexer.embedding.loading import LoadedModel, load_model, quiet_open_clip_info
from indexer.embedding.policy import DTYPES, cast_matmul_weights, resolve_device, resolve_precision
from indexer.images import DECODE_VERSION

log = logging.getLogger(__name__)

PREPROCESS_MODES = ("model", "squash", "shortest", "longest")
WHITE = 255


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
    ) -> None:
        if preprocess not in PREPROCESS_MODES:
            raise EncoderLoadError(
                f"model.preprocess must be one of {', '.join(PREPROCESS_MODES)}, got {preprocess!r}"
            )
        if batch_size < 1:
            raise EncoderLoadError(f"model.batch_size must be at least 1, got {batch_size}")
        if threads > 0:
            torch.set_num_threads(threads)
        self._device = resolve_device(device)
        self._precision, reason = resolve_precision(precision, self._device)
        self._batch_size = batch_size
        self._preprocess = preprocess
        self._loaded = loaded
        model = loaded.model.eval().to(self._device)
        if self._precision != "fp32":
            cast_matmul_weights(model, DTYPES[self._precision])
        self._model = model
        self._preprocess_cfg = _effective_preprocess_cfg(loaded.preprocess_cfg, preprocess)
        self._transform = image_transform_v2(PreprocessCfg(**self._preprocess_cfg), is_train=False)
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._tokenizer_lock = threading.Lock()
        self._dimension = self._check_outputs(loaded)
        self._model_id = (
            f"{loaded.label}@{loaded.weights}/{self._preprocess_cfg['resize_mode']}-"
            f"{_preprocess_digest(self._preprocess_cfg)}/{self._precision}"
        )
        log.info(
            "encoder ready: %s, %d-d, device %s, precision %s (%s), %d torch threads",
            self._model_id,
            self._dimension,
            self._device,
            self._precision,
            reason,
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
        )

    @property
    def model_id(self) -> str:
        """Model, weights, preprocessing and precision: vectors with different ids must not be mixed."""
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

    def embed_pixels(self, pixels: torch.Tensor) -> np.ndarray:
        """Vectors for a (N, 3, H, W) batch of preprocessed images: one forward pass under the lock."""
        with torch.inference_mode():
            with self._lock, self._autocast():
                features = self._model.encode_image(pixels.to(self._device))
            return self._finish(features)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        """(len(images), dimension) float32, L2-normalised rows, in batches of ``batch_size``."""
        images = list(images)
        for image in images:  # refuse bad input before spending any compute
            _require_rgb(image)
        if not images:
            return np.empty((0, self._dimension), dtype=np.float32)
        parts = []
        for start in range(0, len(images), self._batch_size):
            chunk = images[start : start + self._batch_size]
            parts.append(self.embed_pixels(torch.stack([self.preprocess_image(image) for image in chunk])))
        return np.concatenate(parts)

    def embed_image(self, image: Image.Image) -> np.ndarray:
        return self.embed_images([image])[0]

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
                with self._lock, self._autocast():
                    features = self._model.encode_text(tokens.to(self._device))
                parts.append(self._finish(features))
        return np.concatenate(parts)

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self._precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(device_type=self._device.type, dtype=DTYPES[self._precision])

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
