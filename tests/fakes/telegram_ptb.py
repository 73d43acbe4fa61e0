"""Helpers for driving a real PTB ``Application`` against ``FakeTelegram`` inside a test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from telegram.ext import Application

TEST_TOKEN = "123456:TEST-fake-telegram-token"


@asynccontextmanager
async def polling(app: Application, *, poll_seconds: int = 1) -> AsyncIterator[Application]:
    """Initialize, start and poll ``app``; stop and shut everything down on the way out, even on failure.

    ``post_init``/``post_stop``/``post_shutdown`` run only inside ``run_polling``: call them yourself.
    ``poll_seconds`` is getUpdates' long-poll timeout; 1 keeps the shutdown to about a second.
    """
    async with app:
        await app.start()
        assert app.updater is not None
        try:
            await app.updater.start_polling(poll_interval=0, timeout=poll_seconds)
            yield app
        finally:
            if app.updater.running:
                await app.updater.stop()
            await app.stop()
