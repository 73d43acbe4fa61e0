"""The garment model's test double: fixed regions of the real model's labels, any photo size."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PIL import Image

from tests.tiny_segformer import CLOTHES_LABELS

TOP_AND_PANTS = {"Upper-clothes": (0.0, 0.0, 1.0, 0.5), "Pants": (0.0, 0.5, 1.0, 1.0)}


class PlantedSegmenter:
    """The garment model's stand-in: fixed regions (fractions of the photo) of the real model's labels."""

    name = "planted"
    input_size = 512

    def __init__(self, regions: Mapping[str, tuple[float, float, float, float]]) -> None:
        self.regions = dict(regions)
        self.id2label = dict(enumerate(CLOTHES_LABELS))
        self.sizes: list[tuple[int, int]] = []

    def segment(self, image: Image.Image) -> np.ndarray:
        self.sizes.append(image.size)
        width, height = image.size
        labels = np.zeros((height, width), dtype=np.uint8)
        for name, (left, top, right, bottom) in self.regions.items():
            rows = slice(round(top * height), round(bottom * height))
            labels[rows, round(left * width) : round(right * width)] = CLOTHES_LABELS.index(name)
        return labels
