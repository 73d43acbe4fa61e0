"""Reading the bot's user database from the CLI, read-only, while the bot may be running.

Nothing is created or migrated: a missing file means no user has been stored yet (``None``), and a
file that cannot be read (corrupt, locked past the busy timeout, a newer schema) is a
``UserStoreError`` with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from bot.userdata.sqlite import USERS_FILE, SqliteUserStore

T = TypeVar("T")
CLI_BUSY_TIMEOUT_SECONDS = 2.0  # a report waits this long for a writer's lock, then says it is locked


def users_file(data_dir: Path) -> Path:
    return data_dir / USERS_FILE


async def read_users(data_dir: Path, query: Callable[[SqliteUserStore], Awaitable[T]]) -> T | None:
    """``query`` on the user database under ``data_dir``; None when there is none yet."""
    path = users_file(data_dir)
    if not path.exists():
        return None
    store = await SqliteUserStore.open_read_only(path, busy_timeout_seconds=CLI_BUSY_TIMEOUT_SECONDS)
    try:
        if await store.schema_version() == 0:  # created, never migrated: nothing in it
            return None
        return await query(store)
    finally:
        await store.close()
