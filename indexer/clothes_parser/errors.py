"""Errors of the garment parser; torch-free so that callers can catch them cheaply."""

from __future__ import annotations

from typing import ClassVar

DEFAULT_REPO = "mattmdjaga/segformer_b2_clothes"
# What a local parser folder needs (transformers also takes pytorch_model.bin for the weights).
MODEL_FILES = ("config.json", "model.safetensors", "preprocessor_config.json")


def offline_hint(source: str = DEFAULT_REPO) -> str:
    """How to run the parser from a local folder: only the files it needs, of ``source``'s repository
    (the default model's when ``source`` is a folder)."""
    repo = source if _is_repo_id(source) else DEFAULT_REPO
    folder = f"models/{repo.rsplit('/', 1)[-1]}"
    return (
        f"to run offline, fetch just the files it needs (`hf download {repo} {' '.join(MODEL_FILES)} "
        f"--local-dir {folder}`) and set "
        f'[garments] model = "{folder}" (or SNAPFIT_GARMENTS__MODEL)'
    )


def _is_repo_id(source: str) -> bool:
    parts = source.split("/")
    return len(parts) == 2 and all(parts) and not source.startswith((".", "~"))


OFFLINE_HINT = offline_hint()


class GarmentError(Exception):
    """Something the garment parser cannot do; ``code`` is stable."""

    code: ClassVar[str] = "garment_error"


class GarmentLoadError(GarmentError):
    """The parser model cannot be loaded; the message is one line that says what to change."""

    code = "garment_parser_unavailable"
