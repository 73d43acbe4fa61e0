"""Why the index is empty, and what an operator does about it.

An empty index is "being built" only while a sync runs, in this process or in another one sharing
``[data] dir`` (``snapfit schedule`` beside the bot: a running sync holds a lock on
``{data.dir}/state/sync.lock``). Otherwise the last sync (saved in
``{data.dir}/state/last_sync.json``) says why: none ran yet, or it failed with an error. The
bot tells users the one or the other, and admins, ``/healthz``, ``snapfit stats`` and the log
get the reason and the next step from ``explain_empty_index``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.sync.state import state_dir
from indexer.sync.summary import SyncSummary

log = logging.getLogger(__name__)

SYNC_LOCK_FILE = "sync.lock"

CRAWLING_DOC = "docs/crawling.md"


@dataclass(frozen=True)
class EmptyIndex:
    """The state of an empty index: ``building`` while a sync runs, else unavailable for ``reason``."""

    building: bool
    reason: str  # one line, English: admins, the log, /healthz
    next_step: str  # what the operator can do about it

    def line(self) -> str:
        return f"{self.reason}; next: {self.next_step}"


def explain_empty_index(
    *, running: bool, last: SyncSummary | None, sync_command: str = "snapfit sync"
) -> EmptyIndex:
    """The state of an empty index; ``sync_command`` is how the reader starts a sync ("/sync" in chat)."""
    if running:
        return EmptyIndex(True, "the index is empty and a sync is building it now", "wait for it to finish")
    if last is None:
        return EmptyIndex(False, "the index is empty and no sync has run yet", f"run {sync_command}")
    if last.error is None:
        return EmptyIndex(
            False,
            "the index is empty: the last sync indexed nothing",
            f"check its notes, then run {sync_command}",
        )
    return EmptyIndex(
        False, f"the index is empty: the last sync failed: {last.error}", _advice(last.error, sync_command)
    )


def _advice(error: str, sync_command: str) -> str:
    lowered = error.lower()
    if "robots.txt" in lowered and "disallow" in lowered:
        return (
            f"check robots.txt permission ({CRAWLING_DOC}): crawl only with Musinsa's permission, "
            f"then run {sync_command}"
        )
    if "robots.txt" in lowered:
        return f"check that this machine can reach Musinsa ({CRAWLING_DOC}), then run {sync_command}"
    if "blocked" in lowered:
        return (
            f"Musinsa blocked the crawl: wait, lower [musinsa] requests_per_second ({CRAWLING_DOC}), "
            f"then run {sync_command}"
        )
    return f"fix the cause above, then run {sync_command}"


@contextlib.contextmanager
def sync_in_progress(data_dir: str | Path) -> Iterator[None]:
    """Hold ``{data.dir}/state/sync.lock`` while a sync runs, so other processes can tell
    (``sync_running``). The kernel drops it when the process dies; a lock that cannot be taken
    (another sync holds it, or the folder is read-only) is logged and the sync goes on."""
    path = state_dir(data_dir) / SYNC_LOCK_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
    except OSError as exc:
        log.warning("cannot mark the sync as running in %s: %s", path, exc)
        yield
        return
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            log.warning("cannot mark the sync as running in %s: %s", path, exc)
        yield
    finally:
        handle.close()  # closing drops the lock


def sync_running(data_dir: str | Path | None) -> bool:
    """True while some process sharing ``data_dir`` runs a sync (holds ``sync.lock``)."""
    if data_dir is None:
        return False
    path = state_dir(data_dir) / SYNC_LOCK_FILE
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError:  # never created: no sync ever ran here
        return False
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False
