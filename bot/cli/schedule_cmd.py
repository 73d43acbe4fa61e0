"""``snapfit schedule``: only the nightly sync, in its own process (no Telegram).

For deployments where the bot and the indexer are separate services sharing a Qdrant server.
APScheduler's ``AsyncIOScheduler`` fires ``NightlySync.run`` at ``[schedule] nightly_at`` in
``[schedule] timezone`` with the misfire grace, coalescing and single-instance options of
``NightlySync.job_kwargs()``. On start, an empty index (with ``sync_when_empty``) is synced at
once in the background. SIGTERM or SIGINT cancels a running sync (what it stored is kept; a
rebuild stays resumable), closes the index and exits 0. ``[metrics]``: ``/metrics`` and
``/healthz`` are served from the start (``/healthz`` says "starting" until the index is open).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.cli import ConfigOption, app, fail, load

if TYPE_CHECKING:
    from indexer.config import Settings
    from indexer.monitoring import Monitoring

log = logging.getLogger("snapfit.schedule")


@app.command("schedule")
def schedule(config: ConfigOption = None) -> None:
    """Run only the nightly sync (at schedule.nightly_at) until stopped by SIGTERM or Ctrl-C."""
    settings = load(config)
    if not settings.schedule.enabled:
        raise fail("the nightly sync is disabled ([schedule] enabled = false): nothing to run", 2)
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:  # a second Ctrl-C while winding down
        raise fail("interrupted", 130) from None


async def serve(settings: object) -> None:
    """The scheduler, with ``/metrics`` and ``/healthz`` (``[metrics]``) for as long as it runs."""
    from indexer.config import Settings
    from indexer.monitoring import Monitoring, MonitoringError

    assert isinstance(settings, Settings)
    try:
        monitoring = await Monitoring.start(settings, "indexer")
    except MonitoringError as exc:
        raise fail(str(exc)) from None
    try:
        await _serve(settings, monitoring)
    finally:
        if monitoring is not None:
            await monitoring.stop()


async def _serve(settings: Settings, monitoring: Monitoring | None) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    from bot.cli.indexing import load_encoder, open_store
    from indexer.schedule import JOB_NAME, NightlySync, index_is_empty
    from indexer.sync import run_sync

    catalog = await open_store(settings.store)
    try:
        encoder = load_encoder(settings.model)
        nightly = NightlySync(
            lambda: run_sync(settings, catalog=catalog, encoder=encoder),
            settings.schedule,
            data_dir=settings.data.dir,
        )
        if monitoring is not None:
            monitoring.attach_sync(catalog, nightly)
        at = nightly.time_of_day
        scheduler = AsyncIOScheduler(timezone=nightly.timezone)
        scheduler.add_job(
            nightly.run,
            CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=nightly.timezone),
            args=["nightly"],
            id=JOB_NAME,
            name=JOB_NAME,
            **nightly.job_kwargs(),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        scheduler.start()
        try:
            log.info(
                "nightly sync scheduled at %s %s; next run %s",
                settings.schedule.nightly_at,
                settings.schedule.timezone,
                nightly.next_run(datetime.now(UTC)).isoformat(timespec="minutes"),
            )
            if settings.schedule.sync_when_empty and await index_is_empty(catalog):
                log.info("the index is empty: syncing now")
                nightly.start("empty index")
            await stop.wait()
            log.info("stopping: a running sync is cancelled; what it stored is kept")
        finally:
            scheduler.shutdown(wait=False)
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            await nightly.stop()
    finally:
        await catalog.close()
