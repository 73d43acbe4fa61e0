"""What the bot keeps about its users (settings, saved products, alert log, feedback): ``UserStore``.

``bot.userdata.store`` is the interface, ``bot.userdata.sqlite`` its embedded SQLite implementation
(``[data] dir``/users.sqlite3), ``bot.userdata.persistence`` PTB's ``user_data`` on top of it, and
``bot.userdata.health`` what ``/healthz`` and the log say when it fails.
"""

from bot.userdata.health import StoreHealth
from bot.userdata.persistence import UserDataPersistence, forget_user, user_store
from bot.userdata.sqlite import USERS_FILE, SqliteUserStore
from bot.userdata.store import (
    Feedback,
    Forgotten,
    Preferences,
    SavedLimitError,
    SavedProduct,
    UserSettings,
    UserStore,
    UserStoreError,
)

__all__ = [
    "USERS_FILE",
    "Feedback",
    "Forgotten",
    "Preferences",
    "SavedLimitError",
    "SavedProduct",
    "SqliteUserStore",
    "StoreHealth",
    "UserDataPersistence",
    "UserSettings",
    "UserStore",
    "UserStoreError",
    "forget_user",
    "user_store",
]
