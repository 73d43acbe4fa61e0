"""The nightly engine: when the next run is, and never two runs at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from indexer.config import ScheduleSettings
from indexer.schedule import NightlySync
from indexer.sync import SyncSummary, save_last_summary

SEOUL = ZoneInfo("Asia/Seoul")


def summary(**values: object) -> SyncSummary:
    return SyncSummary(started_at=datetime.now(UTC), model_id="m", **values)  # type: ignore[arg-type]


async def no_sync() -> SyncSummary:
    raise AssertionError("not expected to run")


def nightly(at: str = "04:00", zone: str = "Asia/Seoul") -> NightlySync:
    return NightlySync(no_sync, ScheduleSettings(nightly_at=at, timezone=zone))


@pytest.mark.parametrize(
    ("now", "at", "expected"),
    [
        # Before today's run: today.
        (datetime(2026, 3, 10, 3, 59, tzinfo=SEOUL), "04:00", datetime(2026, 3, 10, 4, 0, tzinfo=SEOUL)),
        # Exactly at, or after, today's run: tomorrow.
        (datetime(2026, 3, 10, 4, 0, tzinfo=SEOUL), "04:00", datetime(2026, 3, 11, 4, 0, tzinfo=SEOUL)),
        (datetime(2026, 3, 10, 23, 30, tzinfo=SEOUL), "04:00", datetime(2026, 3, 11, 4, 0, tzinfo=SEOUL)),
        # Given in UTC: 19:30Z on the 9th is 04:30 on the 10th in Seoul (already past).
        (datetime(2026, 3, 9, 19, 30, tzinfo=UTC), "04:00", datetime(2026, 3, 11, 4, 0, tzinfo=SEOUL)),
        # 18:00Z on the 9th is 03:00 on the 10th in Seoul (still ahead), though the UTC date is the 9th.
        (datetime(2026, 3, 9, 18, 0, tzinfo=UTC), "04:00", datetime(2026, 3, 10, 4, 0, tzinfo=SEOUL)),
        # Across midnight and the end of the year.
        (datetime(2026, 12, 31, 23, 50, tzinfo=SEOUL), "00:30", datetime(2027, 1, 1, 0, 30, tzinfo=SEOUL)),
        (datetime(2026, 12, 31, 0, 10, tzinfo=SEOUL), "00:30", datetime(2026, 12, 31, 0, 30, tzinfo=SEOUL)),
    ],
)
def test_next_run_in_seoul(now: datetime, at: str, expected: datetime) -> None:
    result = nightly(at).next_run(now)
    assert result == expected
    assert result.tzinfo == SEOUL and result.utcoffset() == timedelta(hours=9)
    assert (result.hour, result.minute) == (expected.hour, expected.minute)


def test_next_run_agrees_with_apscheduler_cron() -> None:
    from apscheduler.triggers.cron import CronTrigger

    engine = nightly("04:00")
    trigger = CronTrigger(hour=4, minute=0, second=0, timezone=SEOUL)
    now = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    for _ in range(60):
        assert engine.next_run(now) == trigger.get_next_fire_time(None, now)
        now += timedelta(hours=7, minutes=13)


def test_next_run_across_daylight_saving_changes() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    gap = nightly("02:30", "Europe/Berlin").next_run(datetime(2026, 3, 29, 1, 0, tzinfo=berlin))
    assert gap.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST, after the gap
    twice = nightly("02:30", "Europe/Berlin").next_run(datetime(2026, 10, 25, 1, 0, tzinfo=berlin))
    assert twice.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (CEST)
    after = nightly("02:30", "Europe/Berlin").next_run(twice + timedelta(minutes=1))
    assert after.astimezone(UTC) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)  # not again at the second


def test_next_run_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        nightly().next_run(datetime(2026, 3, 10, 3, 0))


def test_values_for_ptb_and_apscheduler() -> None:
    engine = NightlySync(
        no_sync, ScheduleSettings(nightly_at="03:15", timezone="Asia/Seoul", misfire_grace_seconds=600)
    )
    assert engine.time_of_day == time(3, 15, tzinfo=SEOUL)
    assert engine.job_kwargs() == {"misfire_grace_time": 600, "coalesce": True, "max_instances": 1}


async def test_a_run_never_overlaps_another() -> None:
    release = asyncio.Event()
    started = asyncio.Event()
    calls = 0

    async def slow_sync() -> SyncSummary:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()
        return summary(crawled=calls)

    engine = NightlySync(slow_sync, ScheduleSettings())
    first = asyncio.create_task(engine.run("nightly"))
    await asyncio.wait_for(started.wait(), 5)
    assert engine.running and engine.running_reason == "nightly"
    assert await engine.run("admin /sync") is None  # skipped at once, not queued
    assert engine.start("admin /sync") is None
    assert engine.skipped == 2
    release.set()
    done = await asyncio.wait_for(first, 5)
    assert done is not None and done.crawled == 1
    assert engine.last_summary is done and not engine.running and calls == 1

    again = await asyncio.wait_for(engine.run("nightly"), 5)
    assert again is not None and again.crawled == 2 and engine.last_summary is again


async def test_a_failing_sync_frees_the_engine_for_the_next_run() -> None:
    async def broken() -> SyncSummary:
        raise RuntimeError("bug")

    engine = NightlySync(broken, ScheduleSettings())
    with pytest.raises(RuntimeError):
        await engine.run("nightly")
    assert not engine.running


async def test_stop_cancels_a_background_sync() -> None:
    cancelled = asyncio.Event()

    async def endless() -> SyncSummary:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        raise AssertionError("unreachable")

    engine = NightlySync(endless, ScheduleSettings())
    task = engine.start("empty index")
    assert task is not None
    await asyncio.sleep(0.01)
    assert engine.running
    await asyncio.wait_for(engine.stop(), 5)
    assert cancelled.is_set() and task.cancelled() and not engine.running


def test_last_summary_comes_from_the_saved_one(tmp_path: Path) -> None:
    assert NightlySync(no_sync, ScheduleSettings(), data_dir=tmp_path).last_summary is None
    saved = summary(crawled=3)
    saved.finish()
    save_last_summary(tmp_path, saved)
    assert NightlySync(no_sync, ScheduleSettings(), data_dir=tmp_path).last_summary == saved
