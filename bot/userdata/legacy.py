"""The settings file of earlier releases (PTB's ``PicklePersistence``), read once to move into the store.

``[data] dir``/bot-user-settings.pickle held ``{"user_data": {user_id: {"language", "category",
"filters"}}, ...}``. ``read_legacy_settings`` returns its users' preferences; a file that cannot be
read (empty, half-written, garbage) is set aside as ``<name>.damaged-<UTC time>`` (kept for
inspection) and yields nothing: users lose their chosen settings, not the bot. After a successful
import the caller renames the file ``<name>.migrated`` so it is never read again.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.messages import LANGUAGES
from bot.preferences import CATEGORY_KEY, FILTERS_KEY, LANGUAGE_KEY
from bot.userdata.store import Preferences

log = logging.getLogger(__name__)

LEGACY_FILE = "bot-user-settings.pickle"
DAMAGED_SUFFIX = ".damaged-"
MIGRATED_SUFFIX = ".migrated"


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


def preferences_of(data: Any) -> Preferences:
    """One user's ``user_data`` dict as ``Preferences`` (values of the wrong type read as defaults)."""
    if not isinstance(data, dict):
        return Preferences()
    language = data.get(LANGUAGE_KEY)
    category = data.get(CATEGORY_KEY)
    filters = data.get(FILTERS_KEY)
    return Preferences(
        language=language if language in LANGUAGES else None,
        category=category if isinstance(category, str) and category else None,
        filters=filters if isinstance(filters, dict) and filters else None,
    )


@dataclass(frozen=True)
class LegacySettings:
    """What the old file held: users with any non-default preference."""

    path: Path
    users: dict[int, Preferences]


def read_legacy_settings(path: Path) -> LegacySettings | None:
    """The old file's preferences; None when there is no file, or it was damaged (then set aside)."""
    if not path.is_file():
        return None
    try:
        with path.open("rb") as file:
            saved = pickle.load(file)  # our own file, written by an earlier release
        user_data = saved["user_data"] if isinstance(saved, dict) else None
        if not isinstance(user_data, dict):
            raise ValueError(f"no user_data mapping in a {type(saved).__name__}")
    except Exception as exc:  # unpickling fails in many ways: EOFError, UnpicklingError, ValueError...
        moved = set_aside(path)
        log.warning(
            "%s could not be read (%s: %s); moved it aside to %s and starting with no saved user "
            "settings from it (chosen categories are lost)",
            path,
            type(exc).__name__,
            exc,
            moved.name,
        )
        return None
    users: dict[int, Preferences] = {}
    for user_id, data in user_data.items():
        preferences = preferences_of(data)
        if isinstance(user_id, int) and not preferences.is_default:
            users[user_id] = preferences
    return LegacySettings(path, users)


def mark_migrated(path: Path) -> Path:
    """Rename the imported file ``<name>.migrated`` (replacing an older one), so it is not read again."""
    target = path.with_name(path.name + MIGRATED_SUFFIX)
    path.replace(target)
    return target
