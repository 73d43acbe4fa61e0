"""The garment question's photo: the user's photo with a numbered box around each garment.

Numbers match the buttons below it ("1 👕 Top"). The preview is scaled to at most
``PREVIEW_SIDE`` pixels (what Telegram shows anyway); lines and numbers scale with it so they
stay readable on a phone.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from indexer.clothes_parser.regions import Box

PREVIEW_SIDE = 1280
JPEG_QUALITY = 88
# Distinct, saturated colours that read on light and dark clothes (white numbers on them).
COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#9a6324", "#800000")


def draw_preview(image: Image.Image, boxes: Sequence[Box]) -> bytes:
    """JPEG bytes of ``image`` with ``boxes[i]`` outlined and numbered ``i + 1``."""
    scale = min(1.0, PREVIEW_SIDE / max(image.size))
    canvas = image.convert("RGB")
    if scale < 1.0:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        canvas = canvas.resize(size, Image.Resampling.LANCZOS)
    else:
        canvas = canvas.copy()
    side = max(canvas.size)
    line = max(2, round(side / 250))
    font = _font(max(14, round(side / 18)))
    draw = ImageDraw.Draw(canvas)
    for index, box in enumerate(boxes):
        colour = COLOURS[index % len(COLOURS)]
        left, top, right, bottom = (round(value * scale) for value in box)
        right, bottom = max(left + 1, right - 1), max(top + 1, bottom - 1)
        draw.rectangle((left, top, right, bottom), outline=colour, width=line)
        _number(draw, str(index + 1), (left, top), colour, font, canvas.size)
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _number(
    draw: ImageDraw.ImageDraw,
    label: str,
    corner: tuple[int, int],
    colour: str,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    size: tuple[int, int],
) -> None:
    """A filled tag with the number, at the box's top-left corner, kept inside the image."""
    left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
    pad = max(3, (bottom - top) // 4)
    width, height = right - left + 2 * pad, bottom - top + 2 * pad
    x = min(max(0, corner[0]), size[0] - width)
    y = min(max(0, corner[1]), size[1] - height)
    draw.rectangle((x, y, x + width, y + height), fill=colour)
    draw.text((x + pad - left, y + pad - top), label, fill="white", font=font)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's bundled scalable font; its fixed bitmap font where FreeType is missing."""
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ImportError):
        return ImageFont.load_default()
