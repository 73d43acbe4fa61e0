"""The user database's schema, as forward migrations numbered by SQLite's ``PRAGMA user_version``.

``MIGRATIONS[n]`` takes a database at version ``n`` to ``n + 1``. They run at start-up, each in its own
transaction together with the version bump, so a crash mid-migration leaves the previous version
intact and the next start runs it again. Never edit a released migration: append a new one.

Times are UTC ISO 8601 text (``2026-12-06T22:48:37Z``: sorts and reads well in the ``sqlite3``
shell); prices are whole won; JSON columns hold ``SearchFilters.to_dict()`` or a list of product ids.
Every row about a user hangs off ``user_settings`` (foreign keys, ``ON DELETE CASCADE``).
"""

from __future__ import annotations

Migration = tuple[str, ...]

V1: Migration = (
    """
    CREATE TABLE user_settings (
        user_id     INTEGER PRIMARY KEY,
        language    TEXT,                 -- /settings override ('en', 'ko'); NULL: Telegram's language
        category    TEXT,                 -- category code; NULL: all
        filters     TEXT,                 -- JSON SearchFilters.to_dict(); NULL: the defaults
        alerts      INTEGER NOT NULL DEFAULT 1 CHECK (alerts IN (0, 1)),
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE saved_products (
        user_id         INTEGER NOT NULL REFERENCES user_settings (user_id) ON DELETE CASCADE,
        product_id      INTEGER NOT NULL,
        saved_price     INTEGER,          -- won, when saved (NULL: unknown)
        saved_sold_out  INTEGER NOT NULL CHECK (saved_sold_out IN (0, 1)),
        told_price      INTEGER,          -- the price the user was last told (alerts compare with it)
        told_sold_out   INTEGER NOT NULL CHECK (told_sold_out IN (0, 1)),
        saved_at        TEXT NOT NULL,
        PRIMARY KEY (user_id, product_id)
    ) WITHOUT ROWID
    """,
    # Alerts start from the sync's changed product ids.
    "CREATE INDEX saved_products_by_product ON saved_products (product_id)",
    """
    CREATE TABLE alert_log (
        id          INTEGER PRIMARY KEY,
        user_id     INTEGER NOT NULL REFERENCES user_settings (user_id) ON DELETE CASCADE,
        product_id  INTEGER NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('price_drop', 'restock')),
        price       INTEGER,              -- the new price told
        sync_id     TEXT NOT NULL,        -- the sync whose diff raised it
        state       TEXT NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'failed', 'blocked')),
        created_at  TEXT NOT NULL,
        sent_at     TEXT,
        UNIQUE (user_id, product_id, kind, sync_id)
    )
    """,
    "CREATE INDEX alert_log_by_sync ON alert_log (sync_id, state)",
    """
    CREATE TABLE feedback (
        id           INTEGER PRIMARY KEY,
        created_at   TEXT NOT NULL,
        user_id      INTEGER NOT NULL REFERENCES user_settings (user_id) ON DELETE CASCADE,
        flow         TEXT NOT NULL,       -- photo, garment, text, similar
        category     TEXT,
        filters      TEXT,                -- JSON
        model_id     TEXT,
        product_ids  TEXT NOT NULL,       -- JSON list of the shown product ids
        vote         INTEGER NOT NULL CHECK (vote IN (-1, 1))
    )
    """,
    "CREATE INDEX feedback_by_time ON feedback (created_at)",
    "CREATE INDEX feedback_by_user ON feedback (user_id)",
)

# Alerts: the user's Telegram language (alerts are sent outside any update), and which syncs' price
# changes have been turned into alert_log rows (recorded in the same transaction as the rows).
V2_ALERTS: Migration = (
    "ALTER TABLE user_settings ADD COLUMN telegram_language TEXT",  # Telegram's language_code, last seen
    """
    CREATE TABLE alert_computations (
        sync_id      TEXT PRIMARY KEY,
        computed_at  TEXT NOT NULL,
        alerts       INTEGER NOT NULL
    )
    """,
    "ALTER TABLE alert_log ADD COLUMN old_price INTEGER",  # the price last told, for the message
    "CREATE INDEX alert_log_pending ON alert_log (state, user_id)",
)

MIGRATIONS: tuple[Migration, ...] = (V1, V2_ALERTS)
SCHEMA_VERSION = len(MIGRATIONS)
