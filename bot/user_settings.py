"""The per-user settings file (``[data] dir``/bot-user-settings.pickle), and what a damaged one costs.

PTB's ``PicklePersistence`` raises when the file cannot be read (empty, half-written, garbage), and
the bot would then fail at every start. ``UserSettingsPersistence`` sets such a file aside instead
(``<name>.damaged-<UTC time>``, kept for inspection), logs a warning and starts with no saved
settings: users lose their chosen category, not the bot.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram.ext import PicklePersistence

log = logging.getLogger(__name__)

DAMAGED_SUFFIX = ".damaged-"


def set_aside(path: Path, *, now: datetime | None = None) -> Path:
    """Rename a damaged file to ``<name>.damaged-<UTC time>`` next to it; returns the new path."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}{DAMAGED_SUFFIX}{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}{DAMAGED_SUFFIX}{stamp}-{counter}")
    path.rename(target)
    return target


class UserSettingsPersistence(PicklePersistence):  # type: ignore[type-arg]
    """``PicklePersistence`` (one file) that moves an unreadable file aside rather than failing."""

    async def get_user_data(self) -> dict[int, Any]:
        return await self._recovering(super().get_user_data)

    async def get_chat_data(self) -> dict[int, Any]:
        return await self._recovering(super().get_chat_data)

    async def get_bot_data(self) -> Any:
        return await self._recovering(super().get_bot_data)

    async def get_callback_data(self) -> Any:
        return await self._recovering(super().get_callback_data)

    async def get_conversations(self, name: str) -> Any:
        return await self._recovering(lambda: super(UserSettingsPersistence, self).get_conversations(name))

    async def _recovering(self, load: Any) -> Any:
        try:
            return await load()
        except TypeError as exc:  # PicklePersistence wraps every unpickling failure in a TypeError
            if not self.filepath.is_file():
                raise
            moved = set_aside(self.filepath)
            log.warning(
                "%s could not be read (%s: %s); moved it aside to %s and starting with no saved user "
                "settings (chosen categories are lost)",
                self.filepath,
                type(exc.__cause__ or exc).__name__,
                exc.__cause__ or exc,
                moved.name,
            )
        return await load()
