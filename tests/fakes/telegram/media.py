"""Files as Telegram keeps them: ids, photo sizes, download paths, limits, and the image checks.

Image dimensions come from the file header, so probing never decodes a whole (possibly huge) image.
Smaller photo sizes are rendered only when downloaded; the largest size keeps the exact bytes given.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from . import errors

PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024
PHOTO_URL_LIMIT = 5 * 1024 * 1024
URL_FILE_LIMIT = 20 * 1024 * 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024
THUMBNAIL_SIDES = (90, 320, 800)  # Telegram's "s", "m" and "x" sizes
LARGEST_SIDE = 2560  # Telegram's "w" size: bigger photos are scaled down
MAX_PHOTO_DIMENSION_SUM = 10_000
MAX_PHOTO_ASPECT_RATIO = 20

# Real file_ids are long base64 strings whose prefix tells the type; keeping them realistic catches bots
# that try to put a file_id into 64-byte callback_data.
_FILE_ID_PREFIX = {
    "photo": "AgACAgIAAxkBAA",
    "document": "BQACAgIAAxkBAA",
    "sticker": "CAACAgIAAxkBAA",
    "video": "BAACAgIAAxkBAA",
    "voice": "AwACAgIAAxkBAA",
}
_PATH_FOLDER = {
    "photo": "photos",
    "document": "documents",
    "sticker": "stickers",
    "video": "videos",
    "voice": "voice",
}
_TYPE_NAME = {
    "photo": "Photo",
    "document": "Document",
    "sticker": "Sticker",
    "video": "Video",
    "voice": "VoiceNote",
}


@dataclass
class StoredFile:
    """One downloadable file; a photo has one per size."""

    file_id: str
    file_unique_id: str
    kind: str
    file_size: int
    data: bytes | None = None  # None: a smaller photo size, rendered from ``source`` on first download
    source: bytes | None = None
    box: tuple[int, int] | None = None
    mime_type: str | None = None
    file_name: str | None = None
    extension: str = "jpg"
    file_path: str | None = None
    photo_sizes: list[dict[str, Any]] = field(default_factory=list)  # the whole photo this size belongs to

    @property
    def type_name(self) -> str:
        return _TYPE_NAME[self.kind]


class FileStore:
    """Every file the fake knows, by file_id and by the path getFile handed out."""

    def __init__(self) -> None:
        self._files: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._path_numbers = itertools.count(1)
        self._checked_photos: dict[bytes, tuple[int, int]] = {}

    def clear(self) -> None:
        """Forget files (reset); path numbers keep counting so old paths never point at new files."""
        self._files.clear()
        self._by_path.clear()

    def get(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)

    def _new_ids(self, kind: str) -> tuple[str, str]:
        file_id = _FILE_ID_PREFIX[kind] + base64.urlsafe_b64encode(secrets.token_bytes(45)).decode()
        unique = "AQAD" + base64.urlsafe_b64encode(secrets.token_bytes(9)).decode()
        return file_id, unique

    def add_photo(
        self, data: bytes, dimensions: tuple[int, int], *, file_size: int | None = None
    ) -> list[dict[str, Any]]:
        """Store a photo; return its ascending PhotoSize list. The largest size keeps the exact bytes."""
        width, height = dimensions
        sizes: list[dict[str, Any]] = []
        records: list[StoredFile] = []
        for side in THUMBNAIL_SIDES:
            if max(width, height) > side:
                records.append(self._photo_size(data, scale_to(width, height, side), (width, height)))
        if max(width, height) > LARGEST_SIDE:
            records.append(self._photo_size(data, scale_to(width, height, LARGEST_SIDE), (width, height)))
        else:
            file_id, unique = self._new_ids("photo")
            records.append(StoredFile(file_id, unique, "photo", len(data), data=data, box=(width, height)))
        if file_size is not None:
            records[-1].file_size = file_size
        for record in records:
            assert record.box is not None
            sizes.append(
                {
                    "file_id": record.file_id,
                    "file_unique_id": record.file_unique_id,
                    "width": record.box[0],
                    "height": record.box[1],
                    "file_size": record.file_size,
                }
            )
        for record in records:
            record.photo_sizes = sizes
            self._files[record.file_id] = record
        return sizes

    def _photo_size(self, source: bytes, box: tuple[int, int], original: tuple[int, int]) -> StoredFile:
        file_id, unique = self._new_ids("photo")
        ratio = (box[0] * box[1]) / max(original[0] * original[1], 1)
        estimated = max(256, int(len(source) * ratio))
        return StoredFile(file_id, unique, "photo", estimated, source=source, box=box)

    def add_file(
        self,
        kind: str,
        data: bytes,
        *,
        mime_type: str | None,
        file_name: str | None = None,
        file_size: int | None = None,
        extension: str = "bin",
    ) -> StoredFile:
        file_id, unique = self._new_ids(kind)
        record = StoredFile(
            file_id,
            unique,
            kind,
            len(data) if file_size is None else file_size,
            data=data,
            mime_type=mime_type,
            file_name=file_name,
            extension=extension,
        )
        self._files[file_id] = record
        return record

    def assign_path(self, record: StoredFile) -> str:
        """Telegram-style relative path (``photos/file_12.jpg``), stable once assigned by getFile."""
        if record.file_path is None:
            record.file_path = (
                f"{_PATH_FOLDER[record.kind]}/file_{next(self._path_numbers)}.{record.extension}"
            )
            self._by_path[record.file_path] = record
        return record.file_path

    def content(self, record: StoredFile) -> bytes:
        if record.data is None:
            assert record.source is not None and record.box is not None
            record.data = render_thumbnail(record.source, record.box)
        return record.data

    def checked_photo(self, data: bytes) -> tuple[int, int]:
        """Dimensions of a photo a bot uploads, refusing it as Telegram's servers would."""
        digest = hashlib.sha1(data).digest()
        if digest not in self._checked_photos:
            self._checked_photos[digest] = check_photo(data)
        return self._checked_photos[digest]


def scale_to(width: int, height: int, side: int) -> tuple[int, int]:
    """Fit ``width`` x ``height`` into a ``side`` x ``side`` box, keeping the aspect ratio."""
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def render_thumbnail(source: bytes, box: tuple[int, int]) -> bytes:
    """A JPEG of the given size; the source itself when it cannot be decoded (a test's corrupt photo)."""
    try:
        with Image.open(io.BytesIO(source)) as image:
            image.draft("RGB", box)
            small = image.convert("RGB").resize(box)
    except (OSError, ValueError, Image.DecompressionBombError):
        return source
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()


def check_photo(data: bytes) -> tuple[int, int]:
    """Refuse an uploaded photo as Telegram does: empty, over 10 MB, not an image, bad dimensions."""
    if not data:
        raise errors.bad_request(errors.FILE_EMPTY)
    if len(data) > PHOTO_UPLOAD_LIMIT:
        raise errors.bad_request(errors.FILE_TOO_BIG)
    dimensions = image_size(data)
    if dimensions is None:
        raise errors.bad_request(errors.IMAGE_PROCESS_FAILED)
    width, height = dimensions
    if width + height > MAX_PHOTO_DIMENSION_SUM or max(width, height) > MAX_PHOTO_ASPECT_RATIO * min(
        width, height
    ):
        raise errors.bad_request(errors.PHOTO_INVALID_DIMENSIONS)
    if not _decodes(data, dimensions):
        raise errors.bad_request(errors.IMAGE_PROCESS_FAILED)
    return dimensions


def _decodes(data: bytes, dimensions: tuple[int, int]) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (max(1, dimensions[0] // 8), max(1, dimensions[1] // 8)))
            image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return True


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the header of a JPEG, PNG, GIF, WebP or BMP file; ``None`` otherwise."""
    try:
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return _positive(width, height)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            width, height = struct.unpack("<HH", data[6:10])
            return _positive(width, height)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
        if data[:2] == b"BM":
            width, height = struct.unpack("<ii", data[18:26])
            return _positive(width, abs(height))
    except struct.error:
        return None
    return None


def _positive(width: int, height: int) -> tuple[int, int] | None:
    return (width, height) if width > 0 and height > 0 else None


_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            index += 1
            continue
        marker = data[index + 1]
        if marker == 0xFF:
            index += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            index += 2
            continue
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if marker in _SOF_MARKERS:
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return _positive(width, height)
        index += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return _positive(width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return _positive((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return _positive(width, height)
    return None


def sniff_mime(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF"):
        return "application/pdf"
    return "application/octet-stream"


def wrong_type(record: StoredFile, wanted: str) -> errors.ApiError:
    return errors.bad_request(errors.WRONG_FILE_TYPE.format(actual=record.type_name, wanted=wanted))
