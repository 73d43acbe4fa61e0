"""How a sync reports progress while it runs; the indexer itself never prints.

Subclass ``SyncProgress`` and override what you display (the CLI draws rich progress bars;
the bot may ignore it). Every method is called on the event loop, must return quickly and
must not raise.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.musinsa.crawl import CatalogCrawl
from indexer.musinsa.models import CategoryCrawl


@dataclass(frozen=True)
class PlanCounts:
    """What the diff decided, before any image is fetched."""

    crawled: int
    to_embed: int  # new products and changed images: download, decode, embed, upsert
    to_update: int  # metadata changes: payload updates only
    unchanged: int
    rebuild: bool  # written into a new index version


class SyncProgress:
    """No-op base: override the steps you want to show."""

    def crawl_page(self, crawl: CategoryCrawl) -> None:
        """A category's crawl moved on (a page was read) or finished (``crawl.finished``)."""

    def crawl_done(self, crawl: CatalogCrawl) -> None:
        """Every category is crawled."""

    def planned(self, counts: PlanCounts) -> None:
        """The diff is done; ``counts.to_embed`` images will be processed."""

    def image_done(self, product_id: int, ok: bool) -> None:
        """One image was downloaded and decoded (``ok``) or failed."""

    def embedded(self, count: int) -> None:
        """The encoder finished a chunk of ``count`` images."""

    def stored(self, count: int) -> None:
        """``count`` products (with vectors) were upserted."""

    def payloads_updated(self, count: int) -> None:
        """``count`` stored products got new metadata."""

    def step(self, text: str) -> None:
        """A slower step began (removing products, building the search index, switching versions)."""
