"""Whether the user store works now, said once in the log and on every ``/healthz``.

A failing store degrades the bot (settings kept in memory only; saving and alerts unavailable), it
does not stop it: searches never need the store. ``StoreHealth`` logs a warning when the store
starts failing or fails for a new reason, and one line when it works again, not at every failure.
"""

from __future__ import annotations

import logging

from indexer.monitoring.health import ComponentStatus

log = logging.getLogger(__name__)

COMPONENT = "user_store"  # its name under /healthz "components"
CONSEQUENCE = (
    "user settings are kept in memory only (lost at restart); saved products and alerts are unavailable"
)


class StoreHealth:
    """The user store's last known state (``ok`` until a failure is reported)."""

    def __init__(self) -> None:
        self._reason: str | None = None

    @property
    def ok(self) -> bool:
        return self._reason is None

    @property
    def reason(self) -> str | None:
        return self._reason

    def failed(self, reason: str) -> None:
        if reason != self._reason:
            log.warning("user store unavailable: %s; %s", reason, CONSEQUENCE)
        self._reason = reason

    def recovered(self) -> None:
        if self._reason is not None:
            log.info("user store works again (it failed with: %s)", self._reason)
        self._reason = None

    def status(self) -> ComponentStatus:
        """For ``/healthz``: degraded with the reason, or ok."""
        if self._reason is None:
            return ComponentStatus("ok")
        return ComponentStatus("degraded", f"{self._reason}; {CONSEQUENCE}")
