"""The nightly sync's engine, independent of Telegram: one run at a time, and when the next one is due.

``NightlySync`` wraps a coroutine factory that performs one sync (usually ``run_sync`` bound to
the process's catalog and encoder). Two schedulers drive it:

- ``snapfit run``: the bot registers ``nightly.job_callback`` with PTB's JobQueue::

      app.job_queue.run_daily(nightly.job_callback, time=nightly.time_of_day,
                              name="nightly-sync", job_kwargs=nightly.job_kwargs())

- ``snapfit schedule``: APScheduler's ``AsyncIOScheduler`` with a ``CronTrigger`` at the same
  time and the same job kwargs (``bot/cli/schedule_cmd.py``).

Overlap: ``run`` never starts while a run (nightly, /sync, or the start-up sync) is going; the
late one is skipped, logged and answered with ``None``. APScheduler's ``max_instances=1``
says the same for its own jobs.

Misfires: a run that could not start on time (the event loop was blocked, the machine slept)
still starts if it is at most ``[schedule] misfire_grace_seconds`` late; later than that it is
skipped and the next one is the following night. Several missed runs are coalesced into one.
The schedule lives in memory: a process that was down at ``nightly_at`` does not catch up
when it starts (except that an empty index is synced at once when ``sync_when_empty``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from indexer.config import ScheduleSettings
from indexer.store.catalog import Catalog
from indexer.sync.summary import SyncSummary, load_last_summary

log = logging.getLogger(__name__)

SyncFactory = Callable[[], Awaitable[SyncSummary]]
SyncObserver = Callable[[SyncSummary], None]
JOB_NAME = "nightly-sync"


class NightlySync:
    """Runs one sync at a time and remembers the last result.

    ``run_once`` is called with no arguments and returns the run's ``SyncSummary``.
    ``data_dir`` (``[data] dir``), when given, seeds ``last_summary`` from the summary the
    previous process saved, so /stats has something to show right after a restart.
    """

    def __init__(
        self,
        run_once: SyncFactory,
        schedule: ScheduleSettings,
        *,
        data_dir: str | Path | None = None,
    ) -> None:
        self._run_once = run_once
        self.schedule = schedule
        self._zone = ZoneInfo(schedule.timezone)
        self._at = time.fromisoformat(schedule.nightly_at)
        self.last_summary: SyncSummary | None = load_last_summary(data_dir) if data_dir is not None else None
        self.running_since: datetime | None = None
        self.running_reason: str | None = None
        self.skipped = 0
        # Called with each finished run's summary (metrics); must return quickly. A failing
        # observer is logged and never affects the sync.
        self.observers: list[SyncObserver] = []
        self._task: asyncio.Task[SyncSummary | None] | None = None  # started by ``start``
        self._current: asyncio.Task[Any] | None = None  # the task running a sync now, whoever started it

    # ---- when --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.running_since is not None

    @property
    def timezone(self) -> ZoneInfo:
        return self._zone

    @property
    def time_of_day(self) -> time:
        """``nightly_at`` with its time zone attached: what PTB's ``run_daily(time=...)`` takes."""
        return self._at.replace(tzinfo=self._zone)

    def job_kwargs(self) -> dict[str, Any]:
        """APScheduler job options shared by ``snapfit schedule`` and PTB's ``run_daily(job_kwargs=...)``."""
        return {
            "misfire_grace_time": self.schedule.misfire_grace_seconds,
            "coalesce": True,
            "max_instances": 1,
        }

    def next_run(self, now: datetime) -> datetime:
        """The first ``nightly_at`` strictly after ``now`` (aware), as an aware time in the schedule's zone.

        A wall time that does not exist that day (a daylight-saving gap) runs at the same
        distance after the gap begins (02:30 in a 02:00→03:00 gap becomes 03:30); a wall time
        that happens twice (the hour repeated in autumn) runs at its first occurrence.
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("next_run needs an aware datetime (with a time zone)")
        day = now.astimezone(self._zone).date()
        for offset in range(3):
            candidate = self._at_on(day + timedelta(days=offset))
            if candidate > now:
                return candidate
        raise AssertionError("unreachable: a day later is always in the future")

    def _at_on(self, day: date) -> datetime:
        wall = datetime.combine(day, self._at)
        aware = wall.replace(tzinfo=self._zone)  # fold=0: the first of two, or before a gap
        return aware.astimezone(UTC).astimezone(self._zone)

    # ---- run ---------------------------------------------------------------------------

    async def run(self, reason: str) -> SyncSummary | None:
        """One sync now, unless one is already running: then log, count and return ``None``.

        Exceptions of the sync itself propagate (``run_sync`` returns operational failures in
        its summary instead of raising, so what propagates is a bug or a cancellation).
        """
        if self.running_since is not None:
            self.skipped += 1
            log.warning(
                "sync (%s) skipped: the sync started at %s (%s) is still running",
                reason,
                self.running_since.isoformat(timespec="seconds"),
                self.running_reason,
            )
            return None
        self.running_since = datetime.now(UTC)
        self.running_reason = reason
        self._current = asyncio.current_task()
        log.info("sync (%s) starting", reason)
        try:
            summary = await self._run_once()
        finally:
            self.running_since = None
            self.running_reason = None
            self._current = None
        self.last_summary = summary
        for observer in self.observers:
            try:
                observer(summary)
            except Exception:
                log.exception("sync observer %r failed", observer)
        return summary

    async def job_callback(self, context: object = None) -> None:
        """For PTB's JobQueue (``context`` is PTB's CallbackContext, unused) and APScheduler."""
        await self.run("nightly")

    def start(self, reason: str) -> asyncio.Task[SyncSummary | None] | None:
        """Run in the background (for /sync and the start-up sync); None when one is running."""
        if self.running or (self._task is not None and not self._task.done()):
            self.skipped += 1
            log.warning("sync (%s) not started: a sync is already running", reason)
            return None
        task = asyncio.get_running_loop().create_task(self.run(reason), name=f"sync ({reason})")
        task.add_done_callback(_log_crash)
        self._task = task
        return task

    async def stop(self) -> None:
        """Cancel the running sync, whoever started it, and wait for it to wind down.

        What it stored stays stored and a rebuild stays resumable: the next run goes on from there.
        """
        tasks = {task for task in (self._current, self._task) if task is not None and not task.done()}
        self._task = None
        current = asyncio.current_task()
        for task in tasks - {current}:
            task.cancel()
        if tasks - {current}:
            await asyncio.wait(tasks - {current})


async def index_is_empty(catalog: Catalog) -> bool:
    """No live index version, or one without products: a sync should start at once."""
    return catalog.version is None or await catalog.count() == 0


def _log_crash(task: asyncio.Task[SyncSummary | None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s crashed", task.get_name(), exc_info=task.exception())
