"""Results the crawler hands to its callers: one listing page, one category's crawl, request counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer.product import Product


@dataclass
class RequestStats:
    """Counters for progress displays and metrics. ``requests`` counts every attempt sent."""

    requests: int = 0
    retries: int = 0
    failures: int = 0
    throttled: int = 0  # 429 and 403 answers
    server_errors: int = 0  # 5xx answers
    network_errors: int = 0  # timeouts, resets, truncated bodies


@dataclass(frozen=True)
class SkippedItem:
    """A listing item that could not become a Product, and why."""

    index: int
    goods_no: int | None
    reason: str


@dataclass(frozen=True)
class ListingPage:
    """One parsed page of the listing API (products already de-duplicated within the page)."""

    url: str
    category: str
    page: int
    products: list[Product]
    skipped: list[SkippedItem]
    has_next: bool
    total_count: int | None = None
    total_pages: int | None = None


@dataclass
class CategoryCrawl:
    """What crawling one category produced.

    ``complete`` is True only when the walk reached a page with ``hasNext`` false without an
    unrecoverable failure; a ``max_pages`` cut-off is not complete. Sync relies on this to
    decide removals, so ``reason`` says why whenever it is False.
    """

    code: str
    products: list[Product] = field(default_factory=list)
    pages: int = 0
    skipped: int = 0
    complete: bool = False
    reason: str | None = None
    failed: bool = False  # True when an error (not a deliberate cut-off) ended the walk
    total_count: int | None = None
    stats: RequestStats = field(default_factory=RequestStats)
    finished: bool = False  # the walk is over (complete or not); False while in progress
    # The error that ended the walk, when one did: sync tells a block (``BlockedError``) from a fault.
    error: Exception | None = field(default=None, repr=False, compare=False)

    @property
    def product_ids(self) -> set[int]:
        return {product.id for product in self.products}
