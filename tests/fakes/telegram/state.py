"""What the fake Telegram remembers: users, chats, messages, files, callback queries, commands."""

from __future__ import annotations

import copy
import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from . import errors
from .media import FileStore


@dataclass
class FakeUser:
    """A Telegram user talking to the bot; ``language_code`` picks the bot's language."""

    id: int
    first_name: str = "Ann"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class StoredMessage:
    """A message as Telegram holds it now (after edits); ``data`` is the Message JSON."""

    data: dict[str, Any]
    from_bot: bool
    deleted: bool = False


@dataclass
class CallbackQueryState:
    id: str
    chat_id: int
    message_id: int
    data: str
    user_id: int
    answer: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChatAction:
    """One sendChatAction; ``call_index`` orders it among all calls (see ``FakeTelegram.calls``)."""

    chat_id: int
    action: str
    time: float
    call_index: int


@dataclass(frozen=True)
class RegisteredUrl:
    data: bytes
    content_type: str


@dataclass
class FakeState:
    """Everything the Bot API methods and the test-side helpers read and change."""

    users: dict[int, FakeUser] = field(default_factory=dict)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[tuple[int, int], StoredMessage] = field(default_factory=dict)
    files: FileStore = field(default_factory=FileStore)
    urls: dict[str, RegisteredUrl] = field(default_factory=dict)
    url_fetches: list[str] = field(default_factory=list)
    callback_queries: dict[str, CallbackQueryState] = field(default_factory=dict)
    commands: dict[tuple[str, int | None, int | None, str], list[dict[str, str]]] = field(
        default_factory=dict
    )
    descriptions: dict[str, str] = field(default_factory=dict)
    short_descriptions: dict[str, str] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)
    chat_actions: list[ChatAction] = field(default_factory=list)
    # Counters survive reset(), as Telegram's ids never go back.
    last_message_id: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    query_numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    media_group_numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        """Forget content; keep id counters."""
        for name in ("users", "chats", "messages", "urls", "callback_queries", "commands"):
            getattr(self, name).clear()
        for name in ("descriptions", "short_descriptions", "blocked"):
            getattr(self, name).clear()
        self.url_fetches.clear()
        self.violations.clear()
        self.chat_actions.clear()
        self.files.clear()

    # --- users and chats ---------------------------------------------------------------------------------
    def user(self, user_id: int, **fields: Any) -> FakeUser:
        """The user with this id, created on first use; given fields (not None) update it."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = FakeUser(user_id)
        for name, value in fields.items():
            if value is not None:
                setattr(user, name, value)
        if user_id > 0 and user_id in self.chats:
            self.chats[user_id] = private_chat(user)
        return user

    def chat_for(self, chat_id: int, user: FakeUser) -> dict[str, Any]:
        """Make the chat known (a private chat for a positive id, a group otherwise)."""
        if chat_id > 0:
            if chat_id != user.id:
                raise ValueError(f"a private chat's id is its user's id: chat {chat_id}, user {user.id}")
            self.chats[chat_id] = private_chat(user)
        elif chat_id not in self.chats:
            kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
            self.chats[chat_id] = {"id": chat_id, "type": kind, "title": f"Test group {chat_id}"}
        return self.chats[chat_id]

    def writable_chat(self, chat_id: int) -> dict[str, Any]:
        """The chat the bot sends to: it must exist and must not have blocked the bot."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise errors.bad_request(errors.CHAT_NOT_FOUND)
        if chat_id in self.blocked:
            raise errors.ApiError(403, errors.BOT_BLOCKED)
        return chat

    # --- messages ----------------------------------------------------------------------------------------
    def new_message(
        self, chat: dict[str, Any], sender: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        chat_id = chat["id"]
        self.last_message_id[chat_id] += 1
        message_id = self.last_message_id[chat_id]
        data = {
            "message_id": message_id,
            "from": sender,
            "chat": dict(chat),
            "date": int(time.time()),
            **content,
        }
        self.messages[(chat_id, message_id)] = StoredMessage(data, from_bot=bool(sender.get("is_bot")))
        return copy.deepcopy(data)

    def live_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        stored = self.messages.get((chat_id, message_id))
        return None if stored is None or stored.deleted else stored

    def next_query_id(self) -> str:
        return str(4_100_000_000_000_000_000 + next(self.query_numbers))

    def next_media_group_id(self) -> str:
        return str(13_579_000_000_000_000 + next(self.media_group_numbers))


def private_chat(user: FakeUser) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": user.id, "type": "private", "first_name": user.first_name}
    if user.last_name:
        chat["last_name"] = user.last_name
    if user.username:
        chat["username"] = user.username
    return chat
