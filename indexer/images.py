"""Untrusted bytes → a clean RGB image, or an ``ImageError`` that can be shown to the user.

Every user photo and every catalog image passes through :func:`decode`, so index and query
see the same pixels. Cheap checks (bytes, header, pixel count, the memory the decode will
take) come before any pixel is decoded, and decodes share one process-wide memory budget
(``indexer.image_memory``). ``ImageError.code`` is stable: the bot maps it to its own texts.
"""

from __future__ import annotations

import functools
import io
import logging
import re
from typing import ClassVar

import numpy as np
from PIL import (
    BmpImagePlugin,  # noqa: F401  (registers the allowed formats without Image.init())
    GifImagePlugin,  # noqa: F401
    Image,
    ImageCms,
    ImageFile,
    ImageOps,
    JpegImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    TiffImagePlugin,  # noqa: F401
    UnidentifiedImageError,
    WebPImagePlugin,  # noqa: F401
)

from indexer.config import ImageSettings
from indexer.image_memory import MIB, DecodeBudget, decoded_bytes, shared_budget

log = logging.getLogger(__name__)

# Bump when a change here changes the pixels handed to the model: it is part of the model id.
DECODE_VERSION = 1
BASE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
MAX_ASPECT_RATIO = 100
# libjpeg decodes every scan of a progressive JPEG; thousands of tiny scans are a known
# CPU-exhaustion trick. Real progressive files have about 10.
MAX_JPEG_SCANS = 256
_DRAFTABLE = frozenset({"JPEG", "MPO"})
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})
_JPEG_SCALES = (1, 2, 4, 8)  # the DCT scalings libjpeg can decode at
_ORIENTATION = 0x0112
_DEFAULTS = ImageSettings()


class ImageError(Exception):
    """A decoding failure the user can be told about: a stable ``code`` plus a short message."""

    code: ClassVar[str] = "image_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmptyImageError(ImageError):
    """Zero bytes."""

    code = "empty"


class TooManyBytesError(ImageError):
    """More bytes than ``max_bytes``."""

    code = "too_many_bytes"


class NotAnImageError(ImageError):
    """No image signature at all (text, HTML, PDF, ZIP, video, …)."""

    code = "not_an_image"


class UnsupportedFormatError(ImageError):
    """An image, but not an allowed format (SVG, AVIF, PSD, HEIC without pillow-heif, …) or colour mode."""

    code = "unsupported_format"


class TooManyPixelsError(ImageError):
    """Width × height above ``max_pixels`` (decompression bombs)."""

    code = "too_many_pixels"


class TooBigToDecodeError(ImageError):
    """Decoding would take more memory than ``max_decoded_mb`` (e.g. a small PNG of 7000×7000 RGBA)."""

    code = "too_big"


class BadAspectRatioError(ImageError):
    """One side more than ``MAX_ASPECT_RATIO`` times the other."""

    code = "bad_aspect_ratio"


class TruncatedImageError(ImageError):
    """The file ends before the image data does."""

    code = "truncated"


class CorruptImageError(ImageError):
    """An allowed format whose header or data is damaged."""

    code = "corrupt"


# Every code ``decode`` may raise, in the order of the classes above.
ERROR_CODES: tuple[str, ...] = tuple(cls.code for cls in ImageError.__subclasses__())


@functools.cache
def allowed_formats() -> tuple[str, ...]:
    """The formats ``Image.open`` may try: the base list, plus HEIF when pillow-heif exists."""
    try:
        from pillow_heif import register_heif_opener  # type: ignore[import-not-found]
    except ImportError:
        return BASE_FORMATS
    register_heif_opener()
    return (*BASE_FORMATS, "HEIF")


def decode(
    data: bytes | bytearray | memoryview,
    *,
    max_bytes: int,
    max_pixels: int,
    draft_size: int | None = None,
    max_decoded_bytes: int = _DEFAULTS.max_decoded_mb * MIB,
    budget: DecodeBudget | None = None,
) -> Image.Image:
    """Decode untrusted bytes into a fully loaded RGB image, or raise an ``ImageError``.

    ``draft_size`` (pixels, usually twice the model's input side) lets large images decode
    near that size: JPEG through libjpeg's DCT scaling, other formats by an integer box
    reduction. The short side stays at least ``draft_size``. Use the same value for index
    and query (``ImageDecoder`` does).

    A decode whose peak memory (estimated from the header) exceeds ``max_decoded_bytes`` is
    refused, except a JPEG, which is decoded at the largest DCT scaling that fits. The decode
    then waits for that much of ``budget`` (default: the process's budget of ``[images]
    decode_budget_mb``) to be free.
    """
    size = len(data)
    if size == 0:
        raise EmptyImageError("the file is empty")
    if size > max_bytes:
        raise TooManyBytesError(f"the file is {_megabytes(size)}; the limit is {_megabytes(max_bytes)}")
    payload = data if isinstance(data, bytes) else bytes(data)
    opened = _open(payload)
    try:
        return _decode_opened(
            opened,
            payload,
            max_pixels=max_pixels,
            draft_size=draft_size,
            max_decoded_bytes=max_decoded_bytes,
            budget=budget or shared_budget(_DEFAULTS.decode_budget_mb * MIB),
        )
    finally:
        opened.close()


class ImageDecoder:
    """``decode`` with the limits and memory budget from ``[images]`` and the draft size of one model."""

    def __init__(self, settings: ImageSettings, target_size: int | None) -> None:
        self.max_bytes = settings.max_bytes
        self.max_pixels = settings.max_pixels
        self.max_decoded_bytes = settings.max_decoded_mb * MIB
        self.budget = shared_budget(settings.decode_budget_mb * MIB)
        self.draft_size = 2 * target_size if target_size else None

    def decode(self, data: bytes | bytearray | memoryview) -> Image.Image:
        return decode(
            data,
            max_bytes=self.max_bytes,
            max_pixels=self.max_pixels,
            draft_size=self.draft_size,
            max_decoded_bytes=self.max_decoded_bytes,
            budget=self.budget,
        )


def _decode_opened(
    opened: ImageFile.ImageFile,
    data: bytes,
    *,
    max_pixels: int,
    draft_size: int | None,
    max_decoded_bytes: int,
    budget: DecodeBudget,
) -> Image.Image:
    _check_dimensions(opened.size, max_pixels)
    image_format = opened.format or ""
    if image_format in _DRAFTABLE:
        _check_jpeg_scans(data)
    try:
        if getattr(opened, "is_animated", False):
            opened.seek(0)
        memory = _fit_memory(opened, image_format, draft_size, max_decoded_bytes)
        with budget.reserve(memory):
            try:
                opened.load()
                _apply_orientation(opened)
                image = _to_rgb(opened)
                if draft_size:
                    image = _reduce(image, draft_size)
                # Detach the result from the BytesIO (and the caller's bytes) that `opened` holds.
                return image.copy() if image is opened else image
            finally:
                opened.close()  # frees the full-size pixels before the share is given back
    except ImageError:
        raise
    except Exception as exc:
        raise _load_failure(exc) from exc


def decode_memory(
    opened: ImageFile.ImageFile, draft_size: int | None, size: tuple[int, int] | None = None
) -> int:
    """Peak bytes decoding ``opened`` (not yet loaded) will take, from its header.

    ``size`` is the size it will load at, when not ``opened.size`` (a JPEG draft not applied yet).
    """
    image_format = opened.format or ""
    size = size or opened.size
    reduce_factor = min(size) // draft_size if draft_size else 1
    return decoded_bytes(
        opened.mode,
        size,
        transparency="transparency" in opened.info,
        colour_profile=bool(opened.info.get("icc_profile")),
        transposed=_orientation(opened) not in (None, 1),
        decoder_buffer=image_format == "WEBP",
        reduce_factor=max(reduce_factor, 1),
    )


def _fit_memory(
    opened: ImageFile.ImageFile, image_format: str, draft_size: int | None, max_decoded_bytes: int
) -> int:
    """Draft ``opened`` as asked, and smaller for a JPEG that would not fit; refuse what still does not."""
    original = opened.size
    if image_format in _DRAFTABLE:
        wanted = _jpeg_scale(original, draft_size)
        scale = next(
            (
                s
                for s in _JPEG_SCALES
                if s >= wanted and _jpeg_memory(opened, s, draft_size) <= max_decoded_bytes
            ),
            wanted,
        )
        if scale == wanted and draft_size:
            opened.draft("RGB", (draft_size, draft_size))  # exactly as before the budget: same pixels
        elif scale > 1:
            opened.draft("RGB", (max(original[0] // scale, 1), max(original[1] // scale, 1)))
    memory = decode_memory(opened, draft_size)
    if memory > max_decoded_bytes:
        width, height = original
        raise TooBigToDecodeError(
            f"the image ({width}×{height} {opened.mode}) would take {_mebibytes(memory)} of memory "
            f"to decode; the limit is {_mebibytes(max_decoded_bytes)}"
        )
    return memory


def _jpeg_scale(size: tuple[int, int], draft_size: int | None) -> int:
    """The DCT scaling Pillow's ``draft`` picks for ``draft_size`` (1 without a draft size)."""
    if not draft_size:
        return 1
    ratio = min(size[0] // draft_size, size[1] // draft_size)
    return max(s for s in _JPEG_SCALES if s <= max(ratio, 1))


def _jpeg_memory(opened: ImageFile.ImageFile, scale: int, draft_size: int | None) -> int:
    width, height = opened.size
    return decode_memory(opened, draft_size, (-(-width // scale), -(-height // scale)))


def _orientation(opened: ImageFile.ImageFile) -> int | None:
    """The EXIF orientation the header already holds (never loads pixels to find it)."""
    raw = opened.info.get("exif")
    if not raw:
        return None
    try:
        exif = Image.Exif()
        exif.load(raw if isinstance(raw, bytes) else bytes(raw))
        value = exif.get(_ORIENTATION)
    except Exception:
        return None
    return value if isinstance(value, int) else None


def _open(data: bytes) -> ImageFile.ImageFile:
    try:
        return Image.open(io.BytesIO(data), formats=allowed_formats())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(exc) from exc
    except UnidentifiedImageError:
        raise _classify_unidentified(data) from None
    except Exception as exc:
        # A plugin accepted the first bytes but failed on the header (e.g. text starting "BM").
        log.debug("image header unreadable: %r", exc)
        raise _classify_unidentified(data) from exc


def _check_dimensions(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise CorruptImageError(f"the image claims to be {width}×{height} pixels")
    if width * height > max_pixels:
        raise TooManyPixelsError(
            f"the image is {width}×{height} pixels ({_megapixels(width * height)}); "
            f"the limit is {_megapixels(max_pixels)}"
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise BadAspectRatioError(
            f"the image is {width}×{height} pixels; "
            f"one side may be at most {MAX_ASPECT_RATIO} times the other"
        )


def _check_jpeg_scans(data: bytes) -> None:
    # 0xFF inside entropy-coded data is always byte-stuffed, so FFDA only marks a scan start.
    scans = data.count(b"\xff\xda")
    if scans > MAX_JPEG_SCANS:
        raise CorruptImageError(f"the JPEG has {scans} scans; at most {MAX_JPEG_SCANS} are accepted")


def _apply_orientation(image: Image.Image) -> None:
    """Rotate/flip per EXIF Orientation, in place; a broken EXIF block only loses the rotation."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception as exc:
        log.debug("ignoring unreadable EXIF orientation: %r", exc)


def _to_rgb(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode == "CMYK":
        return _cmyk_to_rgb(image)
    if mode in _SIXTEEN_BIT_MODES:
        return _sixteen_bit_grey_to_rgb(image)
    if mode == "F":
        return image.convert("L").convert("RGB")
    if mode in _ALPHA_MODES or (mode in {"P", "L", "RGB", "1"} and "transparency" in image.info):
        rgb = _flatten_onto_white(image)
    elif mode == "RGB":
        rgb = image
    elif mode in {"P", "1", "L", "RGBX", "YCbCr"}:
        rgb = image.convert("RGB")
    else:
        raise UnsupportedFormatError(f"the image uses the {mode} colour mode, which is not supported")
    return _to_srgb(rgb, image.info.get("icc_profile"))


def _flatten_onto_white(image: Image.Image) -> Image.Image:
    """Composite onto white: a plain convert('RGB') shows whatever lies under transparency."""
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    white = Image.new("RGB", rgba.size, (255, 255, 255))
    white.paste(rgba, (0, 0), rgba)
    return white


def _sixteen_bit_grey_to_rgb(image: Image.Image) -> Image.Image:
    """Scale 16-bit grey to 8 bits; convert('RGB') would clip everything above 255 to white."""
    values = np.asarray(image)
    if values.dtype.kind == "i":
        values = np.clip(values, 0, 65535)
    grey = (values.astype(np.uint32) >> 8).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    transform = _icc_transform(image.info.get("icc_profile") or b"", "CMYK")
    if transform is not None:
        try:
            return transform.apply(image)
        except Exception as exc:
            log.debug("CMYK ICC conversion failed, using the naive one: %r", exc)
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert RGB with an embedded non-sRGB profile (e.g. Display-P3) to sRGB."""
    if not icc_profile:
        return image
    transform = _icc_transform(icc_profile, "RGB")
    if transform is None:
        return image
    try:
        return transform.apply(image)
    except Exception as exc:
        log.debug("RGB ICC conversion failed, keeping the pixels as they are: %r", exc)
        return image


@functools.lru_cache(maxsize=32)
def _icc_transform(icc_profile: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A cached profile → sRGB transform, or None when not needed or not usable.

    NOCACHE disables littleCMS's one-pixel cache, which makes a shared transform safe to
    use from several threads at once.
    """
    if not icc_profile:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        colour_space = profile.profile.xcolor_space.strip()
        expected = "CMYK" if mode == "CMYK" else "RGB"
        if colour_space != expected:
            return None
        if mode == "RGB" and "srgb" in (profile.profile.profile_description or "").lower():
            return None
        return ImageCms.buildTransform(profile, _srgb_profile(), mode, "RGB", flags=ImageCms.Flags.NOCACHE)
    except Exception as exc:
        log.debug("unusable embedded ICC profile: %r", exc)
        return None


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _reduce(image: Image.Image, draft_size: int) -> Image.Image:
    factor = min(image.size) // draft_size
    return image.reduce(factor) if factor >= 2 else image


def _load_failure(exc: BaseException) -> ImageError:
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return _bomb(exc)
    log.debug("image data unreadable: %r", exc)
    if isinstance(exc, OSError) and "truncated" in str(exc):
        return TruncatedImageError("the file is incomplete (it ends before the image does)")
    return CorruptImageError("the image data is damaged and cannot be read")


def _bomb(exc: BaseException) -> TooManyPixelsError:
    match = re.search(r"\((\d+) pixels\)", str(exc))
    if match:
        return TooManyPixelsError(f"the image has {_megapixels(int(match.group(1)))}; it is far too large")
    return TooManyPixelsError("the image has far too many pixels")


# Signatures of formats Pillow's allow-list accepts: such data is damaged, not foreign.
_ALLOWED_SIGNATURES = (
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
    b"MM\x00+",
)
_OTHER_IMAGE_SIGNATURES = (
    b"8BPS",  # Photoshop
    b"\x00\x00\x01\x00",  # ICO
    b"\x00\x00\x02\x00",  # CUR
    b"\x00\x00\x00\x0cjP  \r\n\x87\n",  # JPEG 2000
    b"\xff\x4f\xff\x51",  # JPEG 2000 codestream
    b"\x00\x00\x00\x0cJXL \r\n\x87\n",  # JPEG XL container
    b"\xff\x0a",  # JPEG XL codestream
    b"qoif",
    b"icns",
    b"DDS ",
    b"v/1\x01",  # OpenEXR
    b"SIMPLE  =",  # FITS
    b"%!PS-Adobe",  # EPS
    b"\xc5\xd0\xd3\xc6",  # DOS EPS
)
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_SVG = re.compile(rb"<svg[\s>]", re.IGNORECASE)


def _classify_unidentified(data: bytes) -> ImageError:
    """Pillow found no allowed format: damaged allowed image, other image format, or no image."""
    head = data[:64]
    if head.startswith(_ALLOWED_SIGNATURES) or _is_webp(head) or _is_bmp(head):
        return CorruptImageError("the image header is damaged")
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return UnsupportedFormatError("HEIC/HEIF images are not supported here; send a JPEG or PNG")
        if brand in _AVIF_BRANDS:
            return UnsupportedFormatError("AVIF images are not supported; send a JPEG or PNG")
        return NotAnImageError("this file is a video or other media, not an image")
    if head.startswith(_OTHER_IMAGE_SIGNATURES):
        return UnsupportedFormatError("this image format is not supported; send a JPEG, PNG or WebP")
    if _SVG.search(data[:4096]):
        return UnsupportedFormatError("SVG drawings are not supported; send a photo (JPEG, PNG or WebP)")
    return NotAnImageError("this file is not an image")


def _is_webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _is_bmp(head: bytes) -> bool:
    # "BM" alone is too weak (text can start with it): also require a known DIB header size.
    return (
        head[:2] == b"BM"
        and len(head) >= 18
        and int.from_bytes(head[14:18], "little")
        in {
            12,
            16,
            40,
            52,
            56,
            64,
            108,
            124,
        }
    )


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _mebibytes(size: int) -> str:
    return f"{size / MIB:.0f} MiB"


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f} MP" if pixels >= 100_000 else f"{pixels} pixels"
