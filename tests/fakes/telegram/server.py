"""``FakeTelegram``: an aiohttp server on 127.0.0.1 that answers like api.telegram.org, plus the test API.

Order of checks for every API request: the token, then injected faults, then the method. Every request,
refused or not, is recorded as a ``Call``. Updates go to the bot by getUpdates, or, once setWebhook was
called, by POST to ``webhook_origin`` (see ``webhook``).
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from . import errors
from .keyboards import inline_buttons
from .media import sniff_mime
from .methods import BotApi
from .polling import UpdateQueue
from .request import Params, ParsedRequest, UploadedFile, read_request
from .state import ChatAction, FakeState, FakeUser, RegisteredUrl
from .transcript import chat_transcript
from .updates import UpdateFactory, UserRef
from .webhook import WebhookConfig, WebhookDelivery, WebhookPost

CLIENT_MAX_SIZE = 60 * 1024 * 1024  # aiohttp's default is 1 MiB; Telegram's own limits apply after this
_TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")
_EMPTY = ParsedRequest(raw={}, params={}, files={})
_RECHECK_SECONDS = 0.05
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One API request as the fake saw and answered it."""

    index: int
    method: str  # Telegram's spelling (``sendMediaGroup``) for known methods, else as requested
    params: dict[str, Any]  # JSON fields decoded, ids as ints
    files: dict[str, UploadedFile]
    status: int
    response: dict[str, Any]
    time: float  # time.monotonic()

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.description}"
        return f"#{self.index} {self.method} -> {outcome}"


@dataclass(frozen=True)
class Download:
    path: str
    status: int
    size: int


@dataclass
class _Fault:
    method: str
    error: errors.ApiError
    remaining: int


class FakeTelegram:
    """A strict fake Bot API for PTB's real networking. Use ``async with FakeTelegram() as fake:``."""

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "snapfit_test_bot",
        bot_first_name: str = "snapfit",
        long_poll_limit: float = 5.0,
        conflict_on_overlapping_polls: bool = True,
        webhook_origin: str | None = None,
        webhook_retry_seconds: float = 0.5,
    ) -> None:
        """``token``: the only token accepted (401 for others); ``None`` accepts any well-formed token.

        ``webhook_origin``: where the bot's webhook really listens (``http://127.0.0.1:PORT``); the fake
        POSTs there, with the path of the https URL the bot registered (settable later).
        """
        if token is not None and not _TOKEN.fullmatch(token):
            raise ValueError(f"not a Telegram-style token: {token!r}")
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.state = FakeState()
        self.updates = UpdateQueue(
            long_poll_limit=long_poll_limit, conflict_on_overlap=conflict_on_overlapping_polls
        )
        self.webhook_delivery = WebhookDelivery(
            self.updates, origin=webhook_origin, retry_seconds=webhook_retry_seconds
        )
        self.webhook_delivery.on_post.append(lambda: self._notify())
        self.api = BotApi(
            self.state, self.updates, self.webhook_delivery, next_call_index=lambda: len(self.calls)
        )
        self._factory = UpdateFactory(self.state, self.updates)
        self.calls: list[Call] = []
        self.downloads: list[Download] = []
        self.pushed: list[tuple[int, dict[str, Any]]] = []  # (len(calls) when pushed, update)
        self._faults: list[_Fault] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------
    async def start(self) -> None:
        self.updates.open()
        app = web.Application(client_max_size=CLIENT_MAX_SIZE)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/bot{token}/{method}/", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self.updates.close()
        await self.webhook_delivery.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def root_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends the token."""
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``: PTB appends the token and the file path."""
        return f"{self.root_url}/file/bot"

    # --- HTTP --------------------------------------------------------------------------------------------
    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        requested = request.match_info["method"]
        entry = self.api.lookup(requested)
        method = entry[0] if entry else requested
        parsed = _EMPTY
        try:
            try:
                parsed = await read_request(request)
            except web.HTTPRequestEntityTooLarge as exc:
                raise errors.ApiError(413, errors.ENTITY_TOO_LARGE) from exc
            self._check_token(token)
            self._inject_fault(method)
            if entry is None:
                raise errors.ApiError(404, errors.METHOD_NOT_FOUND)
            self.api.bot = self._bot_user(token)
            result = await entry[1](Params(parsed))
            status, body = 200, {"ok": True, "result": result}
        except errors.ApiError as exc:
            status, body = exc.status, exc.envelope()
        self._record(method, parsed, status, body)
        return web.json_response(body, status=status)

    async def _handle_download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        try:
            self._check_token(request.match_info["token"])
        except errors.ApiError as exc:
            self._record_download(path, exc.status, 0)
            return web.json_response(exc.envelope(), status=exc.status)
        record = self.state.files.by_path(path)
        if record is None:
            self._record_download(path, 404, 0)
            return web.json_response(errors.ApiError(404, errors.NOT_FOUND).envelope(), status=404)
        data = self.state.files.content(record)
        self._record_download(path, 200, len(data))
        content_type = record.mime_type or sniff_mime(data)
        return web.Response(body=data, content_type=content_type)

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return web.json_response(errors.ApiError(404, errors.NOT_FOUND).envelope(), status=404)

    def _check_token(self, token: str) -> None:
        if not _TOKEN.fullmatch(token):
            raise errors.ApiError(404, errors.NOT_FOUND)
        if self.token is not None and token != self.token:
            raise errors.ApiError(401, errors.UNAUTHORIZED)

    def _bot_user(self, token: str) -> dict[str, Any]:
        return {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _inject_fault(self, method: str) -> None:
        for fault in self._faults:
            if fault.method == method.lower() and fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                raise fault.error

    def _record(self, method: str, parsed: ParsedRequest, status: int, body: dict[str, Any]) -> None:
        call = Call(
            len(self.calls),
            method,
            parsed.params,
            parsed.files,
            status,
            copy.deepcopy(body),
            time.monotonic(),
        )
        self.calls.append(call)
        self._notify()

    def _record_download(self, path: str, status: int, size: int) -> None:
        self.downloads.append(Download(path, status, size))
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # --- pushing what users do ---------------------------------------------------------------------------
    def _pushed(self, update: dict[str, Any]) -> dict[str, Any]:
        self.pushed.append((len(self.calls), update))
        self._notify()
        return copy.deepcopy(update)

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        language_code: str | None = None,
        username: str | None = None,
        last_name: str | None = None,
    ) -> FakeUser:
        """Create or update a user; its private chat becomes known (so the bot may write to it)."""
        user = self.state.user(
            user_id,
            first_name=first_name,
            language_code=language_code,
            username=username,
            last_name=last_name,
        )
        self.state.chat_for(user_id, user)
        return user

    def push_message(
        self,
        chat: int | FakeUser,
        text: str,
        *,
        user: UserRef = None,
        language_code: str | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A text message; a leading ``/word`` gets its ``bot_command`` entity. Returns the update."""
        return self._pushed(
            self._factory.text(chat, text, user=user, language_code=language_code, reply_to=reply_to)
        )

    def push_photo(
        self,
        chat: int | FakeUser,
        jpeg_bytes: bytes,
        caption: str | None = None,
        media_group_id: str | None = None,
        *,
        user: UserRef = None,
        language_code: str | None = None,
        file_size: int | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> dict[str, Any]:
        """A compressed photo: ascending sizes, the largest holding exactly ``jpeg_bytes``.

        ``file_size`` overrides the largest size's reported size (over 20 MB: getFile refuses it);
        ``width``/``height`` are needed only for bytes without a readable image header.
        """
        update = self._factory.photo(
            chat,
            jpeg_bytes,
            caption,
            media_group_id,
            user=user,
            language_code=language_code,
            file_size=file_size,
            width=width,
            height=height,
        )
        return self._pushed(update)

    def push_album(
        self,
        chat: int | FakeUser,
        images: list[bytes],
        caption: str | None = None,
        *,
        user: UserRef = None,
        language_code: str | None = None,
    ) -> list[dict[str, Any]]:
        """2-10 photo updates back to back sharing one ``media_group_id``; the caption on the first."""
        updates = self._factory.album(chat, images, caption, user=user, language_code=language_code)
        return [self._pushed(update) for update in updates]

    def push_document(
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
        """A file sent "as file" (an image here is what ``filters.Document.IMAGE`` matches)."""
        update = self._factory.document(
            chat,
            data,
            mime_type,
            file_name=file_name,
            caption=caption,
            user=user,
            language_code=language_code,
            file_size=file_size,
        )
        return self._pushed(update)

    def push_sticker(
        self,
        chat: int | FakeUser,
        *,
        emoji: str = "👍",
        user: UserRef = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        return self._pushed(self._factory.sticker(chat, emoji=emoji, user=user, language_code=language_code))

    def push_video(
        self,
        chat: int | FakeUser,
        *,
        duration: int = 3,
        caption: str | None = None,
        user: UserRef = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        return self._pushed(
            self._factory.video(
                chat, duration=duration, caption=caption, user=user, language_code=language_code
            )
        )

    def push_voice(
        self,
        chat: int | FakeUser,
        *,
        duration: int = 2,
        user: UserRef = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        return self._pushed(
            self._factory.voice(chat, duration=duration, user=user, language_code=language_code)
        )

    def press(
        self,
        message: dict[str, Any],
        callback_data: str | None = None,
        *,
        text: str | None = None,
        user: UserRef = None,
        check_button: bool = True,
    ) -> dict[str, Any]:
        """A press on a button of the bot's ``message`` (a Message the bot got back, or from ``messages``).

        Pick the button by ``callback_data`` or by its ``text``; the query embeds the message as it is now.
        The button must exist unless ``check_button=False`` (forged or stale data).
        """
        update = self._factory.press(message, callback_data, text=text, user=user, check_button=check_button)
        return self._pushed(update)

    def push_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Any raw update payload (without ``update_id``); for shapes the helpers do not cover."""
        return self._pushed(self.updates.push(copy.deepcopy(payload)))

    # --- test control ------------------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error, before any other check."""
        entry = self.api.lookup(method)
        if entry is None:
            raise ValueError(f"the fake does not implement {method!r}")
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = errors.DEFAULT_FAULT_DESCRIPTIONS.get(status, f"Error {status}")
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._faults.append(_Fault(entry[0].lower(), errors.ApiError(status, description, parameters), times))

    def register_url(self, url: str, data: bytes, content_type: str | None = None) -> None:
        """What Telegram's servers download from ``url`` when the bot sends a file by URL."""
        self.state.urls[url] = RegisteredUrl(data, content_type or sniff_mime(data))

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sends to that chat get 403 ``Forbidden: bot was blocked by the user``."""
        self.state.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.state.blocked.discard(chat_id)

    def reset(self) -> None:
        """Forget calls, messages, files, faults and pending updates; update and message ids keep counting."""
        self.calls.clear()
        self.downloads.clear()
        self.pushed.clear()
        self._faults.clear()
        self.state.reset()
        self.updates.clear()
        self.updates.allowed_updates = []

    @property
    def webhook_origin(self) -> str | None:
        return self.webhook_delivery.origin

    @webhook_origin.setter
    def webhook_origin(self, origin: str | None) -> None:
        """Where the bot's webhook server really listens, e.g. ``http://127.0.0.1:8443``."""
        self.webhook_delivery.origin = origin

    # --- reading what happened ---------------------------------------------------------------------------
    @property
    def webhook(self) -> WebhookConfig | None:
        """The webhook setWebhook registered (secret included), or None in polling mode."""
        return self.webhook_delivery.config

    @property
    def webhook_posts(self) -> list[WebhookPost]:
        """Every delivery attempt to the bot's webhook, oldest first."""
        return list(self.webhook_delivery.posts)

    @property
    def violations(self) -> list[str]:
        """Calls that are test failures whatever Telegram would answer (e.g. reply_markup on an album)."""
        return self.state.violations

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates the bot has not confirmed yet."""
        return copy.deepcopy(self.updates.pending)

    def mark(self) -> int:
        """The index the next call will get: pass it as ``since=`` to wait only for later calls."""
        return len(self.calls)

    def calls_of(self, method: str, *, ok: bool | None = None, since: int = 0) -> list[Call]:
        return [call for call in self.calls[since:] if _matches(call, method, None, ok)]

    def chat_actions(self, chat_id: int) -> list[ChatAction]:
        return [action for action in self.state.chat_actions if action.chat_id == chat_id]

    def messages(self, chat_id: int, *, from_bot: bool = True) -> list[dict[str, Any]]:
        """The chat's live messages as they are now (after edits, without deleted ones), oldest first."""
        found = [
            (message_id, stored.data)
            for (chat, message_id), stored in self.state.messages.items()
            if chat == chat_id and not stored.deleted and (stored.from_bot if from_bot else True)
        ]
        return [copy.deepcopy(data) for _, data in sorted(found, key=lambda item: item[0])]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        stored = self.state.live_message(chat_id, message_id)
        return copy.deepcopy(stored.data) if stored else None

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
        """A message's inline buttons, row after row."""
        return inline_buttons(message)

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        """The command menu stored by setMyCommands for that scope and language."""
        scope = scope or {"type": "default"}
        key = (scope["type"], scope.get("chat_id"), scope.get("user_id"), language_code)
        return copy.deepcopy(self.state.commands.get(key, []))

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        query = self.state.callback_queries.get(query_id)
        return dict(query.answer) if query and query.answer else None

    def unanswered_callback_queries(self) -> list[str]:
        return [qid for qid, query in self.state.callback_queries.items() if query.answer is None]

    def chat_transcript(self, chat_id: int, *, include_user: bool = False) -> list[str]:
        """What the bot did in the chat, one readable line per message (albums: one line per item)."""
        return chat_transcript(chat_id, self.calls, self.pushed, self.state, include_user=include_user)

    # --- waiting -----------------------------------------------------------------------------------------
    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the tests' one bound for the whole wait
        *,
        ok: bool | None = None,
        since: int = 0,
    ) -> Call:
        """The first call of ``method`` (from index ``since``) matching ``predicate`` and ``ok``."""

        def find() -> Call | None:
            return next((c for c in self.calls[since:] if _matches(c, method, predicate, ok)), None)

        return await self._wait(find, timeout, f"a {method} call")

    async def wait_for_count(
        self,
        method: str,
        count: int,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the tests' one bound for the whole wait
        *,
        ok: bool | None = None,
        since: int = 0,
    ) -> list[Call]:
        """The first ``count`` matching calls of ``method``, waiting until there are that many."""

        def find() -> list[Call] | None:
            found = [c for c in self.calls[since:] if _matches(c, method, predicate, ok)]
            return found[:count] if len(found) >= count else None

        return await self._wait(find, timeout, f"{count} {method} calls")

    async def wait_until(
        self,
        condition: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - the tests' one bound for the whole wait
        what: str = "a condition",
    ) -> T:
        """Wait until ``condition()`` (checked after every call, push and download) is truthy; return it."""
        return await self._wait(lambda: condition() or None, timeout, what)

    async def _wait(self, find: Callable[[], T | None], seconds: float, what: str) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            found = find()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n  ".join(str(call) for call in self.calls[-25:] if call.method != "getUpdates")
                raise AssertionError(
                    f"timed out after {seconds} s waiting for {what}; recent calls (getUpdates left out):\n  "
                    f"{recent or '(none)'}"
                )
            changed = self._changed
            try:  # also re-check now and then: a condition may watch state no call or push changes
                await asyncio.wait_for(changed.wait(), min(remaining, _RECHECK_SECONDS))
            except TimeoutError:
                continue


def _matches(call: Call, method: str, predicate: Callable[[Call], bool] | None, ok: bool | None) -> bool:
    if call.method.lower() != method.lower():
        return False
    if ok is not None and call.ok != ok:
        return False
    return predicate is None or bool(predicate(call))
