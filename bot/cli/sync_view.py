"""What ``snapfit sync`` shows: live progress on stderr while it runs, then the summary.

On a terminal, rich progress bars (crawl pages and products, images fetched, embedded, stored,
payload updates) redraw in place and log lines print above them. When stderr is not a
terminal (logs, CI) each step prints one line instead.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from indexer.categories import get_category
from indexer.musinsa.crawl import CatalogCrawl
from indexer.musinsa.models import CategoryCrawl
from indexer.sync import PlanCounts, SyncProgress, SyncSummary


def category_label(code: str) -> str:
    category = get_category(code)
    return f"{code} {category.name}" if category else code


class SyncView(SyncProgress):
    """Progress display for one sync; use as a context manager around ``run_sync``."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._crawls: dict[str, CategoryCrawl] = {}
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._fetched = self._failed = self._embedded = self._stored = self._updated = 0
        self._handlers: list[tuple[logging.StreamHandler, object]] = []  # type: ignore[type-arg]

    def __enter__(self) -> SyncView:
        if self._console.is_terminal:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
            self._tasks["crawl"] = self._progress.add_task("crawling", total=None)
            # Log lines go through the live display's stderr proxy, so they print above the bars.
            for handler in logging.getLogger().handlers:
                if isinstance(handler, logging.StreamHandler) and handler.stream is sys.__stderr__:
                    self._handlers.append((handler, handler.setStream(sys.stderr)))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for handler, stream in self._handlers:
            handler.setStream(stream)  # type: ignore[arg-type]
        self._handlers.clear()
        if self._progress is not None:
            self._progress.stop()

    def _line(self, text: str) -> None:
        if self._progress is None:
            self._console.print(text, highlight=False, soft_wrap=True, markup=False)

    # ---- SyncProgress ------------------------------------------------------------------

    def crawl_page(self, crawl: CategoryCrawl) -> None:
        self._crawls[crawl.code] = crawl
        pages = sum(c.pages for c in self._crawls.values())
        products = sum(len(c.products) for c in self._crawls.values())
        if self._progress is not None:
            self._progress.update(
                self._tasks["crawl"],
                completed=pages,
                description=f"crawling: {pages} pages, {products} products",
            )
        elif crawl.finished:
            state = "complete" if crawl.complete else f"incomplete ({crawl.reason})"
            self._line(
                f"crawled {category_label(crawl.code)}: {crawl.pages} pages, "
                f"{len(crawl.products)} products, {state}"
            )

    def crawl_done(self, crawl: CatalogCrawl) -> None:
        if self._progress is not None:
            pages = sum(c.pages for c in crawl.categories)
            self._progress.update(
                self._tasks["crawl"],
                total=pages,
                completed=pages,
                description=f"crawled: {len(crawl.products)} products",
            )

    def planned(self, counts: PlanCounts) -> None:
        what = "new index version" if counts.rebuild else "index"
        self._line(
            f"{what}: {counts.to_embed} images to embed, {counts.to_update} metadata updates, "
            f"{counts.unchanged} unchanged"
        )
        if self._progress is not None:
            if counts.to_update:
                self._tasks["update"] = self._progress.add_task("metadata updates", total=counts.to_update)
            if counts.to_embed:
                self._tasks["fetch"] = self._progress.add_task("images fetched", total=counts.to_embed)
                self._tasks["embed"] = self._progress.add_task("embedded and stored", total=counts.to_embed)

    def image_done(self, product_id: int, ok: bool) -> None:
        if ok:
            self._fetched += 1
        else:
            self._failed += 1
        if self._progress is not None:
            failed = f", {self._failed} failed" if self._failed else ""
            self._progress.update(self._tasks["fetch"], advance=1, description=f"images fetched{failed}")

    def embedded(self, count: int) -> None:
        self._embedded += count

    def stored(self, count: int) -> None:
        self._stored += count
        if self._progress is not None:
            self._progress.update(self._tasks["embed"], completed=self._stored)

    def payloads_updated(self, count: int) -> None:
        self._updated += count
        if self._progress is not None:
            self._progress.update(self._tasks["update"], completed=self._updated)

    def step(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, highlight=False, soft_wrap=True, markup=False)
        else:
            self._line(text)


def print_summary(console: Console, summary: SyncSummary) -> None:
    """Counts, per-category verdicts and notes, for people."""
    table = Table(title="Sync summary", title_justify="left")
    for column in ("category", "crawled", "pages", "indexed before", "crawl", "removals"):
        table.add_column(column, justify="left" if column in ("category", "crawl", "removals") else "right")
    for category in summary.categories:
        table.add_row(
            category_label(category.code),
            str(category.crawled),
            str(category.pages),
            str(category.indexed),
            "complete" if category.complete else "incomplete",
            "checked" if category.removals_checked else "skipped",
        )
    if summary.categories:
        console.print(table)
    console.print(summary.headline(), highlight=False, soft_wrap=True, markup=False)
    for note in summary.notes():
        console.print(note, highlight=False, soft_wrap=True, markup=False)
