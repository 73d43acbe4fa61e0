"""Crawl several categories at once and merge them into one catalog.

Categories are walked concurrently (the client's pace and in-flight bound still hold for
the total). A product listed under two crawled categories is kept once, under the more
specific code (001004 beats 001), so a snapshot holds every product exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from indexer.musinsa.client import MusinsaClient, PageCallback
from indexer.musinsa.errors import RobotsDisallowedError
from indexer.musinsa.models import CategoryCrawl, RequestStats
from indexer.product import Product


@dataclass
class CatalogCrawl:
    """The outcome of one crawl run over several categories."""

    categories: list[CategoryCrawl]
    stats: RequestStats = field(default_factory=RequestStats)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None

    @property
    def complete(self) -> bool:
        return all(category.complete for category in self.categories)

    @property
    def failed(self) -> list[CategoryCrawl]:
        """Categories that an error (not a max_pages cut-off) left incomplete."""
        return [category for category in self.categories if category.failed]

    @property
    def products(self) -> list[Product]:
        """Every product once; under two categories, the more specific (longer) code wins."""
        chosen: dict[int, Product] = {}
        for category in self.categories:
            for product in category.products:
                kept = chosen.get(product.id)
                if kept is None or len(product.category) > len(kept.category):
                    chosen[product.id] = product
        return list(chosen.values())


async def crawl_catalog(
    client: MusinsaClient,
    codes: Sequence[str],
    *,
    max_pages: int = 0,
    on_page: PageCallback | None = None,
) -> CatalogCrawl:
    """Crawl ``codes`` (duplicates ignored) concurrently; RobotsDisallowedError stops them all."""
    run = CatalogCrawl(categories=[])
    unique = list(dict.fromkeys(codes))
    before = RequestStats(**vars(client.stats))
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(client.crawl_category(code, max_pages, on_page)) for code in unique]
    except BaseExceptionGroup as errors:
        raise _first(errors, RobotsDisallowedError) from None
    run.categories = [task.result() for task in tasks]
    run.stats = RequestStats(
        **{name: value - getattr(before, name) for name, value in vars(client.stats).items()}
    )
    run.finished_at = datetime.now(UTC)
    return run


def _first(errors: BaseExceptionGroup, preferred: type[BaseException]) -> BaseException:
    """One plain exception for callers instead of a group: the preferred kind if present."""
    match = errors.subgroup(preferred)
    group = match if match is not None else errors
    while isinstance(group, BaseExceptionGroup):
        group = group.exceptions[0]
    return group
