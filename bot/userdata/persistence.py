"""``UserDataPersistence``: PTB's ``user_data`` (language, category, filters) kept in the user store.

Handlers keep reading and writing ``context.user_data`` through ``bot.preferences``; PTB hands the
changed users' dicts to ``update_user_data`` (at once after /category, else every
``update_interval``), and this class writes the ones whose preferences changed, in one transaction.

The store is opened in ``get_user_data`` (PTB calls it in ``Application.initialize``): its schema is
migrated and the settings file of earlier releases (``bot.userdata.legacy``) is imported once. When
the store cannot be opened or written (locked, read-only, full, corrupt), the bot runs on: settings
live in memory only, ``health`` says why (logged once, on ``/healthz``), and a failed write is
retried at the next update. A store that failed to open is not retried until the next start (its
stored settings were never loaded, so writing would overwrite them with defaults).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from telegram.ext import Application, BasePersistence, PersistenceInput

from bot.preferences import CATEGORY_KEY, FILTERS_KEY, LANGUAGE_KEY
from bot.userdata.health import StoreHealth
from bot.userdata.legacy import LEGACY_FILE, mark_migrated, preferences_of, read_legacy_settings
from bot.userdata.sqlite import BUSY_TIMEOUT_SECONDS, USERS_FILE, SqliteUserStore
from bot.userdata.store import Forgotten, Preferences, UserStore, UserStoreError

log = logging.getLogger(__name__)

UserData = dict[Any, Any]
UPDATE_INTERVAL_SECONDS = 30


def data_of(preferences: Preferences) -> UserData:
    """``Preferences`` as the ``user_data`` dict ``bot.preferences`` reads (only what is set)."""
    data: UserData = {}
    if preferences.language is not None:
        data[LANGUAGE_KEY] = preferences.language
    if preferences.category is not None:
        data[CATEGORY_KEY] = preferences.category
    if preferences.filters:
        data[FILTERS_KEY] = dict(preferences.filters)
    return data


class UserDataPersistence(BasePersistence[UserData, UserData, UserData]):
    """Only ``user_data``, in ``[data] dir``/users.sqlite3; nothing of chats, bot data or callbacks."""

    def __init__(
        self,
        data_dir: str | Path,
        *,
        update_interval: float = UPDATE_INTERVAL_SECONDS,
        busy_timeout_seconds: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / USERS_FILE
        self.busy_timeout_seconds = busy_timeout_seconds
        self.health = StoreHealth()
        self.store: UserStore | None = None
        self._written: dict[int, Preferences] = {}  # what the store holds, by user
        self._pending: dict[int, Preferences] = {}  # changes the store has not taken yet
        self._writing = asyncio.Lock()

    # Opening

    async def _open(self) -> None:
        try:
            store = await SqliteUserStore.open(self.path, busy_timeout_seconds=self.busy_timeout_seconds)
        except UserStoreError as exc:
            self.health.failed(exc.reason)
            return
        self.store = store
        self.health.recovered()
        await self._import_legacy(store)

    async def _import_legacy(self, store: UserStore) -> None:
        legacy = read_legacy_settings(self.data_dir / LEGACY_FILE)
        if legacy is None:
            return
        try:
            await store.put_preferences(legacy.users)
        except UserStoreError as exc:
            self.health.failed(exc.reason)
            log.warning("%s not imported (it stays, for the next start): %s", legacy.path, exc.reason)
            return
        try:
            moved = mark_migrated(legacy.path)
        except OSError as exc:  # imported again at the next start: the same rows, written again
            log.warning("imported %s but could not rename it: %s", legacy.path, exc)
            return
        log.info(
            "moved the settings of %d users from %s into %s (the old file is now %s)",
            len(legacy.users),
            legacy.path.name,
            self.path.name,
            moved.name,
        )

    async def get_user_data(self) -> dict[int, UserData]:
        if self.store is None:
            await self._open()
        if self.store is None:
            return {}
        try:
            rows = await self.store.all_settings()
        except UserStoreError as exc:
            self.health.failed(exc.reason)
            return {}
        self._written = {user_id: row.preferences for user_id, row in rows.items()}
        return {
            user_id: data_of(preferences)
            for user_id, preferences in self._written.items()
            if not preferences.is_default
        }

    # Writing

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        preferences = preferences_of(data)
        known = self._written.get(user_id, Preferences())
        if preferences == known:
            self._pending.pop(user_id, None)
            return
        self._pending[user_id] = preferences
        await self._write_pending()

    async def drop_user_data(self, user_id: int) -> None:
        """PTB dropped the user's ``user_data``: their preferences are the defaults again."""
        await self.update_user_data(user_id, {})

    async def _write_pending(self) -> None:
        # PTB updates many users at once: the first call writes them all in one transaction, the
        # others find nothing left to write.
        async with self._writing:
            if self.store is None or not self._pending:
                return
            batch = dict(self._pending)
            try:
                await self.store.put_preferences(batch)
            except UserStoreError as exc:
                self.health.failed(exc.reason)
                return
            self.health.recovered()
            self._written.update(batch)
            for user_id, preferences in batch.items():
                if self._pending.get(user_id) == preferences:
                    del self._pending[user_id]

    async def forget(self, user_id: int) -> Forgotten:
        """Delete every row about the user (``UserStoreError`` when the store is unavailable)."""
        self._pending.pop(user_id, None)
        if self.store is None:
            raise UserStoreError(self.health.reason or "the user store is not open")
        try:
            forgotten = await self.store.forget(user_id)
        except UserStoreError as exc:
            self.health.failed(exc.reason)
            raise
        self._written.pop(user_id, None)
        return forgotten

    async def flush(self) -> None:
        """At shutdown: a last try at unwritten changes, then close the store."""
        await self._write_pending()
        if self._pending:
            log.warning(
                "the settings changes of %d users could not be saved: %s",
                len(self._pending),
                self.health.reason,
            )
        store, self.store = self.store, None
        if store is not None:
            await store.close()

    # Not persisted: chats, bot data, callback data, conversations.

    async def get_chat_data(self) -> dict[int, UserData]:
        return {}

    async def get_bot_data(self) -> UserData:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def get_conversations(self, name: str) -> dict[Any, Any]:
        return {}

    async def update_chat_data(self, chat_id: int, data: UserData) -> None:
        return None

    async def update_bot_data(self, data: UserData) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def update_conversation(self, name: str, key: Any, new_state: object | None) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: UserData) -> None:
        return None

    async def refresh_bot_data(self, bot_data: UserData) -> None:
        return None


def user_persistence(application: Application) -> UserDataPersistence | None:  # type: ignore[type-arg]
    """The application's ``UserDataPersistence`` (None when it has another or none)."""
    persistence = application.persistence
    return persistence if isinstance(persistence, UserDataPersistence) else None


def user_store(application: Application) -> UserStore | None:  # type: ignore[type-arg]
    """The open user store, or None while it is unavailable (features that need it say so)."""
    persistence = user_persistence(application)
    return persistence.store if persistence is not None and persistence.health.ok else None


async def forget_user(application: Application, user_id: int) -> Forgotten:  # type: ignore[type-arg]
    """Delete every row about the user, then their in-memory settings (``UserStoreError``: nothing
    deleted, the store is unavailable)."""
    persistence = user_persistence(application)
    if persistence is None:
        raise UserStoreError("no user store configured")
    forgotten = await persistence.forget(user_id)
    application.drop_user_data(user_id)
    return forgotten
