"""``GarmentParser``: a segmenter plus the label plan and region rules of ``[garments]``.

The segmenter is anything with the ``Segmenter`` shape: the real one is
``indexer.clothes_parser.segformer.SegformerSegmenter``; tests plant fixed label maps through the same
interface, and everything after the label map (labels, merging, areas, boxes, crops) is the same
code. ``LazyGarmentParser`` loads the model on first use, once, from any thread, and remembers a
failure so that callers fall back to the whole photo without trying again on every photo.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Literal, Protocol

import numpy as np
from PIL import Image

from indexer.clothes_parser.errors import OFFLINE_HINT, GarmentLoadError
from indexer.clothes_parser.label_categories import LabelPlan
from indexer.clothes_parser.regions import Garment, find_garments
from indexer.config import GarmentSettings, ModelSettings

log = logging.getLogger(__name__)

ParserState = Literal["disabled", "not_loaded", "ready", "unavailable"]


class Segmenter(Protocol):
    """A per-pixel labeller: what ``GarmentParser`` needs from a segmentation model."""

    @property
    def name(self) -> str: ...

    @property
    def id2label(self) -> Mapping[int, str]: ...

    @property
    def input_size(self) -> int:
        """The model's input side in pixels: photos are decoded for it at twice that."""
        ...

    def segment(self, image: Image.Image) -> np.ndarray:
        """An (h, w) map of label ids over ``image`` (same aspect; it may be smaller than the image)."""
        ...


class GarmentParser:
    """Finds the garments in an RGB photo. Thread-safe when the segmenter is (the real one is)."""

    def __init__(self, segmenter: Segmenter, settings: GarmentSettings) -> None:
        self._segmenter = segmenter
        self._settings = settings
        self._plan = LabelPlan.build(segmenter.id2label, settings.categories, settings.merge)
        if not self._plan.garments:
            known = ", ".join(sorted(segmenter.id2label.values())[:12])
            raise GarmentLoadError(
                f"none of the garment parser's labels ({known}) has an entry in [garments.categories]: "
                "map the model's garment labels to Musinsa categories there"
            )
        log.info("garment labels of %s: %s", segmenter.name, self._plan.describe())

    @classmethod
    def from_settings(cls, settings: GarmentSettings, model: ModelSettings) -> GarmentParser:
        """Load ``[garments] model`` on ``[model]``'s device and precision, or raise ``GarmentLoadError``."""
        from indexer.clothes_parser.segformer import load_segmenter

        segmenter = load_segmenter(
            settings.model, device=model.device, precision=model.precision, cache_dir=model.cache_dir or None
        )
        return cls(segmenter, settings)

    @property
    def segmenter(self) -> Segmenter:
        return self._segmenter

    @property
    def plan(self) -> LabelPlan:
        return self._plan

    @property
    def input_size(self) -> int:
        return self._segmenter.input_size

    def parse(self, image: Image.Image) -> list[Garment]:
        """The garments in ``image``, top to bottom (empty when there is none worth offering)."""
        if not isinstance(image, Image.Image) or image.mode != "RGB":
            raise TypeError(f"expected an RGB PIL image, got {getattr(image, 'mode', type(image).__name__)}")
        labels = self._segmenter.segment(image)
        return find_garments(
            image,
            labels,
            self._plan,
            min_area=self._settings.min_area,
            padding=self._settings.padding,
            crop_mode=self._settings.crop_mode,
        )


class LazyGarmentParser:
    """The parser, loaded on the first ``get()`` (blocking: call it off the event loop), at most once."""

    def __init__(
        self,
        settings: GarmentSettings,
        model: ModelSettings | None = None,
        *,
        loader: Callable[[], GarmentParser] | None = None,
    ) -> None:
        self._settings = settings
        self._loader = loader or (lambda: GarmentParser.from_settings(settings, model or ModelSettings()))
        self._lock = threading.Lock()
        self._parser: GarmentParser | None = None
        self._error: str | None = None

    @property
    def state(self) -> ParserState:
        if not self._settings.enabled:
            return "disabled"
        if self._parser is not None:
            return "ready"
        return "unavailable" if self._error is not None else "not_loaded"

    @property
    def error(self) -> str | None:
        """Why the parser could not be loaded (None when it was, or was never tried)."""
        return self._error

    def get(self) -> GarmentParser | None:
        """The loaded parser; None when it is disabled or cannot be loaded (the failure is logged once)."""
        if not self._settings.enabled:
            return None
        with self._lock:
            if self._parser is None and self._error is None:
                try:
                    self._parser = self._loader()
                except GarmentLoadError as exc:
                    self._fail(str(exc))
                except Exception as exc:  # an unexpected failure must not take photo search down with it
                    what = f"unexpected {type(exc).__name__} loading {self._settings.model!r}"
                    self._fail(f"{what}: {exc}; {OFFLINE_HINT}")
            return self._parser

    def _fail(self, reason: str) -> None:
        self._error = reason
        log.warning("garment parser unavailable, photos are searched whole: %s", reason)
