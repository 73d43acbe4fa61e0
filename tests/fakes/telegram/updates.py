"""Updates a user's actions produce: messages, photos, albums, documents, stickers, videos, voice, presses.

Shapes are what Telegram delivers and what PTB's ``de_json`` needs: int ``date``, ``chat {id, type}``,
``from`` with ``language_code``, entity offsets in UTF-16 units, ascending photo sizes.
"""

from __future__ import annotations

import copy
import io
from typing import Any

from PIL import Image

from . import media
from .formatting import user_entities
from .keyboards import inline_buttons
from .polling import UpdateQueue
from .state import CallbackQueryState, FakeState, FakeUser

UserRef = FakeUser | int | None


class UpdateFactory:
    def __init__(self, state: FakeState, queue: UpdateQueue) -> None:
        self.state = state
        self.queue = queue

    def _author(
        self, chat: int | FakeUser, user: UserRef, language_code: str | None
    ) -> tuple[dict[str, Any], FakeUser]:
        chat_id = chat.id if isinstance(chat, FakeUser) else chat
        if isinstance(chat, FakeUser):
            self.state.users.setdefault(chat.id, chat)
        if user is None:
            if chat_id < 0:
                raise ValueError(f"a message in group {chat_id} needs user=...")
            user = chat_id
        if isinstance(user, FakeUser):
            self.state.users[user.id] = user
            author = self.state.user(user.id, language_code=language_code)
        else:
            author = self.state.user(user, language_code=language_code)
        return self.state.chat_for(chat_id, author), author

    def message(
        self,
        chat: int | FakeUser,
        content: dict[str, Any],
        *,
        user: UserRef = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        chat_json, author = self._author(chat, user, language_code)
        message = self.state.new_message(chat_json, author.to_json(), content)
        return self.queue.push({"message": message})

    def text(
        self,
        chat: int | FakeUser,
        text: str,
        *,
        user: UserRef = None,
        language_code: str | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if not text.strip():
            raise ValueError("Telegram clients cannot send an empty message")
        content: dict[str, Any] = {"text": text}
        entities = user_entities(text)
        if entities:
            content["entities"] = entities
        if reply_to is not None:
            content["reply_to_message"] = copy.deepcopy(reply_to)
        return self.message(chat, content, user=user, language_code=language_code)

    def photo(
        self,
        chat: int | FakeUser,
        data: bytes,
        caption: str | None = None,
        media_group_id: str | None = None,
        *,
        user: UserRef = None,
        language_code: str | None = None,
        file_size: int | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> dict[str, Any]:
        dimensions = (width, height) if width and height else media.image_size(data)
        if dimensions is None:
            raise ValueError("push_photo needs image bytes with a readable header, or width= and height=")
        content: dict[str, Any] = {"photo": self.state.files.add_photo(data, dimensions, file_size=file_size)}
        content.update(_caption(caption))
        if media_group_id is not None:
            content["media_group_id"] = str(media_group_id)
        return self.message(chat, content, user=user, language_code=language_code)

    def album(
        self,
        chat: int | FakeUser,
        images: list[bytes],
        caption: str | None = None,
        *,
        user: UserRef = None,
        language_code: str | None = None,
    ) -> list[dict[str, Any]]:
        if not 2 <= len(images) <= 10:
            raise ValueError("a Telegram album has 2 to 10 items")
        group = self.state.next_media_group_id()
        return [
            self.photo(
                chat, image, caption if index == 0 else None, group, user=user, language_code=language_code
            )
            for index, image in enumerate(images)
        ]

    def document(
        self,
        chat: int | FakeUser,
        data: bytes,
        mime_type: str,
        *,
        file_name: str = "file",
        caption: str | None = None,
        user: UserRef = None,
        language_code: str | None = None,
        file_size: int | None = None,
    ) -> dict[str, Any]:
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        record = self.state.files.add_file(
            "document",
            data,
            mime_type=mime_type,
            file_name=file_name,
            file_size=file_size,
            extension=extension,
        )
        document = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": record.file_size,
        }
        content: dict[str, Any] = {"document": document, **_caption(caption)}
        return self.message(chat, content, user=user, language_code=language_code)

    def sticker(
        self,
        chat: int | FakeUser,
        *,
        emoji: str = "👍",
        user: UserRef = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        record = self.state.files.add_file(
            "sticker", _tiny_image("WEBP"), mime_type="image/webp", extension="webp"
        )
        sticker = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "TestStickers",
            "file_size": record.file_size,
        }
        return self.message(chat, {"sticker": sticker}, user=user, language_code=language_code)

    def video(
        self,
        chat: int | FakeUser,
        *,
        duration: int = 3,
        width: int = 640,
        height: int = 360,
        caption: str | None = None,
        user: UserRef = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        data = b"\x00\x00\x00\x18ftypmp42" + bytes(2048)
        record = self.state.files.add_file(
            "video", data, mime_type="video/mp4", file_name="video.mp4", extension="mp4"
        )
        video = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "width": width,
            "height": height,
            "duration": duration,
            "file_name": "video.mp4",
            "mime_type": "video/mp4",
            "file_size": record.file_size,
        }
        content: dict[str, Any] = {"video": video, **_caption(caption)}
        return self.message(chat, content, user=user, language_code=language_code)

    def voice(
        self,
        chat: int | FakeUser,
        *,
        duration: int = 2,
        user: UserRef = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        data = b"OggS" + bytes(1024)
        record = self.state.files.add_file("voice", data, mime_type="audio/ogg", extension="oga")
        voice = {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": record.file_size,
        }
        return self.message(chat, {"voice": voice}, user=user, language_code=language_code)

    def press(
        self,
        message: dict[str, Any],
        callback_data: str | None = None,
        *,
        text: str | None = None,
        user: UserRef = None,
        check_button: bool = True,
    ) -> dict[str, Any]:
        """A press on a button of the bot's message, as it is now (after any edits)."""
        chat_id = message["chat"]["id"]
        stored = self.state.live_message(chat_id, message["message_id"])
        if stored is None or not stored.from_bot:
            raise ValueError(
                f"no live bot message {message['message_id']} in chat {chat_id} to press a button on"
            )
        buttons = inline_buttons(stored.data)
        if text is not None:
            matches = [b for b in buttons if b.get("text") == text and "callback_data" in b]
            if not matches:
                raise ValueError(f"no callback button {text!r}; buttons: {[b.get('text') for b in buttons]}")
            callback_data = matches[0]["callback_data"]
        if callback_data is None:
            raise ValueError("press() needs callback_data or text=")
        if check_button and not any(b.get("callback_data") == callback_data for b in buttons):
            raise ValueError(
                f"message {message['message_id']} has no button with callback_data {callback_data!r}; "
                f"buttons: {[(b.get('text'), b.get('callback_data')) for b in buttons]} "
                "(pass check_button=False to send forged data)"
            )
        if user is None:
            if chat_id < 0:
                raise ValueError(f"a press in group {chat_id} needs user=...")
            user = chat_id
        presser = self.state.user(user.id if isinstance(user, FakeUser) else user)
        query_id = self.state.next_query_id()
        self.state.callback_queries[query_id] = CallbackQueryState(
            query_id, chat_id, message["message_id"], callback_data, presser.id
        )
        query = {
            "id": query_id,
            "from": presser.to_json(),
            "chat_instance": str(8_000_000_000_000 + abs(chat_id)),
            "data": callback_data,
            "message": copy.deepcopy(stored.data),
        }
        return self.queue.push({"callback_query": query})


def _caption(caption: str | None) -> dict[str, Any]:
    if not caption:
        return {}
    fields: dict[str, Any] = {"caption": caption}
    entities = user_entities(caption)
    if entities:
        fields["caption_entities"] = entities
    return fields


def _tiny_image(image_format: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (255, 200, 0, 255)).save(out, image_format)
    return out.getvalue()
