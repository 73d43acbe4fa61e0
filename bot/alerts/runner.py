"""``AlertRunner``: turns each sync's price changes into alerts and sends them, inside ``snapfit run``.

A pass (one at a time) reads the price-changes files it has not handled (``indexer.sync.changes``),
computes and records the alerts of each sync not yet computed (one store transaction per sync,
rows and "computed" mark together), then sends every pending alert of computed syncs. Passes run
at start-up (what a restart left pending), after each sync of this process (the nightly job's
observer, which /sync shares), and every ``[alerts] poll_seconds`` (a sync run by ``snapfit
schedule`` in another process writes the same files).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bot.alerts.compute import compute_alerts
from bot.alerts.send import Pacer, SendReport, send_pending
from bot.userdata import user_store
from bot.userdata.store import UserStore, UserStoreError
from indexer.store.errors import CatalogError
from indexer.sync.changes import changes_files, read_changes

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.services import BotServices
    from indexer.product import Product

log = logging.getLogger(__name__)

ALERTS_KEY = "snapfit.alerts"
POLL_JOB = "alerts-poll"
LANGUAGE_RETRY_SECONDS = 60.0  # a user with no row yet: try again to store their language after this


class AlertRunner:
    def __init__(self, app: Application, services: BotServices) -> None:  # type: ignore[type-arg]
        self.app = app
        self.services = services
        self.settings = services.settings.alerts
        self.pacer = Pacer(self.settings.messages_per_second)
        self.last_report: SendReport | None = None
        self._handled: set[str] = set()  # names of changes files already computed
        self._lock = asyncio.Lock()
        self._again = False
        self._languages: dict[int, str | None] = {}
        self._no_row: dict[int, float] = {}

    @property
    def data_dir(self) -> Path:
        return self.services.settings.data.path

    def trigger(self, reason: str) -> None:
        """Start a pass in the background; one asked for while a pass runs follows it."""
        if self._lock.locked():
            self._again = True
            return
        self.services.spawn(self._passes(reason), f"alerts ({reason})")

    async def _passes(self, reason: str) -> None:
        while True:
            self._again = False
            try:
                await self.run_pass()
            except UserStoreError as exc:
                log.warning("alerts (%s) paused: the user store is unavailable: %s", reason, exc.reason)
            except Exception:
                log.exception("alerts (%s) failed", reason)
            if not self._again:
                return

    async def run_pass(self) -> SendReport | None:
        """Compute the alerts of new syncs, then send what is pending. None when the store is unavailable."""
        async with self._lock:
            store = user_store(self.app)
            if store is None:
                return None
            await self._compute_new(store)
            report = await send_pending(
                self.app.bot,
                store,
                self._products,
                self.settings,
                web_url=self.services.settings.musinsa.web_url,
                pacer=self.pacer,
            )
            if report.messages or report.blocked_users or report.failed_messages or report.stopped:
                log.info(
                    "alerts: %d messages (%d alerts) sent, %d users blocked the bot, %d refused%s",
                    report.messages,
                    report.alerts,
                    report.blocked_users,
                    report.failed_messages,
                    f"; paused: {report.stopped}" if report.stopped else "",
                )
            self.last_report = report
            return report

    async def _compute_new(self, store: UserStore) -> None:
        for path in changes_files(self.data_dir):
            if path.name in self._handled:
                continue
            changes = read_changes(path)
            if changes is None:
                self._handled.add(path.name)
                continue
            if not await store.alert_computed(changes.sync_id):
                ids = [change.product_id for change in changes.changes]
                computed = compute_alerts(changes.changes, await store.saved_watches(ids), self.settings)
                added = await store.record_alerts(changes.sync_id, computed.alerts, computed.sold_out)
                log.info(
                    "alerts of sync %s: %d changed products, %d alerts", changes.sync_id, len(ids), added
                )
            self._handled.add(path.name)

    async def _products(self, ids: list[int]) -> Mapping[int, Product]:
        """Names and links for the messages; none (the message says "Product N") if the catalog fails."""
        found: dict[int, Product] = {}
        try:
            for start in range(0, len(ids), 256):
                for item in await self.services.catalog.get(ids[start : start + 256]):
                    found[item.product.id] = item.product
        except CatalogError as exc:
            log.warning("alerts: product names unavailable (%s)", exc)
        return found

    async def note_language(self, user_id: int, language_code: str | None) -> None:
        """Keep the user's Telegram language for alerts (written when it changes, for users with a row)."""
        if self._languages.get(user_id, "?") == language_code:
            return
        if time.monotonic() < self._no_row.get(user_id, 0.0):
            return
        store = user_store(self.app)
        if store is None:
            return
        try:
            stored = await store.note_telegram_language(user_id, language_code)
        except UserStoreError:
            return
        if stored:
            self._languages[user_id] = language_code
            self._no_row.pop(user_id, None)
        else:
            self._no_row[user_id] = time.monotonic() + LANGUAGE_RETRY_SECONDS


async def start_alerts(app: Application, services: BotServices) -> AlertRunner | None:  # type: ignore[type-arg]
    """Create the runner: after each sync of this process, every ``poll_seconds``, and once now."""
    if not services.settings.alerts.enabled:
        log.info("alerts disabled ([alerts] enabled = false)")
        return None
    runner = AlertRunner(app, services)
    app.bot_data[ALERTS_KEY] = runner
    if services.nightly is not None:
        services.nightly.observers.append(lambda summary: runner.trigger("after a sync"))
    if app.job_queue is not None:

        async def poll(_context: object) -> None:
            runner.trigger("poll")

        interval = services.settings.alerts.poll_seconds
        app.job_queue.run_repeating(poll, interval=interval, first=interval, name=POLL_JOB)
    runner.trigger("start-up")
    return runner
