"""Musinsa: the listing API, product pages, image CDN and robots.txt, behind one polite client.

The names other parts of snapfit use are re-exported here; the finer error types are in
``indexer.musinsa.errors`` and the category table in ``indexer.categories``.
"""

from indexer.musinsa.client import MusinsaClient, image_client
from indexer.musinsa.crawl import CatalogCrawl, crawl_catalog
from indexer.musinsa.errors import (
    ImageDownloadError,
    MusinsaError,
    ProductPageNotFoundError,
    RobotsDisallowedError,
)
from indexer.musinsa.models import CategoryCrawl
from indexer.musinsa.refs import ProductRefSyntaxError, parse_product_ref
from indexer.musinsa.snapshot import (
    SnapshotError,
    latest_snapshot,
    list_snapshots,
    load_snapshot,
    snapshot_dir,
    write_snapshot,
)

__all__ = [
    "CatalogCrawl",
    "CategoryCrawl",
    "ImageDownloadError",
    "MusinsaClient",
    "MusinsaError",
    "ProductPageNotFoundError",
    "ProductRefSyntaxError",
    "RobotsDisallowedError",
    "SnapshotError",
    "crawl_catalog",
    "image_client",
    "latest_snapshot",
    "list_snapshots",
    "load_snapshot",
    "parse_product_ref",
    "snapshot_dir",
    "write_snapshot",
]
