"""Files a bot sends: uploads, ``attach://`` parts, file_ids and HTTP URLs, checked as Telegram checks them.

Checking and storing are separate steps, so a refused album stores none of its files.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from . import errors
from .media import PHOTO_URL_LIMIT, URL_FILE_LIMIT, StoredFile, check_photo, sniff_mime, wrong_type
from .request import UploadedFile
from .state import FakeState

DOCUMENT_UPLOAD_LIMIT = 50 * 1024 * 1024


@dataclass(frozen=True)
class NewPhoto:
    """A photo checked but not stored yet: either new bytes or sizes Telegram already has."""

    data: bytes | None = None
    dimensions: tuple[int, int] | None = None
    sizes: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class NewDocument:
    upload: UploadedFile | None = None
    data: bytes | None = None
    mime_type: str | None = None
    file_name: str | None = None
    existing: dict[str, Any] | None = None


class FileInputs:
    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.files = state.files

    def photo(
        self,
        reference: str | None,
        upload: UploadedFile | None,
        parts: dict[str, UploadedFile],
        *,
        missing: str,
    ) -> NewPhoto:
        """Check a photo given as an upload, ``attach://part``, a file_id or an HTTP URL."""
        if upload is None and reference and reference.startswith("attach://"):
            upload = parts.get(reference.removeprefix("attach://"))
            if upload is None:
                raise errors.bad_request(missing)
        if upload is not None:
            return NewPhoto(data=upload.data, dimensions=self.files.checked_photo(upload.data))
        if not reference:
            raise errors.bad_request(missing)
        known = self.files.get(reference)
        if known is not None:
            if known.kind != "photo":
                raise wrong_type(known, "Photo")
            return NewPhoto(sizes=known.photo_sizes)
        if _is_url(reference):
            data, content_type = self._fetch(reference, PHOTO_URL_LIMIT)
            if not data or not content_type.startswith("image/"):
                raise errors.bad_request(errors.URL_WRONG_CONTENT_TYPE)
            return NewPhoto(data=data, dimensions=check_photo(data))
        raise errors.bad_request(errors.WRONG_FILE_ID_OR_URL)

    def store_photo(self, photo: NewPhoto) -> list[dict[str, Any]]:
        if photo.sizes is not None:
            return copy.deepcopy(photo.sizes)
        assert photo.data is not None and photo.dimensions is not None
        return copy.deepcopy(self.files.add_photo(photo.data, photo.dimensions))

    def document(
        self,
        reference: str | None,
        upload: UploadedFile | None,
        parts: dict[str, UploadedFile],
        *,
        missing: str,
    ) -> NewDocument:
        if upload is None and reference and reference.startswith("attach://"):
            upload = parts.get(reference.removeprefix("attach://"))
            if upload is None:
                raise errors.bad_request(missing)
        if upload is not None:
            if not upload.data:
                raise errors.bad_request(errors.FILE_EMPTY)
            if len(upload.data) > DOCUMENT_UPLOAD_LIMIT:
                raise errors.ApiError(413, errors.ENTITY_TOO_LARGE)
            return NewDocument(upload=upload)
        if not reference:
            raise errors.bad_request(missing)
        known = self.files.get(reference)
        if known is not None:
            if known.kind != "document":
                raise wrong_type(known, "Document")
            return NewDocument(existing=document_json(known))
        if _is_url(reference):
            data, content_type = self._fetch(reference, URL_FILE_LIMIT)
            if not data or content_type not in ("application/pdf", "application/zip"):
                raise errors.bad_request(errors.URL_WRONG_CONTENT_TYPE)
            name = reference.rstrip("/").rsplit("/", 1)[-1] or "file"
            return NewDocument(data=data, mime_type=content_type, file_name=name)
        raise errors.bad_request(errors.WRONG_FILE_ID_OR_URL)

    def store_document(self, document: NewDocument) -> dict[str, Any]:
        if document.existing is not None:
            return dict(document.existing)
        if document.upload is not None:
            data = document.upload.data
            name = document.upload.filename or "file"
            mime = document.upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = sniff_mime(data)
        else:
            assert document.data is not None
            data, name, mime = document.data, document.file_name or "file", document.mime_type
        extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
        record = self.files.add_file("document", data, mime_type=mime, file_name=name, extension=extension)
        return document_json(record)

    def store(self, checked: NewPhoto | NewDocument) -> Any:
        """Store a checked file; the ``photo`` or ``document`` field of the Message."""
        return self.store_photo(checked) if isinstance(checked, NewPhoto) else self.store_document(checked)

    def _fetch(self, url: str, limit: int) -> tuple[bytes, str]:
        """What Telegram's servers would download from ``url``: only URLs the test registered exist."""
        self.state.url_fetches.append(url)
        registered = self.state.urls.get(url)
        if registered is None or len(registered.data) > limit:
            raise errors.bad_request(errors.URL_CONTENT_FAILED)
        return registered.data, registered.content_type


def _is_url(reference: str) -> bool:
    """As TDLib reads it: a file reference containing a dot is an HTTP URL (file_ids never contain one)."""
    return "." in reference or "://" in reference


def document_json(record: StoredFile) -> dict[str, Any]:
    data: dict[str, Any] = {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": record.file_size,
    }
    if record.file_name:
        data["file_name"] = record.file_name
    if record.mime_type:
        data["mime_type"] = record.mime_type
    return data
