"""Which sync is "the last one": the newest of what this process ran and what any process saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from indexer.sync.summary import SyncSummary, ended_at, latest_summary, newest_summary, save_last_summary

T0 = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def finished(at: datetime) -> SyncSummary:
    summary = SyncSummary(started_at=at - timedelta(minutes=30), model_id="m")
    summary.finish(at)
    return summary


def test_a_run_ends_when_it_finished_or_else_when_it_started() -> None:
    assert ended_at(finished(T0)) == T0
    assert ended_at(SyncSummary(started_at=T0, model_id="m")) == T0  # saved before it finished


def test_the_newest_summary_is_the_one_that_ended_last() -> None:
    early, late = finished(T0), finished(T0 + timedelta(hours=1))
    unfinished = SyncSummary(started_at=T0 + timedelta(hours=2), model_id="m")
    assert newest_summary(late, None, early) is late
    assert newest_summary(early, unfinished, late) is unfinished
    assert newest_summary(None, None) is None
    assert newest_summary() is None


def test_the_latest_summary_is_the_newer_of_this_process_and_the_saved_one(tmp_path: Path) -> None:
    ran, saved = finished(T0), finished(T0 + timedelta(hours=1))
    assert latest_summary(tmp_path) is None
    assert latest_summary(None, ran) is ran
    assert latest_summary(tmp_path, ran) is ran
    save_last_summary(tmp_path, saved)
    from_disk = latest_summary(tmp_path, ran)
    assert from_disk is not None and ended_at(from_disk) == ended_at(saved)
    newer = finished(T0 + timedelta(hours=2))
    assert latest_summary(tmp_path, newer) is newer
