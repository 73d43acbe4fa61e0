"""Errors of the garment parser; torch-free so that callers can catch them cheaply."""

from __future__ import annotations

from typing import ClassVar

OFFLINE_HINT = (
    "to run offline, download the model's config.json, model.safetensors and preprocessor_config.json "
    "(`hf download mattmdjaga/segformer_b2_clothes --local-dir models/segformer_b2_clothes`) and set "
    '[garments] model = "models/segformer_b2_clothes" (or SNAPFIT_GARMENTS__MODEL)'
)


class GarmentError(Exception):
    """Something the garment parser cannot do; ``code`` is stable."""

    code: ClassVar[str] = "garment_error"


class GarmentLoadError(GarmentError):
    """The parser model cannot be loaded; the message is one line that says what to change."""

    code = "garment_parser_unavailable"
