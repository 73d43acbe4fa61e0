"""The garment parser: find the garments in an outfit photo, so a user can pick the one to search.

A clothes-parsing segmentation model (``[garments] model``, SegFormer by default) labels every
pixel; the labels that ``[garments.categories]`` maps to Musinsa categories are garments. Each
garment comes back with its label, categories, mask area, a padded box and a crop
(``indexer.clothes_parser.regions``). Nothing here knows about Telegram.

Only ``SegformerSegmenter``/``load_segmenter`` (and ``GarmentParser.from_settings``) import torch
and transformers; the parser, the label and region logic and the errors import without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.clothes_parser.errors import GarmentError, GarmentLoadError
from indexer.clothes_parser.label_categories import LabelPlan
from indexer.clothes_parser.parser import GarmentParser, LazyGarmentParser, Segmenter
from indexer.clothes_parser.regions import Box, Garment, find_garments
from indexer.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from indexer.clothes_parser.segformer import SegformerSegmenter, load_segmenter

__all__ = [
    "Box",
    "Garment",
    "GarmentError",
    "GarmentLoadError",
    "GarmentParser",
    "LabelPlan",
    "LazyGarmentParser",
    "SegformerSegmenter",
    "Segmenter",
    "find_garments",
    "load_segmenter",
]

# torch and transformers take seconds to import: only pay for them when the model is used.
__getattr__ = lazy_exports(
    __name__,
    {
        "SegformerSegmenter": "indexer.clothes_parser.segformer",
        "load_segmenter": "indexer.clothes_parser.segformer",
    },
)
