"""Reply markup checks, run on every send and edit that carries a ``reply_markup``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from . import errors

ACTION_FIELDS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100  # Telegram's documented limit is vague; about 100 buttons is what bots observe


def validate_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Refuse what Telegram refuses; return the markup a sent message echoes (inline keyboards only)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise errors.bad_request(errors.CANT_PARSE_REPLY_MARKUP)
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _validate_inline_keyboard(markup["inline_keyboard"])}
    if any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
        return None  # reply keyboards are shown by the client, never echoed in the Message
    raise errors.bad_request(errors.CANT_PARSE_REPLY_MARKUP)


def _validate_inline_keyboard(rows: Any) -> list[list[dict[str, Any]]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise errors.bad_request(errors.INLINE_KEYBOARD_NOT_ARRAY)
    if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
        raise errors.bad_request(errors.REPLY_MARKUP_TOO_LONG)
    return [[_validate_button(button) for button in row] for row in rows]


def _validate_button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise errors.bad_request(errors.INLINE_BUTTON_NOT_OBJECT)
    if not isinstance(button.get("text"), str):
        raise errors.bad_request(errors.BUTTON_TEXT_NOT_STRING)
    actions = [name for name in ACTION_FIELDS if name in button]
    if not actions:
        raise errors.bad_request(errors.TEXT_BUTTONS_UNALLOWED)
    if len(actions) > 1:
        raise errors.bad_request(errors.BUTTON_TYPE_INVALID)
    action = actions[0]
    value = button[action]
    if action == "callback_data" and not _valid_callback_data(value):
        raise errors.bad_request(errors.BUTTON_DATA_INVALID)
    if action == "url" and not _valid_button_url(value):
        raise errors.bad_request(errors.BUTTON_URL_INVALID)
    return {"text": button["text"], action: value}


def _valid_callback_data(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES


def _valid_button_url(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    parts = urlsplit(value)
    if parts.scheme == "tg":
        return bool(parts.netloc or parts.path)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def keyboard_signature(markup: dict[str, Any] | None) -> list[list[tuple[Any, Any, Any]]]:
    """Two keyboards are equal when every button has the same text, callback_data and url."""
    if not markup:
        return []
    return [
        [(button.get("text"), button.get("callback_data"), button.get("url")) for button in row]
        for row in markup.get("inline_keyboard", [])
    ]


def inline_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every inline button of a message, row by row."""
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def render_keyboard(markup: dict[str, Any] | None) -> str:
    """One readable line: ``[More → v1:p:ab:2 | Shop ↗ https://…] [Tops → v1:c:001]``."""
    if not markup:
        return ""
    rows = []
    for row in markup.get("inline_keyboard", []):
        cells = []
        for button in row:
            if "callback_data" in button:
                cells.append(f"{button['text']} → {button['callback_data']}")
            elif "url" in button:
                cells.append(f"{button['text']} ↗ {button['url']}")
            else:
                cells.append(button["text"])
        rows.append("[" + " | ".join(cells) + "]")
    return " ".join(rows)
