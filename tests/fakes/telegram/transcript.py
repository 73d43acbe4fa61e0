"""A chat's conversation as readable lines, for assertions and for failure messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .keyboards import render_keyboard

if TYPE_CHECKING:
    from .server import Call
    from .state import FakeState


def _one_line(text: str) -> str:
    return text.replace("\n", " ⏎ ")


def _with_keyboard(line: str, message: dict[str, Any]) -> str:
    keyboard = render_keyboard(message.get("reply_markup"))
    return f"{line}  {keyboard}" if keyboard else line


def _media(message: dict[str, Any]) -> str:
    if "photo" in message:
        largest = message["photo"][-1]
        described = f"photo {largest['width']}x{largest['height']}"
    elif "document" in message:
        document = message["document"]
        described = f"document {document.get('file_name', '?')} ({document.get('mime_type', '?')})"
    else:
        described = "media"
    caption = message.get("caption")
    return f"{described}: {_one_line(caption)}" if caption else described


def _user_input(update: dict[str, Any]) -> str:
    if "callback_query" in update:
        query = update["callback_query"]
        return f"» press #{query['message']['message_id']}: {query['data']}"
    message = update.get("message", {})
    if "text" in message:
        return f"» {_one_line(message['text'])}"
    kind = next((k for k in ("photo", "document", "sticker", "video", "voice") if k in message), "message")
    caption = f": {_one_line(message['caption'])}" if message.get("caption") else ""
    return f"» [{kind}]{caption}"


def _update_chat(update: dict[str, Any]) -> int | None:
    if "callback_query" in update:
        return update["callback_query"]["message"]["chat"]["id"]
    message = update.get("message")
    return message["chat"]["id"] if message else None


def _call_chat(call: Call, state: FakeState) -> int | None:
    if call.method == "answerCallbackQuery":
        query = state.callback_queries.get(str(call.params.get("callback_query_id")))
        return query.chat_id if query else None
    chat_id = call.params.get("chat_id")
    return chat_id if isinstance(chat_id, int) else None


def _describe(call: Call) -> list[str]:
    result = call.result
    method = call.method
    if method == "sendMessage":
        return [_with_keyboard(f"sendMessage #{result['message_id']}: {_one_line(result['text'])}", result)]
    if method in ("sendPhoto", "sendDocument"):
        return [_with_keyboard(f"{method} #{result['message_id']}: {_media(result)}", result)]
    if method == "sendMediaGroup":
        ids = [m["message_id"] for m in result]
        lines = [f"sendMediaGroup #{ids[0]}-#{ids[-1]}: {len(result)} items"]
        return lines + [f"  #{m['message_id']} {_media(m)}" for m in result]
    if method == "sendChatAction":
        return [f"sendChatAction: {call.params.get('action')}"]
    if method == "editMessageText":
        return [
            _with_keyboard(f"editMessageText #{result['message_id']}: {_one_line(result['text'])}", result)
        ]
    if method in ("editMessageCaption", "editMessageMedia"):
        return [_with_keyboard(f"{method} #{result['message_id']}: {_media(result)}", result)]
    if method == "editMessageReplyMarkup":
        keyboard = render_keyboard(result.get("reply_markup")) or "(keyboard removed)"
        return [f"editMessageReplyMarkup #{result['message_id']}: {keyboard}"]
    if method == "deleteMessage":
        return [f"deleteMessage #{call.params.get('message_id')}"]
    if method == "answerCallbackQuery":
        text = call.params.get("text") or ""
        alert = " (alert)" if call.params.get("show_alert") else ""
        return [f"answerCallbackQuery: {text!r}{alert}" if text else "answerCallbackQuery"]
    return []


def chat_transcript(
    chat_id: int,
    calls: Sequence[Call],
    pushed: Sequence[tuple[int, dict[str, Any]]],
    state: FakeState,
    *,
    include_user: bool,
) -> list[str]:
    """The bot's successful calls for ``chat_id`` in order; with ``include_user``, the user's input too."""
    lines: list[str] = []
    inputs = [(position, update) for position, update in pushed if _update_chat(update) == chat_id]
    next_input = 0
    for call in calls:
        while include_user and next_input < len(inputs) and inputs[next_input][0] <= call.index:
            lines.append(_user_input(inputs[next_input][1]))
            next_input += 1
        if call.ok and _call_chat(call, state) == chat_id:
            lines.extend(_describe(call))
    if include_user:
        lines.extend(_user_input(update) for _, update in inputs[next_input:])
    return lines
