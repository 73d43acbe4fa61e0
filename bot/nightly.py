"""The nightly sync inside ``snapfit run``: PTB's JobQueue fires ``indexer.schedule.NightlySync``.

The sync shares the bot's catalog and encoder (an embedded index belongs to one process). This
module connects it to Telegram: the daily job, the start-up sync of an empty index, the admin's
``/sync`` report and the "last sync / next run" part of ``/stats``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.messages import Lang, text
from bot.render import fit_message

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import Application

    from bot.services import BotServices
    from indexer.schedule import NightlySync
    from indexer.sync import SyncSummary

log = logging.getLogger(__name__)


async def start_nightly(app: Application, services: BotServices) -> NightlySync:  # type: ignore[type-arg]
    """Create the process's ``NightlySync``, schedule it daily and sync an empty index at once."""
    from indexer.schedule import JOB_NAME, NightlySync, index_is_empty
    from indexer.sync import run_sync

    settings = services.settings
    nightly = NightlySync(
        lambda: run_sync(settings, catalog=services.catalog, encoder=services.encoder),
        settings.schedule,
        data_dir=settings.data.dir,
    )
    services.nightly = nightly
    # Closed before the catalog: a running sync is cancelled (what it stored stays; a rebuild resumes).
    services.on_close(nightly.stop)
    if not settings.schedule.enabled:
        log.info("nightly sync disabled ([schedule] enabled = false); /sync still works")
        return nightly
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without its job-queue extra")
    app.job_queue.run_daily(
        nightly.job_callback, time=nightly.time_of_day, name=JOB_NAME, job_kwargs=nightly.job_kwargs()
    )
    log.info(
        "nightly sync scheduled at %s %s; next run %s",
        settings.schedule.nightly_at,
        settings.schedule.timezone,
        nightly.next_run(datetime.now(UTC)).isoformat(timespec="minutes"),
    )
    if settings.schedule.sync_when_empty and await index_is_empty(services.catalog):
        log.info("the index is empty: syncing now")
        nightly.start("empty index")
    return nightly


def summary_text(lang: Lang, summary: SyncSummary, timezone: str) -> str:
    """A sync summary for an admin: the counts in their language, then the engine's notes."""
    finished = summary.finished_at or summary.started_at
    key = "sync_summary_ok" if summary.ok else "sync_summary_failed"
    lines = [
        text(
            lang,
            key,
            finished=_local(finished, timezone),
            crawled=f"{summary.crawled:,}",
            added=f"{summary.added:,}",
            updated=f"{summary.updated:,}",
            unchanged=f"{summary.unchanged:,}",
            removed=f"{summary.removed:,}",
            failed=f"{summary.failed:,}",
            seconds=f"{summary.seconds:,.0f}",
        )
    ]
    if summary.ok and not summary.complete:
        lines.append(text(lang, "sync_incomplete", categories=", ".join(summary.incomplete_categories)))
    lines += [text(lang, "sync_note", note=note) for note in summary.notes()]
    return fit_message("\n".join(lines))


async def sync_stats_section(services: BotServices, lang: Lang) -> str | None:
    """/stats: the last sync, a sync running now, and when the next nightly run is due."""
    nightly = services.nightly
    if nightly is None:
        return None
    schedule = services.settings.schedule
    lines = []
    if nightly.last_summary is not None:
        lines.append(summary_text(lang, nightly.last_summary, schedule.timezone))
    else:
        lines.append(text(lang, "sync_never"))
    if nightly.running_since is not None:
        lines.append(text(lang, "sync_running", since=_local(nightly.running_since, schedule.timezone)))
    if schedule.enabled:
        due = nightly.next_run(datetime.now(UTC))
        lines.append(text(lang, "sync_next", at=_local(due, schedule.timezone), zone=schedule.timezone))
    else:
        lines.append(text(lang, "sync_disabled"))
    return "\n".join(lines)


async def report_when_done(
    bot: Bot, chat_id: int, lang: Lang, task: asyncio.Task[SyncSummary | None], timezone: str
) -> None:
    """Send the admin who asked for /sync its summary once the run ends (nothing if the bot stops)."""
    try:
        summary = await task
    except asyncio.CancelledError:
        return
    except Exception as exc:
        message = text(lang, "sync_crashed", error=type(exc).__name__)
    else:
        message = text(lang, "sync_skipped") if summary is None else summary_text(lang, summary, timezone)
    try:
        await bot.send_message(chat_id, message, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        log.warning("could not send the sync summary to chat %s: %s", chat_id, exc)


def _local(moment: datetime, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
