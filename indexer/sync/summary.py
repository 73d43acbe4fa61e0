"""What one sync did, as a record that the CLI prints, the log keeps and ``snapfit stats`` shows later.

``SyncSummary.to_json()`` is the shape of ``snapfit sync --json``: ``crawled, added,
updated, unchanged, removed, failed, seconds, ok, complete, incomplete_categories`` plus the
details below. ``from_json`` reads it
back from ``{data.dir}/state/last_sync.json`` so a later process (the bot's /stats, ``snapfit
stats``) can show the last run without having made it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexer.sync.state import atomic_write_json, read_json, state_dir

log = logging.getLogger(__name__)

LAST_SYNC_FILE = "last_sync.json"
# The last run that ended without an error and complete: how fresh the index is, for /healthz and metrics.
LAST_OK_SYNC_FILE = "last_ok_sync.json"
# The summary keeps the first failures with their reason; the count is always exact.
MAX_LISTED_FAILURES = 20


@dataclass
class CategoryReport:
    """One crawled category: did its crawl finish, and were absences counted in it (and if not, why)."""

    code: str
    crawled: int = 0
    pages: int = 0
    complete: bool = False
    reason: str | None = None  # why the crawl is incomplete
    failed: bool = False  # a fault cut the crawl short (a max_pages cut-off asked for is not one)
    indexed: int = 0  # products the index held under this code before the run
    removals_checked: bool = False  # absent products of this category had a miss counted
    removals_skipped: str | None = None  # why they did not


@dataclass(frozen=True)
class ImageFailure:
    """A product whose image could not be used this run; it stays "new" and is tried again next run."""

    product_id: int
    stage: str  # "download" or "decode"
    message: str


@dataclass
class SyncSummary:
    """Counts, timings and per-category verdicts of one sync run.

    ``added``: products stored for the first time. ``updated``: stored products that changed,
    either their metadata only (``payload_updates``, no embedding) or their image
    (``reembedded``). ``failed``: products whose image could not be downloaded or decoded (not
    stored, retried next run). ``missing``: products absent from a complete crawl but not yet
    absent from ``remove_after_missed`` consecutive ones. ``error`` is set when the run ended
    early; what was stored before that stays stored.
    """

    started_at: datetime
    model_id: str
    finished_at: datetime | None = None
    rebuild: bool = False  # written into a new index version (first index or a model change)
    committed: bool = False  # that new version became the live one at the end of this run
    rebuild_pending: str | None = None  # why a rebuild was kept for the next run instead of switched to
    version: str | None = None  # the live index version after the run
    crawled: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    embedded: int = 0
    reembedded: int = 0
    payload_updates: int = 0
    text_indexed: int = 0  # stored products given text search in place (an index made before it)
    missing: int = 0
    seconds: float = 0.0
    crawl_seconds: float = 0.0
    embed_seconds: float = 0.0  # time the encoder spent embedding (in its worker thread)
    images_per_second: float = 0.0  # embedded / seconds: end to end, crawl included
    categories: list[CategoryReport] = field(default_factory=list)
    failures: list[ImageFailure] = field(default_factory=list)
    error: str | None = None
    # Requests this run sent to Musinsa, per client ("listing": listing API and product pages,
    # "images": the image CDN): RequestStats fields (requests, retries, failures, throttled, ...).
    http: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def incomplete_categories(self) -> list[str]:
        """Categories whose crawl a fault cut short; their absent products were kept, not removed."""
        return [category.code for category in self.categories if category.failed]

    @property
    def complete(self) -> bool:
        """The run ended without an error and crawled every category as far as it was asked to."""
        return self.ok and not self.incomplete_categories

    def finish(self, now: datetime | None = None) -> None:
        self.finished_at = now or datetime.now(UTC)
        self.seconds = round((self.finished_at - self.started_at).total_seconds(), 3)
        self.images_per_second = round(self.embedded / self.seconds, 3) if self.seconds > 0 else 0.0

    def record_failure(self, failure: ImageFailure) -> None:
        self.failed += 1
        if len(self.failures) < MAX_LISTED_FAILURES:
            self.failures.append(failure)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        data["ok"] = self.ok
        data["complete"] = self.complete
        data["incomplete_categories"] = self.incomplete_categories
        order = [
            "crawled",
            "added",
            "updated",
            "unchanged",
            "removed",
            "failed",
            "seconds",
            "ok",
            "complete",
            "incomplete_categories",
        ]
        return {key: data[key] for key in order} | {k: v for k, v in data.items() if k not in order}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SyncSummary:
        values = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        values["started_at"] = datetime.fromisoformat(values["started_at"])
        if values.get("finished_at"):
            values["finished_at"] = datetime.fromisoformat(values["finished_at"])
        values["categories"] = [_category_report(item) for item in values.get("categories", [])]
        values["failures"] = [ImageFailure(**item) for item in values.get("failures", [])]
        return cls(**values)

    def headline(self) -> str:
        """One line for logs, chat replies and the CLI."""
        counts = (
            f"{self.crawled} crawled, {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed, {self.failed} failed "
            f"in {self.seconds:.1f} s"
        )
        if self.embedded:
            counts += f" ({self.embedded} images embedded, {self.images_per_second:.2f} img/s)"
        if not self.ok:
            return f"sync stopped: {counts}"
        if not self.complete:
            return f"sync finished incomplete ({', '.join(self.incomplete_categories)} cut short): {counts}"
        return f"sync finished: {counts}"

    def notes(self) -> list[str]:
        """Lines that explain anything unusual: incomplete categories, skipped removals, failures, errors."""
        lines: list[str] = []
        if self.error:
            lines.append(f"error: {self.error}")
        if self.rebuild:
            if self.committed:
                lines.append(f"new index version {self.version} is live (model {self.model_id})")
            elif self.rebuild_pending:
                lines.append(f"new index not switched to yet: {self.rebuild_pending}")
        if self.text_indexed:
            lines.append(
                f"text search added to {self.text_indexed} indexed products (from their stored names; "
                "no image embedded again)"
            )
        for category in self.categories:
            if not category.complete:
                lines.append(f"{category.code}: crawl incomplete: {category.reason}")
            if category.removals_skipped and category.complete:
                lines.append(f"{category.code}: nothing removed: {category.removals_skipped}")
        if self.missing:
            lines.append(
                f"{self.missing} products missing from the crawl are kept until they are missing "
                "from enough consecutive complete crawls"
            )
        for failure in self.failures[:5]:
            lines.append(f"product {failure.product_id}: {failure.stage} failed: {failure.message}")
        if self.failed > 5:
            lines.append(f"… and {self.failed - 5} more image failures (retried on the next sync)")
        return lines


def _category_report(item: dict[str, Any]) -> CategoryReport:
    """A saved category verdict; one saved before ``failed`` existed failed unless it was a cut-off."""
    if "failed" not in item:
        cut_off = "more pages remain" in (item.get("reason") or "")
        item = {**item, "failed": not item.get("complete", True) and not cut_off}
    return CategoryReport(**item)


def last_sync_path(data_dir: str | Path) -> Path:
    return state_dir(data_dir) / LAST_SYNC_FILE


def last_ok_sync_path(data_dir: str | Path) -> Path:
    return state_dir(data_dir) / LAST_OK_SYNC_FILE


def save_last_summary(data_dir: str | Path, summary: SyncSummary) -> None:
    """Persist the summary atomically (a successful, complete one also as the last successful run); a
    failure to write is logged, never fatal to the sync."""
    paths = [last_sync_path(data_dir)] + ([last_ok_sync_path(data_dir)] if summary.complete else [])
    for path in paths:
        try:
            atomic_write_json(path, summary.to_json())
        except OSError as exc:
            log.warning("could not save the sync summary in %s: %s", path, exc)


def load_last_summary(data_dir: str | Path) -> SyncSummary | None:
    """The last persisted summary, or None when there is none (or it cannot be read)."""
    return _load(last_sync_path(data_dir))


def load_last_ok_summary(data_dir: str | Path) -> SyncSummary | None:
    """The summary of the last run that ended without an error and complete, or None."""
    return _load(last_ok_sync_path(data_dir))


def ended_at(summary: SyncSummary) -> datetime:
    """When the run ended; its start for a summary saved before it finished."""
    return summary.finished_at or summary.started_at


def newest_summary(*summaries: SyncSummary | None) -> SyncSummary | None:
    """The summary that ended last (``ended_at``), ignoring None; None when all are."""
    present = [summary for summary in summaries if summary is not None]
    return max(present, key=ended_at, default=None)


def latest_summary(data_dir: str | Path | None, known: SyncSummary | None = None) -> SyncSummary | None:
    """The newer of ``known`` (what this process ran) and what any process saved last in ``data_dir``."""
    return newest_summary(known, load_last_summary(data_dir) if data_dir is not None else None)


def _load(path: Path) -> SyncSummary | None:
    data = read_json(path)
    if data is None:
        return None
    try:
        return SyncSummary.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("ignoring %s: not a sync summary (%s)", path, exc)
        return None
