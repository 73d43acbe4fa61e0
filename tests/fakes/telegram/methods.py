"""The Bot API methods the fake implements, with Telegram's checks and refusals.

Each method reads a ``Params`` and returns the ``result`` of the envelope or raises ``ApiError``. Every
check runs before anything is stored, so a refused call stores nothing, replaces no keyboard and uses up
no callback query.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from . import errors
from .formatting import FormattedText, format_text
from .inputs import FileInputs, NewDocument, NewPhoto
from .keyboards import keyboard_signature, validate_reply_markup
from .media import DOWNLOAD_LIMIT
from .polling import UpdateQueue
from .request import Params
from .state import ChatAction, FakeState
from .webhook import WebhookConfig, WebhookDelivery, check_secret_token, check_webhook_url

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
MAX_ALBUM = 10
MIN_ALBUM = 2  # Telegram sends a one-item album as a plain message; the fake refuses it on purpose
MAX_COMMANDS = 100
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
COMMAND_SCOPES = {
    "default": (),
    "all_private_chats": (),
    "all_group_chats": (),
    "all_chat_administrators": (),
    "chat": ("chat_id",),
    "chat_administrators": ("chat_id",),
    "chat_member": ("chat_id", "user_id"),
}
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"[a-z]{2}")
# Errors Telegram's servers report for one album item with its position (the "#n" form).
_ALBUM_ITEM_ERRORS = {
    errors.IMAGE_PROCESS_FAILED: "IMAGE_PROCESS_FAILED",
    errors.PHOTO_INVALID_DIMENSIONS: "PHOTO_INVALID_DIMENSIONS",
    errors.URL_CONTENT_FAILED: "WEBPAGE_CURL_FAILED",
    errors.URL_WRONG_CONTENT_TYPE: "WEBPAGE_MEDIA_EMPTY",
}

Handler = Callable[[Params], Awaitable[Any]]


class BotApi:
    """The methods, by Telegram's case-insensitive name."""

    def __init__(
        self,
        state: FakeState,
        updates: UpdateQueue,
        webhook: WebhookDelivery,
        *,
        next_call_index: Callable[[], int],
    ) -> None:
        self.state = state
        self.updates = updates
        self.webhook = webhook
        self.bot: dict[str, Any] = {}  # the bot's User, set per request from the token
        self._next_call_index = next_call_index
        self.inputs = FileInputs(state)
        self.handlers: dict[str, tuple[str, Handler]] = {}
        for name in (
            "getMe",
            "setWebhook",
            "deleteWebhook",
            "getWebhookInfo",
            "getUpdates",
            "setMyCommands",
            "getMyCommands",
            "deleteMyCommands",
            "setMyDescription",
            "getMyDescription",
            "setMyShortDescription",
            "getMyShortDescription",
            "sendMessage",
            "sendPhoto",
            "sendMediaGroup",
            "sendDocument",
            "sendChatAction",
            "answerCallbackQuery",
            "editMessageText",
            "editMessageCaption",
            "editMessageReplyMarkup",
            "editMessageMedia",
            "deleteMessage",
            "getFile",
        ):
            handler = getattr(self, "_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower())
            self.handlers[name.lower()] = (name, handler)

    def lookup(self, method: str) -> tuple[str, Handler] | None:
        return self.handlers.get(method.lower())

    @property
    def sender(self) -> dict[str, Any]:
        return {key: self.bot[key] for key in ("id", "is_bot", "first_name", "username")}

    # --- bot and updates ---------------------------------------------------------------------------------
    async def _get_me(self, p: Params) -> Any:
        return dict(self.bot)

    async def _set_webhook(self, p: Params) -> Any:
        url = p.text("url") or ""
        allowed = self._allowed_updates(p)
        secret = p.text("secret_token")
        if url:
            check_webhook_url(url)
        check_secret_token(secret)
        if p.boolean("drop_pending_updates"):
            self.updates.clear()
        if not url:  # an empty URL removes the webhook, as deleteWebhook does
            self.webhook.delete()
            return True
        if allowed is not None:
            self.updates.allowed_updates = list(allowed)
        self.webhook.set(
            WebhookConfig(
                url=url,
                secret_token=secret or None,
                max_connections=p.integer("max_connections", 40) or 40,
                ip_address=p.text("ip_address") or None,
                has_custom_certificate=p.file("certificate") is not None,
            )
        )
        return True

    async def _delete_webhook(self, p: Params) -> Any:
        if p.boolean("drop_pending_updates"):
            self.updates.clear()
        self.webhook.delete()
        return True

    async def _get_webhook_info(self, p: Params) -> Any:
        return self.webhook.info()

    @staticmethod
    def _allowed_updates(p: Params) -> list[str] | None:
        allowed = p.json("allowed_updates", errors.CANT_PARSE_ALLOWED_UPDATES)
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)
        ):
            raise errors.bad_request(errors.CANT_PARSE_ALLOWED_UPDATES)
        return allowed

    async def _get_updates(self, p: Params) -> Any:
        allowed = self._allowed_updates(p)
        if self.webhook.active:
            raise errors.ApiError(409, errors.CONFLICT_WEBHOOK)
        return await self.updates.get_updates(
            offset=p.integer("offset", 0) or 0,
            limit=p.integer("limit", 100) or 0,
            poll_seconds=float(p.integer("timeout", 0) or 0),
            allowed_updates=allowed,
        )

    # --- commands and descriptions -----------------------------------------------------------------------
    def _command_key(self, p: Params) -> tuple[str, int | None, int | None, str]:
        scope = p.json("scope", errors.CANT_PARSE_SCOPE)
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise errors.bad_request(errors.CANT_PARSE_SCOPE)
        needed = COMMAND_SCOPES[scope["type"]]
        if any(not isinstance(scope.get(name), int) or isinstance(scope.get(name), bool) for name in needed):
            raise errors.bad_request(errors.CANT_PARSE_SCOPE)
        if "chat_id" in needed and scope["chat_id"] not in self.state.chats:
            # A chat the bot has never seen (an admin who never wrote to it) cannot get its own menu.
            raise errors.bad_request(errors.CHAT_NOT_FOUND)
        return scope["type"], scope.get("chat_id"), scope.get("user_id"), self._language(p)

    async def _set_my_commands(self, p: Params) -> Any:
        if not p.has("commands"):
            raise errors.bad_request(errors.COMMANDS_REQUIRED)
        commands = p.json("commands", errors.CANT_PARSE_COMMANDS)
        if not isinstance(commands, list) or not all(
            isinstance(c, dict)
            and isinstance(c.get("command"), str)
            and isinstance(c.get("description"), str)
            for c in commands
        ):
            raise errors.bad_request(errors.CANT_PARSE_COMMANDS)
        if len(commands) > MAX_COMMANDS:
            raise errors.bad_request(errors.BOT_COMMANDS_TOO_MUCH)
        for command in commands:
            if not _COMMAND.fullmatch(command["command"]):
                raise errors.bad_request(errors.BOT_COMMAND_INVALID)
            if not 1 <= len(command["description"].strip()) <= 256:
                raise errors.bad_request(errors.BOT_COMMAND_DESCRIPTION_INVALID)
        key = self._command_key(p)
        stored = [{"command": c["command"], "description": c["description"]} for c in commands]
        if stored:
            self.state.commands[key] = stored
        else:
            self.state.commands.pop(key, None)
        return True

    async def _get_my_commands(self, p: Params) -> Any:
        return copy.deepcopy(self.state.commands.get(self._command_key(p), []))

    async def _delete_my_commands(self, p: Params) -> Any:
        self.state.commands.pop(self._command_key(p), None)
        return True

    def _language(self, p: Params) -> str:
        language = p.text("language_code") or ""
        if language and not _LANGUAGE.fullmatch(language):
            raise errors.bad_request(errors.LANGUAGE_CODE_INVALID)
        return language

    async def _set_my_description(self, p: Params) -> Any:
        text = p.text("description") or ""
        if len(text) > MAX_DESCRIPTION:
            raise errors.bad_request(errors.DESCRIPTION_TOO_LONG)
        self.state.descriptions[self._language(p)] = text
        return True

    async def _get_my_description(self, p: Params) -> Any:
        return {"description": self.state.descriptions.get(self._language(p), "")}

    async def _set_my_short_description(self, p: Params) -> Any:
        text = p.text("short_description") or ""
        if len(text) > MAX_SHORT_DESCRIPTION:
            raise errors.bad_request(errors.SHORT_DESCRIPTION_TOO_LONG)
        self.state.short_descriptions[self._language(p)] = text
        return True

    async def _get_my_short_description(self, p: Params) -> Any:
        return {"short_description": self.state.short_descriptions.get(self._language(p), "")}

    # --- shared checks -----------------------------------------------------------------------------------
    @staticmethod
    def _text(p: Params, name: str = "text", entities: str = "entities") -> FormattedText:
        formatted = format_text(
            p.text(name) or "",
            p.text("parse_mode"),
            p.json(entities, errors.CANT_PARSE_ENTITIES_JSON),
        )
        if not formatted.text:
            raise errors.bad_request(errors.MESSAGE_TEXT_EMPTY)
        if len(formatted.text) > MAX_TEXT:
            raise errors.bad_request(errors.MESSAGE_TOO_LONG)
        return formatted

    @staticmethod
    def _caption(text: str | None, parse_mode: str | None, entities: Any = None) -> FormattedText:
        formatted = format_text(text or "", parse_mode, entities)
        if len(formatted.text) > MAX_CAPTION:
            raise errors.bad_request(errors.CAPTION_TOO_LONG)
        return formatted

    @staticmethod
    def _markup(p: Params) -> dict[str, Any] | None:
        return validate_reply_markup(p.json("reply_markup", errors.CANT_PARSE_REPLY_MARKUP))

    def _reply_to(self, p: Params, chat_id: int) -> dict[str, Any] | None:
        parameters = p.json("reply_parameters", errors.CANT_PARSE_REPLY_PARAMETERS)
        if parameters is None and p.integer("reply_to_message_id"):
            parameters = {"message_id": p.integer("reply_to_message_id")}
        if parameters is None:
            return None
        if not isinstance(parameters, dict) or not isinstance(parameters.get("message_id"), int):
            raise errors.bad_request(errors.CANT_PARSE_REPLY_PARAMETERS)
        replied = self.state.live_message(parameters.get("chat_id", chat_id), parameters["message_id"])
        if replied is None:
            if parameters.get("allow_sending_without_reply") or p.boolean("allow_sending_without_reply"):
                return None
            raise errors.bad_request(errors.REPLY_NOT_FOUND)
        reply = copy.deepcopy(replied.data)
        reply.pop("reply_to_message", None)
        return reply

    def _send(
        self,
        chat: dict[str, Any],
        content: dict[str, Any],
        markup: dict[str, Any] | None,
        reply: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if reply is not None:
            content = {**content, "reply_to_message": reply}
        if markup is not None:
            content = {**content, "reply_markup": markup}
        return self.state.new_message(chat, self.sender, content)

    # --- sending -----------------------------------------------------------------------------------------
    async def _send_message(self, p: Params) -> Any:
        chat_id = p.chat_id()
        text = self._text(p)
        markup = self._markup(p)
        chat = self.state.writable_chat(chat_id)
        reply = self._reply_to(p, chat_id)
        content: dict[str, Any] = {"text": text.text}
        if text.entities:
            content["entities"] = text.entities
        return self._send(chat, content, markup, reply)

    async def _send_photo(self, p: Params) -> Any:
        chat_id = p.chat_id()
        caption = self._caption(
            p.text("caption"),
            p.text("parse_mode"),
            p.json("caption_entities", errors.CANT_PARSE_ENTITIES_JSON),
        )
        markup = self._markup(p)
        photo = self.inputs.photo(
            p.text("photo"), p.file("photo"), p.files, missing=errors.NO_FILE_IN_REQUEST.format(kind="photo")
        )
        chat = self.state.writable_chat(chat_id)
        reply = self._reply_to(p, chat_id)
        content = {"photo": self.inputs.store_photo(photo), **_caption_fields(caption)}
        return self._send(chat, content, markup, reply)

    async def _send_document(self, p: Params) -> Any:
        chat_id = p.chat_id()
        caption = self._caption(
            p.text("caption"),
            p.text("parse_mode"),
            p.json("caption_entities", errors.CANT_PARSE_ENTITIES_JSON),
        )
        markup = self._markup(p)
        document = self.inputs.document(
            p.text("document"),
            p.file("document"),
            p.files,
            missing=errors.NO_FILE_IN_REQUEST.format(kind="document"),
        )
        chat = self.state.writable_chat(chat_id)
        reply = self._reply_to(p, chat_id)
        content = {"document": self.inputs.store_document(document), **_caption_fields(caption)}
        return self._send(chat, content, markup, reply)

    async def _send_media_group(self, p: Params) -> Any:
        if p.has("reply_markup"):
            self.state.violations.append(
                f"sendMediaGroup called with reply_markup={p.text('reply_markup')!r}: "
                "Telegram's method has no such parameter; send the keyboard in a follow-up message"
            )
            raise errors.bad_request(errors.ALBUM_REPLY_MARKUP)
        chat_id = p.chat_id()
        if not p.has("media"):
            raise errors.bad_request(errors.MEDIA_REQUIRED)
        media = p.json("media", errors.CANT_PARSE_MEDIA)
        if media is None or media == []:
            raise errors.bad_request(errors.ALBUM_EMPTY)
        if not isinstance(media, list):
            raise errors.bad_request(errors.CANT_PARSE_MEDIA)
        if len(media) > MAX_ALBUM:
            raise errors.bad_request(errors.ALBUM_TOO_MANY)
        if len(media) < MIN_ALBUM:
            raise errors.bad_request(errors.ALBUM_TOO_FEW)
        kinds = [_media_type(item) for item in media]
        if "document" in kinds and any(kind != "document" for kind in kinds):
            raise errors.bad_request(errors.ALBUM_MIXED_DOCUMENT)
        checked = []
        for position, item in enumerate(media, start=1):
            caption = self._caption(item.get("caption"), item.get("parse_mode"), item.get("caption_entities"))
            try:
                if item["type"] == "photo":
                    source: Any = self.inputs.photo(
                        _media_ref(item), None, p.files, missing=errors.MEDIA_NOT_FOUND
                    )
                else:
                    source = self.inputs.document(
                        _media_ref(item), None, p.files, missing=errors.MEDIA_NOT_FOUND
                    )
            except errors.ApiError as exc:
                if exc.description in _ALBUM_ITEM_ERRORS:
                    raise errors.bad_request(
                        errors.ALBUM_ITEM_FAILED.format(
                            position=position, error=_ALBUM_ITEM_ERRORS[exc.description]
                        )
                    ) from exc
                raise
            checked.append((item["type"], source, caption))
        chat = self.state.writable_chat(chat_id)
        reply = self._reply_to(p, chat_id)
        group_id = self.state.next_media_group_id()
        sent = []
        for kind, source, caption in checked:
            stored = self.inputs.store(source)
            content = {"media_group_id": group_id, kind: stored, **_caption_fields(caption)}
            sent.append(self._send(chat, content, None, reply))
        return sent

    async def _send_chat_action(self, p: Params) -> Any:
        chat_id = p.chat_id()
        action = p.text("action") or ""
        if action not in CHAT_ACTIONS:
            raise errors.bad_request(errors.WRONG_CHAT_ACTION)
        self.state.writable_chat(chat_id)
        self.state.chat_actions.append(ChatAction(chat_id, action, time.monotonic(), self._next_call_index()))
        return True

    # --- callback queries --------------------------------------------------------------------------------
    async def _answer_callback_query(self, p: Params) -> Any:
        query_id = p.text("callback_query_id") or ""
        if not query_id:
            raise errors.bad_request(errors.CALLBACK_QUERY_ID_EMPTY)
        text = p.text("text") or ""
        if len(text) > MAX_CALLBACK_ANSWER:
            raise errors.bad_request(errors.CALLBACK_ANSWER_TOO_LONG)
        query = self.state.callback_queries.get(query_id)
        if query is None or query.answer is not None:
            raise errors.bad_request(errors.QUERY_TOO_OLD)
        query.answer = {
            "text": text,
            "show_alert": p.boolean("show_alert"),
            "url": p.text("url"),
            "cache_time": p.integer("cache_time", 0),
        }
        return True

    # --- editing and deleting ----------------------------------------------------------------------------
    def _editable(self, p: Params) -> tuple[int, dict[str, Any]]:
        if p.text("inline_message_id"):
            raise errors.bad_request(errors.INLINE_MESSAGE_ID_INVALID)
        chat_id = p.chat_id()
        message_id = p.integer("message_id")
        if not message_id:
            raise errors.bad_request(errors.MESSAGE_ID_NOT_SPECIFIED)
        self.state.writable_chat(chat_id)
        stored = self.state.live_message(chat_id, message_id)
        if stored is None:
            raise errors.bad_request(errors.MESSAGE_TO_EDIT_NOT_FOUND)
        if not stored.from_bot:
            raise errors.bad_request(errors.MESSAGE_CANT_BE_EDITED)
        return message_id, stored.data

    def _commit_edit(
        self,
        current: dict[str, Any],
        changes: dict[str, Any],
        markup: dict[str, Any] | None,
        removed: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Apply an edit in place; an edit without reply_markup removes the keyboard."""
        for key in removed:
            current.pop(key, None)
        for key, value in changes.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        if markup is None:
            current.pop("reply_markup", None)
        else:
            current["reply_markup"] = markup
        current["edit_date"] = max(int(time.time()), current["date"])
        return copy.deepcopy(current)

    async def _edit_message_text(self, p: Params) -> Any:
        text = self._text(p)
        markup = self._markup(p)
        _, current = self._editable(p)
        if "text" not in current:
            raise errors.bad_request(errors.NO_TEXT_TO_EDIT)
        if (
            current["text"] == text.text
            and current.get("entities", []) == text.entities
            and keyboard_signature(current.get("reply_markup")) == keyboard_signature(markup)
        ):
            raise errors.bad_request(errors.MESSAGE_NOT_MODIFIED)
        return self._commit_edit(current, {"text": text.text, "entities": text.entities or None}, markup)

    async def _edit_message_caption(self, p: Params) -> Any:
        caption = self._caption(
            p.text("caption"),
            p.text("parse_mode"),
            p.json("caption_entities", errors.CANT_PARSE_ENTITIES_JSON),
        )
        markup = self._markup(p)
        _, current = self._editable(p)
        if not any(kind in current for kind in ("photo", "document", "video", "audio", "animation")):
            raise errors.bad_request(errors.NO_CAPTION_TO_EDIT)
        if (
            current.get("caption", "") == caption.text
            and current.get("caption_entities", []) == caption.entities
            and keyboard_signature(current.get("reply_markup")) == keyboard_signature(markup)
        ):
            raise errors.bad_request(errors.MESSAGE_NOT_MODIFIED)
        return self._commit_edit(current, _caption_fields(caption, removing=True), markup)

    async def _edit_message_reply_markup(self, p: Params) -> Any:
        markup = self._markup(p)
        _, current = self._editable(p)
        if keyboard_signature(current.get("reply_markup")) == keyboard_signature(markup):
            raise errors.bad_request(errors.MESSAGE_NOT_MODIFIED)
        return self._commit_edit(current, {}, markup)

    async def _edit_message_media(self, p: Params) -> Any:
        if not p.has("media"):
            raise errors.bad_request(errors.MEDIA_REQUIRED)
        item = p.json("media", errors.CANT_PARSE_MEDIA)
        if not isinstance(item, dict):
            raise errors.bad_request(errors.CANT_PARSE_MEDIA)
        kind = _media_type(item)
        caption = self._caption(item.get("caption"), item.get("parse_mode"), item.get("caption_entities"))
        markup = self._markup(p)
        if kind == "photo":
            source: Any = self.inputs.photo(_media_ref(item), None, p.files, missing=errors.MEDIA_NOT_FOUND)
        else:
            source = self.inputs.document(_media_ref(item), None, p.files, missing=errors.MEDIA_NOT_FOUND)
        _, current = self._editable(p)
        if not any(key in current for key in ("photo", "document", "video", "audio", "animation")):
            raise errors.bad_request(errors.NO_MEDIA_TO_EDIT)
        same_file = (
            kind == "photo"
            and isinstance(source, NewPhoto)
            and source.sizes is not None
            and source.sizes == current.get("photo")
        ) or (
            kind == "document"
            and isinstance(source, NewDocument)
            and source.existing == current.get("document")
        )
        if (
            same_file
            and current.get("caption", "") == caption.text
            and current.get("caption_entities", []) == caption.entities
            and keyboard_signature(current.get("reply_markup")) == keyboard_signature(markup)
        ):
            raise errors.bad_request(errors.MESSAGE_NOT_MODIFIED)
        stored = self.inputs.store(source)
        changes = {kind: stored, **_caption_fields(caption, removing=True)}
        return self._commit_edit(
            current, changes, markup, removed=("photo", "document", "video", "audio", "animation")
        )

    async def _delete_message(self, p: Params) -> Any:
        chat_id = p.chat_id()
        message_id = p.integer("message_id")
        if not message_id:
            raise errors.bad_request(errors.MESSAGE_ID_NOT_SPECIFIED)
        chat = self.state.chats.get(chat_id)
        if chat is None:
            raise errors.bad_request(errors.CHAT_NOT_FOUND)
        stored = self.state.live_message(chat_id, message_id)
        if stored is None:
            raise errors.bad_request(errors.MESSAGE_TO_DELETE_NOT_FOUND)
        if chat["type"] != "private" and not stored.from_bot:
            raise errors.bad_request(errors.MESSAGE_CANT_BE_DELETED)
        stored.deleted = True
        return True

    # --- files out ---------------------------------------------------------------------------------------
    async def _get_file(self, p: Params) -> Any:
        file_id = p.text("file_id") or ""
        if not file_id:
            raise errors.bad_request(errors.FILE_ID_EMPTY)
        record = self.state.files.get(file_id)
        if record is None:
            raise errors.bad_request(errors.GET_FILE_FAILED)
        if record.file_size > DOWNLOAD_LIMIT:
            raise errors.bad_request(errors.FILE_TOO_BIG)
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.file_size,
            "file_path": self.state.files.assign_path(record),
        }


def _media_type(item: Any) -> str:
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        raise errors.bad_request(errors.CANT_PARSE_MEDIA)
    if item["type"] not in ("photo", "document"):
        raise errors.bad_request(errors.MEDIA_TYPE_UNSUPPORTED.format(type=item["type"]))
    return item["type"]


def _media_ref(item: dict[str, Any]) -> str | None:
    reference = item.get("media")
    if reference is not None and not isinstance(reference, str):
        raise errors.bad_request(errors.CANT_PARSE_MEDIA)
    return reference


def _caption_fields(caption: FormattedText, *, removing: bool = False) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if caption.text or removing:
        fields["caption"] = caption.text or None
    if caption.entities or removing:
        fields["caption_entities"] = caption.entities or None
    if not removing:
        fields = {key: value for key, value in fields.items() if value is not None}
    return fields
