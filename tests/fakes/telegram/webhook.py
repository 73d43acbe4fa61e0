"""Webhook mode: setWebhook's checks and the delivery of pending updates by POST to the bot.

Telegram accepts only an https URL on ports 443, 80, 88 or 8443, and POSTs each update as JSON with the
``X-Telegram-Bot-Api-Secret-Token`` header; an answer other than 2xx is an error (shown by getWebhookInfo)
and the update is sent again later. A test's bot listens on plain HTTP on 127.0.0.1, so the fake keeps
the registered URL as Telegram would and sends each request to ``origin`` (``http://127.0.0.1:PORT``,
set by the test) with the URL's path. Deliveries go one at a time, oldest first (Telegram may use up to
``max_connections`` in parallel).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from . import errors
from .polling import UpdateQueue

WEBHOOK_PORTS = (443, 80, 88, 8443)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_IDLE_RECHECK_SECONDS = 0.5


@dataclass(frozen=True)
class WebhookConfig:
    """What setWebhook stored (getWebhookInfo reports it, the secret excepted)."""

    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None
    has_custom_certificate: bool


@dataclass(frozen=True)
class WebhookPost:
    """One delivery attempt: the update, where it went, the bot's HTTP status (None: no answer)."""

    update_id: int
    url: str
    secret_token: str | None
    status: int | None
    error: str | None
    time: float  # time.monotonic()

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def check_webhook_url(url: str) -> None:
    """setWebhook's refusals of the URL itself."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise errors.bad_request(errors.WEBHOOK_HTTPS_REQUIRED)
    try:
        port = parts.port or 443
    except ValueError:
        raise errors.bad_request(errors.WEBHOOK_BAD_PORT) from None
    if port not in WEBHOOK_PORTS:
        raise errors.bad_request(errors.WEBHOOK_BAD_PORT)


def check_secret_token(secret: str | None) -> None:
    if secret is not None and secret != "" and not _SECRET.fullmatch(secret):
        raise errors.bad_request(errors.SECRET_TOKEN_INVALID)


class WebhookDelivery:
    """Holds the webhook (``config``, None in polling mode) and POSTs pending updates while one is set."""

    def __init__(self, updates: UpdateQueue, *, origin: str | None, retry_seconds: float) -> None:
        self.updates = updates
        self.origin = origin
        self.retry_seconds = retry_seconds
        self.config: WebhookConfig | None = None
        self.posts: list[WebhookPost] = []
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._changed = asyncio.Event()
        self.on_post: list[Callable[[], None]] = []  # callbacks run after each attempt (the server's waits)

    @property
    def active(self) -> bool:
        return self.config is not None

    def set(self, config: WebhookConfig) -> None:
        self.config = config
        self.last_error_date = self.last_error_message = None
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._deliver_forever(), name="fake-telegram-webhook")
        self._changed.set()

    def delete(self) -> None:
        self.config = None
        self._changed.set()

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.config.url if self.config else "",
            "has_custom_certificate": bool(self.config and self.config.has_custom_certificate),
            "pending_update_count": len(self.updates.pending),
        }
        if self.config is not None:
            info["max_connections"] = self.config.max_connections
            if self.config.ip_address:
                info["ip_address"] = self.config.ip_address
            if self.updates.allowed_updates:
                info["allowed_updates"] = list(self.updates.allowed_updates)
            if self.last_error_date is not None:
                info["last_error_date"] = self.last_error_date
                info["last_error_message"] = self.last_error_message
        return info

    async def close(self) -> None:
        self.config = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- delivery ----------------------------------------------------------------------------------------
    async def _deliver_forever(self) -> None:
        while self.config is not None:
            update = self.updates.next_deliverable()
            if update is None or self.origin is None:
                if self.origin is None and update is not None:
                    self._failed("the fake delivers webhooks only to FakeTelegram.webhook_origin: set it")
                await self.updates.wait_for_push(_IDLE_RECHECK_SECONDS)
                continue
            post = await self._post(self.config, update)
            self.posts.append(post)
            for callback in self.on_post:
                callback()
            if post.delivered:
                self.updates.confirm(post.update_id)
            else:
                self._failed(post.error or f"Wrong response from the webhook: {post.status}")
                self._changed = asyncio.Event()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), self.retry_seconds)

    async def _post(self, config: WebhookConfig, update: dict[str, Any]) -> WebhookPost:
        assert self.origin is not None
        parts = urlsplit(config.url)
        target = self.origin.rstrip("/") + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {SECRET_HEADER: config.secret_token} if config.secret_token else {}
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        status: int | None = None
        error: str | None = None
        try:
            async with self._session.post(target, json=update, headers=headers) as response:
                status = response.status
                await response.read()
                if not 200 <= status < 300:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"Connection failed: {exc}" if str(exc) else "Connection failed"
        return WebhookPost(update["update_id"], target, config.secret_token, status, error, time.monotonic())

    def _failed(self, message: str) -> None:
        self.last_error_date = int(time.time())
        self.last_error_message = message
