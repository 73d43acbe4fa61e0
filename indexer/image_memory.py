"""The memory a decode will take, estimated from the header, and the process-wide budget decodes share.

A pixel cap alone is not a memory cap: a few hundred KB of PNG can claim tens of megapixels of RGBA,
and the RGB copies made while converting cost as much again. ``decoded_bytes`` gives the peak from the
header, so ``indexer.images`` can refuse (or, for JPEG, draft smaller) before any pixel is decoded, and
``DecodeBudget`` makes concurrent decodes wait for their share instead of stacking.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

MIB = 1024 * 1024
# After a decode this large, once no decode runs, free heap memory is handed back to the system:
# glibc keeps freed large images in its arenas otherwise, and the process stays at its peak.
TRIM_AFTER_BYTES = 64 * MIB
# Pillow stores every multi-band mode (RGB included) at 4 bytes a pixel, 16-bit grey at 2, and the
# one-band 8-bit modes at 1.
_ONE_BYTE_MODES = frozenset({"1", "L", "P"})
_TWO_BYTE_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
RGB_BYTES = 4
# Bytes a pixel of the copies ``indexer.images`` makes to reach RGB, by source mode: one RGB image for a
# plain convert or the white background of RGBA; an RGBA convert plus the background for other alpha;
# for 16-bit grey the numpy arrays (read, clipped, widened, shifted, narrowed), the 8-bit grey image and
# its RGB convert.
_ALPHA_CONVERSION = 2 * RGB_BYTES
_CONVERSION_BYTES = {
    "RGB": 0,
    "RGBA": RGB_BYTES,
    "1": RGB_BYTES,
    "L": RGB_BYTES,
    "P": RGB_BYTES,
    "RGBX": RGB_BYTES,
    "YCbCr": RGB_BYTES,
    "CMYK": RGB_BYTES,
    "F": 1 + RGB_BYTES,
    "I": 4 + 4 + 4 + 4 + 1 + 1 + RGB_BYTES,
    **{mode: 2 + 4 + 4 + 1 + 1 + RGB_BYTES for mode in _TWO_BYTE_MODES},
}
_ALPHA_MODES = frozenset({"RGBa", "LA", "La", "PA"})


def bytes_per_pixel(mode: str) -> int:
    """Bytes one pixel of ``mode`` takes in a Pillow image."""
    if mode in _ONE_BYTE_MODES:
        return 1
    if mode in _TWO_BYTE_MODES:
        return 2
    return 4


def decoded_bytes(
    mode: str,
    size: tuple[int, int],
    *,
    transparency: bool = False,
    colour_profile: bool = False,
    transposed: bool = False,
    decoder_buffer: bool = False,
    reduce_factor: int = 1,
) -> int:
    """Peak bytes of decoding a ``mode`` image of ``size`` to RGB, as ``indexer.images`` does it.

    The loaded image stays alive while one of these exists beside it: the codec's own frame buffer
    (``decoder_buffer``, WebP), the rotated copy of an EXIF orientation (``transposed``), the RGB
    conversion copies plus the colour-profile output (``colour_profile``), or, when neither converts
    nor reduces, the copy that detaches the result from the file. The reduced result comes on top.
    """
    width, height = size
    pixels = width * height
    loaded = pixels * bytes_per_pixel(mode)
    if mode in _ALPHA_MODES or (transparency and mode != "RGBA"):
        conversion = _ALPHA_CONVERSION
    else:
        conversion = _CONVERSION_BYTES.get(mode, RGB_BYTES)
    if colour_profile:
        conversion += RGB_BYTES
    detached_copy = loaded if conversion == 0 and reduce_factor < 2 else 0
    beside = max(
        loaded if decoder_buffer else 0,
        loaded if transposed else 0,
        pixels * conversion,
        detached_copy,
    )
    reduced = pixels * RGB_BYTES // (reduce_factor * reduce_factor) if reduce_factor > 1 else 0
    return loaded + beside + reduced


class DecodeBudget:
    """Bytes of decode memory shared by the decodes of a process: each waits until its share is free.

    A share larger than the whole budget is cut to the budget, so such a decode runs alone. When the
    last decode ends after a large one, the freed memory is returned to the system (``release_free_memory``).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a decode budget needs at least one byte")
        self.capacity = capacity
        self._in_use = 0
        self._peak = 0
        self._large_since_idle = False
        self._condition = threading.Condition()

    @property
    def in_use(self) -> int:
        """Bytes reserved by the decodes running now."""
        with self._condition:
            return self._in_use

    @property
    def peak(self) -> int:
        """The most bytes reserved at once since this budget was made."""
        with self._condition:
            return self._peak

    @contextmanager
    def reserve(self, amount: int) -> Iterator[None]:
        """Hold ``amount`` bytes of the budget for the ``with`` block, waiting until they are free."""
        share = min(max(amount, 0), self.capacity)
        with self._condition:
            self._condition.wait_for(lambda: self._in_use + share <= self.capacity)
            self._in_use += share
            self._peak = max(self._peak, self._in_use)
        try:
            yield
        finally:
            with self._condition:
                self._in_use -= share
                self._large_since_idle |= share >= TRIM_AFTER_BYTES
                trim = self._in_use == 0 and self._large_since_idle
                if trim:
                    self._large_since_idle = False
                self._condition.notify_all()
            if trim:
                release_free_memory()


def release_free_memory() -> bool:
    """Hand the C heap's free memory back to the system (glibc ``malloc_trim``); False where unavailable."""
    trim = _malloc_trim()
    if trim is None:
        return False
    try:
        trim(0)
    except Exception as exc:  # pragma: no cover - a libc that misbehaves
        log.debug("malloc_trim failed: %r", exc)
        return False
    return True


@functools.cache
def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    try:
        return ctypes.CDLL(None).malloc_trim  # the C library the interpreter is linked with
    except (OSError, AttributeError):
        return None  # not glibc (musl, macOS): nothing to trim


@functools.cache
def shared_budget(capacity: int) -> DecodeBudget:
    """The process's budget of ``capacity`` bytes: every decoder configured alike shares one."""
    return DecodeBudget(capacity)
