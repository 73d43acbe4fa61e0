"""Reading a Bot API request the way the server does: form fields, multipart parts, query, JSON bodies.

PTB never sends JSON bodies: a ``str`` goes as is and any other value is ``json.dumps``-ed into a form
field. JSON bodies (other clients) are read into the same text form, so both parse alike.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import errors

# Fields whose text is JSON (decoded for the call record and by the methods).
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "media",
        "commands",
        "allowed_updates",
        "reply_parameters",
        "scope",
        "link_preview_options",
        "entities",
        "caption_entities",
    }
)
INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "reply_to_message_id",
        "user_id",
        "message_thread_id",
    }
)
_LEADING_INT = re.compile(r"\s*[-+]?[0-9]+")
BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_caption_above_media",
        "disable_content_type_detection",
        "allow_paid_broadcast",
    }
)


@dataclass(frozen=True)
class UploadedFile:
    """One multipart file part, read into memory."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    def __repr__(self) -> str:  # bytes would flood assertion messages
        return (
            f"UploadedFile({self.field!r}, {self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"
        )


@dataclass(frozen=True)
class ParsedRequest:
    """A request's fields as text (``raw``), decoded for assertions (``params``), and its file parts."""

    raw: dict[str, str]
    params: dict[str, Any]
    files: dict[str, UploadedFile]


async def read_request(request: web.Request) -> ParsedRequest:
    """Merge the query string and the body (url-encoded, multipart or JSON); the body wins on a clash."""
    raw: dict[str, str] = {key: value for key, value in request.query.items()}
    files: dict[str, UploadedFile] = {}
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            raw.update(_json_body_fields(await request.read()))
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    with value.file:
                        files[key] = UploadedFile(key, value.filename, value.content_type, value.file.read())
                else:
                    raw[key] = str(value)
    return ParsedRequest(raw=raw, params=decode_fields(raw), files=files)


def _json_body_fields(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.bad_request(errors.CANT_PARSE_JSON_REQUEST) from exc
    if not isinstance(data, dict):
        raise errors.bad_request(errors.CANT_PARSE_JSON_REQUEST)
    return {str(key): value if isinstance(value, str) else json.dumps(value) for key, value in data.items()}


def decode_fields(raw: dict[str, str]) -> dict[str, Any]:
    """JSON-decode object fields, coerce integer and boolean fields; keep what does not parse as text."""
    decoded: dict[str, Any] = {}
    for key, text in raw.items():
        value: Any = text
        if key in JSON_FIELDS:
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = text
        elif key in INT_FIELDS:
            value = parse_int(text, default=text)
        elif key in BOOL_FIELDS:
            value = parse_bool(text)
        decoded[key] = value
    return decoded


def parse_int(text: str, default: Any = None) -> Any:
    try:
        return int(text.strip())
    except ValueError:
        return default


def parse_bool(text: str) -> bool:
    return text.strip().lower() in {"true", "1"}


class Params:
    """Typed access to one request's fields, raising Telegram's refusals for bad values."""

    def __init__(self, parsed: ParsedRequest) -> None:
        self.raw = parsed.raw
        self.files = parsed.files

    def has(self, name: str) -> bool:
        return name in self.raw

    def text(self, name: str) -> str | None:
        return self.raw.get(name)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """Read as TDLib's ``to_integer`` reads: the leading digits ("1.5" is 1), 0 when there are none."""
        if name not in self.raw or self.raw[name] == "":
            return default
        match = _LEADING_INT.match(self.raw[name])
        return int(match.group(0)) if match else 0

    def boolean(self, name: str) -> bool:
        return parse_bool(self.raw.get(name, ""))

    def json(self, name: str, error: str) -> Any:
        """The decoded field, ``None`` when absent or JSON ``null``; ``error`` when it is not JSON."""
        text = self.raw.get(name)
        if text is None or text == "":
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise errors.bad_request(error) from exc

    def chat_id(self) -> int:
        """A numeric chat id; usernames (``@name``) are never known chats here."""
        text = (self.raw.get("chat_id") or "").strip()
        if text.startswith("@") and len(text) > 1:
            raise errors.bad_request(errors.CHAT_NOT_FOUND)
        chat_id = parse_int(text, default=0)
        if not chat_id:
            raise errors.bad_request(errors.CHAT_ID_EMPTY)
        return chat_id

    def file(self, name: str) -> UploadedFile | None:
        return self.files.get(name)
