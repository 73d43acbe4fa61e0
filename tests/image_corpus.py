"""A corpus of image inputs built by the tests, each with the outcome ``indexer.images.decode`` must give.

Good cases carry a pixel check (colours at relative positions, so the same check holds
with and without draft mode); bad cases carry the expected ``ImageError.code``. The bot's
end-to-end tests send every case through the real handlers, so keep the cases small and
the limits explicit: decode with ``max_bytes=CORPUS_MAX_BYTES`` and
``max_pixels=CORPUS_MAX_PIXELS`` (the ``[images]`` defaults are compatible with both).

Usage::

    from tests.image_corpus import corpus, bad_cases, good_cases, case
    for item in bad_cases():
        ...  # item.name, item.data, item.error
"""

from __future__ import annotations

import functools
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, features

CORPUS_MAX_BYTES = 16 * 1024 * 1024
CORPUS_MAX_PIXELS = 50_000_000

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)
YELLOW = (255, 255, 0)
WHITE = (255, 255, 255)
QUADRANTS = {(0.25, 0.25): RED, (0.75, 0.25): GREEN, (0.25, 0.75): BLUE, (0.75, 0.75): YELLOW}

Check = Callable[[Image.Image], None]


@dataclass(frozen=True)
class ImageCase:
    """One input: its bytes and either the expected error code or checks on the decoded image."""

    name: str
    data: bytes
    error: str | None = None
    size: tuple[int, int] | None = None  # decoded size without a draft size
    check: Check | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def colour_at(image: Image.Image, fx: float, fy: float) -> tuple[int, int, int]:
    x = min(image.width - 1, int(fx * image.width))
    y = min(image.height - 1, int(fy * image.height))
    return image.getpixel((x, y))  # type: ignore[return-value]


def expect_colours(expected: dict[tuple[float, float], tuple[int, int, int]], tolerance: int = 40) -> Check:
    """A check that the colour at each relative position is within ``tolerance`` per channel."""

    def check(image: Image.Image) -> None:
        for (fx, fy), colour in expected.items():
            actual = colour_at(image, fx, fy)
            assert all(abs(a - e) <= tolerance for a, e in zip(actual, colour, strict=True)), (
                f"colour at ({fx}, {fy}) of {image.size} image is {actual}, expected about {colour}"
            )

    return check


def encode(image: Image.Image, image_format: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def quadrant_image(width: int, height: int) -> Image.Image:
    """Red, green, blue and yellow quadrants (top-left, top-right, bottom-left, bottom-right)."""
    image = Image.new("RGB", (width, height), WHITE)
    half_w, half_h = width // 2, height // 2
    image.paste(RED, (0, 0, half_w, half_h))
    image.paste(GREEN, (half_w, 0, width, half_h))
    image.paste(BLUE, (0, half_h, half_w, height))
    image.paste(YELLOW, (half_w, half_h, width, height))
    return image


def marker_image(width: int, height: int) -> Image.Image:
    """White with a red block in the stored top-left corner: shows where rotation moved it."""
    image = Image.new("RGB", (width, height), WHITE)
    image.paste(RED, (0, 0, width // 4, height // 4))
    return image


def exif_jpeg(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_header_only(width: int, height: int, colour_type: int = 2) -> bytes:
    """A valid PNG signature and IHDR claiming width×height, with a few bytes of pixels: no allocation.

    ``colour_type`` is the PNG one: 2 for RGB, 6 for RGBA.
    """
    channels = {2: 3, 6: 4}[colour_type]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    idat = zlib.compress(b"\x00" + b"\x00" * channels * min(width, 64))
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


def jpeg_with_size(width: int, height: int) -> bytes:
    """A small real JPEG whose SOF header is patched to claim width×height."""
    data = bytearray(encode(Image.new("RGB", (16, 16), RED), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def icc_profile(
    device_class: bytes, colour_space: bytes, pcs: bytes, tags: list[tuple[bytes, bytes]]
) -> bytes:
    """A minimal ICC v2 profile with the given tags (plus 'desc' and a D50 'wtpt')."""
    text = b"snapfit test profile\x00"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8) + bytes(3) + bytes(67)
    d50 = struct.pack(">iii", 63190, 65536, 54061)
    tags = [(b"desc", desc), (b"wtpt", b"XYZ " + bytes(4) + d50), *tags]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, payload in tags:
        payload += bytes(-len(payload) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(payload))
        body += payload
    header = (
        struct.pack(">I", offset + len(body))
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + device_class
        + colour_space
        + pcs
        + bytes(12)  # date
        + b"acsp"
        + bytes(4 + 4 + 8 + 8)  # platform, flags, manufacturer+model, attributes
        + struct.pack(">I", 0)  # rendering intent
        + d50
        + bytes(4 + 16 + 28)  # creator, id, reserved
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def cmyk_profile_paper_is_blue() -> bytes:
    """A CMYK profile whose A2B0 maps K=0 to deep blue and K=100 % to black.

    Decoding a white CMYK JPEG (all inks 0) with it embedded must give blue: proof that the
    embedded profile, not the naive conversion (which gives white), was used. Full black
    stays black so that lcms's perceptual black-point handling leaves the blue alone.
    """
    lab_blue = bytes([77, 196, 16])  # L*=30, a*=68, b*=-112 in lut8 Lab encoding
    lab_black = bytes([0, 128, 128])
    identity = bytes(range(256))
    a2b0 = (
        b"mft1"
        + bytes(4)
        + bytes([4, 3, 2, 0])  # 4 inputs, 3 outputs, 2 grid points per input
        + b"".join(struct.pack(">i", v) for v in (65536, 0, 0, 0, 65536, 0, 0, 0, 65536))
        + identity * 4
        + (lab_blue + lab_black) * (2**3)  # grid index ((c*2+m)*2+y)*2+k: K varies fastest
        + identity * 3
    )
    return icc_profile(b"prtr", b"CMYK", b"Lab ", [(b"A2B0", a2b0)])


def rgb_profile_red_blue_swapped() -> bytes:
    """A linear RGB display profile whose red and blue primaries are swapped (a stand-in for Display-P3).

    A pure red pixel stored with it embedded must decode as blue in sRGB.
    """

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + struct.pack(">iii", *(round(v * 65536) for v in (x, y, z)))

    linear = b"curv" + bytes(4) + struct.pack(">I", 0)
    srgb_red, srgb_green, srgb_blue = (
        (0.4361, 0.2225, 0.0139),
        (0.3851, 0.7169, 0.0971),
        (0.1431, 0.0606, 0.7141),
    )
    return icc_profile(
        b"mntr",
        b"RGB ",
        b"XYZ ",
        [
            (b"rXYZ", xyz(*srgb_blue)),
            (b"gXYZ", xyz(*srgb_green)),
            (b"bXYZ", xyz(*srgb_red)),
            (b"rTRC", linear),
            (b"gTRC", linear),
            (b"bTRC", linear),
        ],
    )


def _truncated(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def _noise(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8))


def _bad_crc_png() -> bytes:
    data = bytearray(encode(quadrant_image(32, 32), "PNG"))
    ihdr_crc = 8 + 4 + 4 + 13
    data[ihdr_crc] ^= 0xFF
    return bytes(data)


def _corrupt_idat_png() -> bytes:
    data = bytearray(encode(_noise(64, 64, seed=3), "PNG", compress_level=1))
    idat = data.index(b"IDAT") + 4
    for offset in range(idat + 10, idat + 400, 7):
        data[offset] ^= 0x5A
    return bytes(data)


def _large_mpo() -> bytes:
    """A phone-style MPO (JPEG + second frame), big enough for draft mode to scale it."""
    second = Image.new("RGB", (1200, 1000), BLUE)
    return encode(quadrant_image(1200, 1000), "MPO", save_all=True, append_images=[second])


def _animated(image_format: str, first: tuple[int, int, int], **params: object) -> bytes:
    frames = [Image.new("RGB", (40, 30), colour) for colour in (first, BLUE, GREEN)]
    return encode(frames[0], image_format, save_all=True, append_images=frames[1:], **params)


def _rgba_png() -> bytes:
    image = Image.new("RGBA", (40, 20), (0, 0, 0, 0))  # transparent black on the left
    image.paste((0, 0, 255, 255), (20, 0, 40, 10))  # opaque blue top right
    image.paste((255, 0, 0, 128), (20, 10, 40, 20))  # half-transparent red bottom right
    return encode(image, "PNG")


def _palette_png() -> bytes:
    image = Image.new("P", (40, 20), 0)
    image.putpalette([0, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 6))
    image.paste(1, (20, 0, 40, 20))
    return encode(image, "PNG", transparency=0)


def _la_png() -> bytes:
    image = Image.new("LA", (40, 20), (0, 0))
    image.paste((60, 255), (20, 0, 40, 20))
    return encode(image, "PNG")


def _gif_with_transparency() -> bytes:
    image = Image.new("P", (40, 20), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    image.paste(1, (20, 0, 40, 20))
    return encode(image, "GIF", transparency=0)


def _grey16_png() -> bytes:
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (16, 1))
    return encode(Image.fromarray(ramp), "PNG")


def _grey16_tiff() -> bytes:
    return encode(Image.fromarray(np.full((16, 16), 30000, dtype=np.uint16)), "TIFF")


def _check_grey16_ramp(image: Image.Image) -> None:
    left, middle, right = (colour_at(image, fx, 0.5) for fx in (0.0, 0.5, 0.999))
    assert left[0] <= 8, left
    assert 100 <= middle[0] <= 156, middle
    assert right[0] >= 240, right
    assert middle != WHITE


def _cmyk_jpeg(colour: tuple[int, int, int, int], icc: bytes | None) -> bytes:
    image = Image.new("CMYK", (32, 32), colour)
    return encode(image, "JPEG", quality=95, **({"icc_profile": icc} if icc else {}))


def _svg() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        b'<rect width="100" height="100" fill="red"/></svg>\n'
    )


def _pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # A fixed timestamp: writestr(name, …) would stamp the current time and vary the bytes.
        entry = zipfile.ZipInfo("photo.jpg", date_time=(2024, 1, 1, 0, 0, 0))
        archive.writestr(entry, encode(quadrant_image(16, 16), "JPEG"))
    return buffer.getvalue()


def _random_bytes() -> bytes:
    data = random.Random(1234).randbytes(4096)
    assert not data.startswith((b"\xff\xd8", b"\x89PNG", b"GIF", b"BM", b"II", b"MM", b"RIFF"))
    return data


def _heic_header() -> bytes:
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200


def _avif() -> bytes:
    if features.check("avif"):
        return encode(quadrant_image(32, 32), "AVIF")
    return b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 200


def _heif_installed() -> bool:
    try:
        import pillow_heif  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


def _too_many_scans() -> bytes:
    return encode(quadrant_image(32, 32), "JPEG") + b"\xff\xda\x00\x02" * 300


@functools.cache
def corpus() -> tuple[ImageCase, ...]:
    """Every case, built once per process (the 12 MP photo takes a moment)."""
    white_exif_large = marker_image(2400, 1600)
    rotated_right = expect_colours({(0.9, 0.1): RED, (0.1, 0.1): WHITE, (0.1, 0.9): WHITE, (0.9, 0.9): WHITE})
    rotated_left = expect_colours({(0.1, 0.9): RED, (0.1, 0.1): WHITE, (0.9, 0.1): WHITE, (0.9, 0.9): WHITE})
    quadrants = expect_colours(QUADRANTS)
    cases = [
        # --- refused ---
        ImageCase("empty", b"", error="empty"),
        ImageCase("too_many_bytes", b"\xff\xd8\xff" + bytes(CORPUS_MAX_BYTES - 2), error="too_many_bytes"),
        ImageCase("random_bytes", _random_bytes(), error="not_an_image"),
        ImageCase(
            "text_file", b"Just a shopping list: jeans, white shirt, sneakers.\n" * 20, error="not_an_image"
        ),
        ImageCase("text_starting_with_bm", b"BMW jacket, size L, worn twice.\n" * 4, error="not_an_image"),
        ImageCase(
            "html",
            b"<!DOCTYPE html><html><head><title>photo</title></head>"
            b'<body><img src="photo.jpg"></body></html>\n',
            error="not_an_image",
        ),
        ImageCase("pdf", _pdf(), error="not_an_image"),
        ImageCase("zip", _zip(), error="not_an_image"),
        ImageCase(
            "mp4_header",
            b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41" + bytes(200),
            error="not_an_image",
        ),
        ImageCase("svg", _svg(), error="unsupported_format"),
        ImageCase("heic", _heic_header(), error="corrupt" if _heif_installed() else "unsupported_format"),
        ImageCase("avif", _avif(), error="unsupported_format"),
        ImageCase("ico", encode(quadrant_image(16, 16), "ICO"), error="unsupported_format"),
        ImageCase(
            "truncated_jpeg", _truncated(encode(_noise(200, 150, seed=1), "JPEG"), 0.6), error="truncated"
        ),
        ImageCase(
            "truncated_png", _truncated(encode(_noise(100, 100, seed=2), "PNG"), 0.6), error="truncated"
        ),
        ImageCase("jpeg_header_only", encode(quadrant_image(64, 64), "JPEG")[:40], error="corrupt"),
        ImageCase("png_bad_crc", _bad_crc_png(), error="corrupt"),
        ImageCase("png_corrupt_idat", _corrupt_idat_png(), error="corrupt"),
        ImageCase("jpeg_too_many_scans", _too_many_scans(), error="corrupt"),
        ImageCase("bomb_png_20000x20000", png_header_only(20000, 20000), error="too_many_pixels"),
        ImageCase("bomb_jpeg_20000x20000", jpeg_with_size(20000, 20000), error="too_many_pixels"),
        ImageCase("png_header_9000x9000", png_header_only(9000, 9000), error="too_many_pixels"),
        # Between Pillow's warning (89 MP) and error (179 MP) thresholds: refused either way.
        ImageCase("png_header_10000x10000", png_header_only(10000, 10000), error="too_many_pixels"),
        # Under the pixel cap, but its RGBA pixels and their RGB copy exceed the decoded-memory budget.
        ImageCase("png_rgba_header_7000x7000", png_header_only(7000, 7000, colour_type=6), error="too_big"),
        ImageCase("png_1x5000", encode(Image.new("L", (1, 5000), 200), "PNG"), error="bad_aspect_ratio"),
        # --- decoded ---
        ImageCase(
            "pixel_1x1",
            encode(Image.new("RGB", (1, 1), GREEN), "PNG"),
            size=(1, 1),
            check=expect_colours({(0.5, 0.5): GREEN}, tolerance=0),
        ),
        ImageCase(
            "animated_gif", _animated("GIF", RED), size=(40, 30), check=expect_colours({(0.5, 0.5): RED})
        ),
        ImageCase(
            "animated_png", _animated("PNG", GREEN), size=(40, 30), check=expect_colours({(0.5, 0.5): GREEN})
        ),
        ImageCase(
            "animated_webp",
            _animated("WEBP", RED, lossless=True),
            size=(40, 30),
            check=expect_colours({(0.5, 0.5): RED}),
        ),
        ImageCase(
            "mpo_two_frames", _animated("MPO", RED), size=(40, 30), check=expect_colours({(0.5, 0.5): RED})
        ),
        ImageCase("mpo_large", _large_mpo(), size=(1200, 1000), check=quadrants),
        ImageCase(
            "cmyk_jpeg",
            _cmyk_jpeg((0, 255, 255, 0), None),
            size=(32, 32),
            check=expect_colours({(0.5, 0.5): RED}),
        ),
        ImageCase(
            "cmyk_jpeg_icc",
            _cmyk_jpeg((0, 0, 0, 0), cmyk_profile_paper_is_blue()),
            size=(32, 32),
            check=expect_colours({(0.5, 0.5): BLUE}),
        ),
        ImageCase(
            "rgb_jpeg_non_srgb_icc",
            encode(
                Image.new("RGB", (32, 32), RED),
                "JPEG",
                quality=95,
                icc_profile=rgb_profile_red_blue_swapped(),
            ),
            size=(32, 32),
            check=expect_colours({(0.5, 0.5): BLUE}),
        ),
        ImageCase("grey16_png", _grey16_png(), size=(64, 16), check=_check_grey16_ramp),
        ImageCase(
            "grey16_tiff",
            _grey16_tiff(),
            size=(16, 16),
            check=expect_colours({(0.5, 0.5): (117, 117, 117)}, tolerance=1),
        ),
        ImageCase(
            "rgba_png",
            _rgba_png(),
            size=(40, 20),
            check=expect_colours(
                {(0.25, 0.5): WHITE, (0.75, 0.25): BLUE, (0.75, 0.75): (255, 127, 127)}, tolerance=2
            ),
        ),
        ImageCase(
            "palette_png_transparent",
            _palette_png(),
            size=(40, 20),
            check=expect_colours({(0.25, 0.5): WHITE, (0.75, 0.5): GREEN}, tolerance=0),
        ),
        ImageCase(
            "la_png",
            _la_png(),
            size=(40, 20),
            check=expect_colours({(0.25, 0.5): WHITE, (0.75, 0.5): (60, 60, 60)}, tolerance=0),
        ),
        ImageCase(
            "gif_transparent",
            _gif_with_transparency(),
            size=(40, 20),
            check=expect_colours({(0.25, 0.5): WHITE, (0.75, 0.5): RED}, tolerance=0),
        ),
        ImageCase("jpeg_exif_6", exif_jpeg(marker_image(60, 40), 6), size=(40, 60), check=rotated_right),
        ImageCase("jpeg_exif_8", exif_jpeg(marker_image(60, 40), 8), size=(40, 60), check=rotated_left),
        ImageCase(
            "jpeg_exif_6_large", exif_jpeg(white_exif_large, 6), size=(1600, 2400), check=rotated_right
        ),
        ImageCase(
            "progressive_jpeg",
            encode(quadrant_image(800, 600), "JPEG", progressive=True, quality=90),
            size=(800, 600),
            check=quadrants,
        ),
        ImageCase("webp", encode(quadrant_image(64, 48), "WEBP", quality=90), size=(64, 48), check=quadrants),
        ImageCase(
            "tiff",
            encode(quadrant_image(64, 48), "TIFF", compression="tiff_lzw"),
            size=(64, 48),
            check=quadrants,
        ),
        ImageCase("bmp", encode(quadrant_image(64, 48), "BMP"), size=(64, 48), check=quadrants),
        ImageCase(
            "grey_jpeg",
            encode(Image.new("L", (32, 32), 90), "JPEG"),
            size=(32, 32),
            check=expect_colours({(0.5, 0.5): (90, 90, 90)}, tolerance=3),
        ),
        ImageCase(
            "bilevel_png",
            encode(Image.new("1", (32, 32), 1), "PNG"),
            size=(32, 32),
            check=expect_colours({(0.5, 0.5): WHITE}, tolerance=0),
        ),
        ImageCase(
            "photo_12mp_jpeg",
            encode(quadrant_image(4000, 3000), "JPEG", quality=90),
            size=(4000, 3000),
            check=quadrants,
        ),
    ]
    names = [item.name for item in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return tuple(cases)


def bad_cases() -> tuple[ImageCase, ...]:
    return tuple(item for item in corpus() if not item.ok)


def good_cases() -> tuple[ImageCase, ...]:
    return tuple(item for item in corpus() if item.ok)


def case(name: str) -> ImageCase:
    for item in corpus():
        if item.name == name:
            return item
    raise KeyError(name)
