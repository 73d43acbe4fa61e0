"""What ``snapfit crawl`` shows: live per-category progress, then a summary.

On a terminal the progress is a live table (pages, products, retries per category) redrawn
four times a second from the crawl's own counters, so retries show while they happen. When
stderr is not a terminal (logs, CI) each category prints one line when it ends instead.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table

from indexer.categories import get_category
from indexer.musinsa.crawl import CatalogCrawl
from indexer.musinsa.models import CategoryCrawl


def _label(code: str) -> str:
    category = get_category(code)
    return f"{code} {category.name}" if category else code


def _status(crawl: CategoryCrawl | None) -> str:
    if crawl is None:
        return "waiting"
    if not crawl.finished:
        return "crawling"
    return "complete" if crawl.complete else "incomplete"


class CrawlView:
    """A context manager that displays progress; ``update`` is the crawl's on_page callback."""

    def __init__(self, codes: list[str], console: Console) -> None:
        self._codes = codes
        self._console = console
        self._crawls: dict[str, CategoryCrawl] = {}
        self._live: Live | None = None

    def __enter__(self) -> CrawlView:
        if self._console.is_terminal:
            self._live = Live(
                console=self._console, get_renderable=self._table, refresh_per_second=4, transient=True
            )
            self._live.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.stop()

    def update(self, crawl: CategoryCrawl) -> None:
        self._crawls[crawl.code] = crawl
        if self._live is None and crawl.finished:
            stats = crawl.stats
            self._console.print(
                f"{_label(crawl.code)}: {crawl.pages} pages, {len(crawl.products)} products, "
                f"{stats.retries} retries, {_status(crawl)}",
                highlight=False,
                soft_wrap=True,
            )

    def _table(self) -> Table:
        table = Table(title="Crawling Musinsa", title_justify="left")
        for column in ("category", "pages", "products", "skipped", "requests", "retries", "status"):
            table.add_column(column, justify="left" if column in ("category", "status") else "right")
        for code in self._codes:
            crawl = self._crawls.get(code)
            if crawl is None:
                table.add_row(_label(code), "", "", "", "", "", "waiting")
                continue
            table.add_row(
                _label(code),
                str(crawl.pages),
                str(len(crawl.products)),
                str(crawl.skipped),
                str(crawl.stats.requests),
                str(crawl.stats.retries),
                _status(crawl),
            )
        return table


def print_summary(console: Console, result: CatalogCrawl, snapshot: Path | None) -> None:
    """Per category: products, pages, skipped, retries, complete or why not; then the snapshot."""
    table = Table(title="Crawl summary", title_justify="left")
    for column in ("category", "products", "pages", "skipped", "retries", "status"):
        table.add_column(column, justify="left" if column in ("category", "status") else "right")
    for crawl in result.categories:
        table.add_row(
            _label(crawl.code),
            str(len(crawl.products)),
            str(crawl.pages),
            str(crawl.skipped),
            str(crawl.stats.retries),
            _status(crawl),
        )
    console.print(table)
    for crawl in result.categories:
        if not crawl.complete:
            console.print(
                f"{crawl.code}: incomplete: {crawl.reason}", highlight=False, soft_wrap=True, markup=False
            )
    stats = result.stats
    console.print(
        f"{stats.requests} requests, {stats.retries} retries, {stats.failures} failed requests",
        highlight=False,
    )
    if snapshot is not None:
        console.print(
            f"snapshot: {snapshot} ({len(result.products)} products)",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
