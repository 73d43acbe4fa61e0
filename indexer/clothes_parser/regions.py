"""From a per-pixel label map to garments: masks, areas, padded boxes and crops.

Pure numpy and Pillow, so the logic is tested on planted label maps without a model. The label
map may be smaller than the image (the parser labels a bounded copy); boxes are scaled to the
image's pixels, rounded outwards so a garment is never cut.

A garment's box is the box of its mask after an *opening* (every ``SPECK_FRACTION`` × longer-side
square that fits in the mask, united): stray specks of a label elsewhere in the photo would
otherwise stretch the box across it. The area and the cutout use the mask itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

from indexer.clothes_parser.label_categories import LabelPlan

CropMode = Literal["box", "cutout"]
# (left, top, right, bottom) in image pixels; right and bottom are exclusive (PIL's crop box).
Box = tuple[int, int, int, int]
WHITE = (255, 255, 255)
SPECK_FRACTION = 0.01  # specks narrower than 1 % of the label map's longer side do not move a box


@dataclass(frozen=True)
class Garment:
    """One garment found in a photo: its label, where it is, and the crop to search with."""

    label: str  # the garment's name in the parser's labels, e.g. "upper-clothes", "shoes"
    categories: tuple[str, ...]  # Musinsa category codes its crop is searched in
    area: float  # share of the image its mask covers, 0-1
    box: Box  # padded and clamped to the image
    crop: Image.Image

    def to_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "categories": list(self.categories),
            "box": list(self.box),
            "area": round(self.area, 4),
        }


def find_garments(
    image: Image.Image,
    labels: np.ndarray,
    plan: LabelPlan,
    *,
    min_area: float = 0.02,
    padding: float = 0.1,
    crop_mode: CropMode = "box",
) -> list[Garment]:
    """The garments of ``plan`` in ``labels`` (an (h, w) map of label ids over ``image``), top to bottom.

    Labels that are no garment, and garments whose mask covers less than ``min_area`` of the
    image, are left out; labels merged in ``plan`` (left and right shoe) give one garment.
    """
    if labels.ndim != 2 or labels.size == 0:
        raise ValueError(f"a label map is a non-empty 2-D array, got shape {labels.shape}")
    if crop_mode not in ("box", "cutout"):
        raise ValueError(f"crop_mode must be 'box' or 'cutout', got {crop_mode!r}")
    height, width = labels.shape
    speck = max(1, round(SPECK_FRACTION * max(height, width)))
    found = []
    for name, ids in plan.garments.items():
        mask = np.isin(labels, ids)
        area = float(mask.mean())
        if area == 0 or area < min_area:
            continue
        core = mask_box(opening(mask, speck))
        if core is None:  # nothing but specks
            continue
        box = pad_box(scale_box(core, (width, height), image.size), padding, image.size)
        crop = image.crop(box) if crop_mode == "box" else cutout(image, mask, box)
        found.append(Garment(name, plan.categories[name], area, box, crop))
    return sorted(found, key=lambda garment: (garment.box[1], garment.box[0]))


def mask_box(mask: np.ndarray) -> Box | None:
    """The smallest box holding every set pixel of ``mask``; None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(columns[0]), int(rows[0]), int(columns[-1]) + 1, int(rows[-1]) + 1


def scale_box(box: Box, source: tuple[int, int], target: tuple[int, int]) -> Box:
    """``box`` on a ``source`` (width, height) grid, on the ``target`` grid: rounded outwards."""
    (left, top, right, bottom), (sw, sh), (tw, th) = box, source, target
    return (
        left * tw // sw,
        top * th // sh,
        min(tw, -(-right * tw // sw)),
        min(th, -(-bottom * th // sh)),
    )


def pad_box(box: Box, padding: float, size: tuple[int, int]) -> Box:
    """``box`` grown by ``padding`` × its width (height) on each side, clamped to an image of ``size``."""
    left, top, right, bottom = box
    width, height = size
    dx, dy = round(padding * (right - left)), round(padding * (bottom - top))
    return max(0, left - dx), max(0, top - dy), min(width, right + dx), min(height, bottom + dy)


def cutout(image: Image.Image, mask: np.ndarray, box: Box) -> Image.Image:
    """The ``box`` crop of ``image`` with every pixel outside ``mask`` (scaled to the image) white."""
    full = Image.fromarray(mask.astype(np.uint8) * 255, mode="L")
    if full.size != image.size:
        full = full.resize(image.size, Image.Resampling.NEAREST)
    crop = image.crop(box)
    white = Image.new("RGB", crop.size, WHITE)
    return Image.composite(crop, white, full.crop(box))


def opening(mask: np.ndarray, size: int) -> np.ndarray:
    """The union of every ``size`` × ``size`` square that fits inside ``mask`` (binary opening)."""
    if size <= 1:
        return mask.astype(bool)
    height, width = mask.shape
    if height < size or width < size:
        return np.zeros_like(mask, dtype=bool)
    fits = _window_sums(mask.astype(np.int32), size) == size * size  # (h-size+1, w-size+1)
    shifted = np.zeros((height + size - 1, width + size - 1), dtype=np.int32)
    shifted[size - 1 : size - 1 + fits.shape[0], size - 1 : size - 1 + fits.shape[1]] = fits
    return _window_sums(shifted, size) > 0  # (h, w): some fitting square covers the pixel


def _window_sums(values: np.ndarray, size: int) -> np.ndarray:
    """Sums over every ``size`` × ``size`` window, indexed by the window's top-left corner."""
    table = np.zeros((values.shape[0] + 1, values.shape[1] + 1), dtype=np.int64)
    table[1:, 1:] = values.cumsum(axis=0).cumsum(axis=1)
    return table[size:, size:] - table[:-size, size:] - table[size:, :-size] + table[:-size, :-size]
