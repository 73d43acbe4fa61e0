"""Musinsa: the listing API, product pages, image CDN and robots.txt, behind one polite client.

The names other parts of snapfit use are re-exported here; see each module for the details.
"""

from indexer.categories import (
    Category,
    UnknownCategoryError,
    category_code,
    crawl_plan,
    get_category,
    resolve_category,
    subcategories,
    suggest,
    top_level_categories,
)
from indexer.musinsa.client import MusinsaClient, image_client
from indexer.musinsa.crawl import CatalogCrawl, crawl_catalog
from indexer.musinsa.errors import (
    BlockedError,
    ImageDownloadError,
    ImageNotFoundError,
    ImageTooLargeError,
    MalformedBodyError,
    MusinsaError,
    NotAnImageResponseError,
    PlaceholderImageError,
    ProductPageNotFoundError,
    RequestFailedError,
    ResultNotSuccessError,
    RobotsDisallowedError,
    UnexpectedResponseError,
)
from indexer.musinsa.models import CategoryCrawl, ListingPage, RequestStats, SkippedItem
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
    "BlockedError",
    "CatalogCrawl",
    "Category",
    "CategoryCrawl",
    "ImageDownloadError",
    "ImageNotFoundError",
    "ImageTooLargeError",
    "ListingPage",
    "MalformedBodyError",
    "MusinsaClient",
    "MusinsaError",
    "NotAnImageResponseError",
    "PlaceholderImageError",
    "ProductPageNotFoundError",
    "ProductRefSyntaxError",
    "RequestFailedError",
    "RequestStats",
    "ResultNotSuccessError",
    "RobotsDisallowedError",
    "SkippedItem",
    "SnapshotError",
    "UnexpectedResponseError",
    "UnknownCategoryError",
    "category_code",
    "crawl_catalog",
    "crawl_plan",
    "get_category",
    "image_client",
    "latest_snapshot",
    "list_snapshots",
    "load_snapshot",
    "parse_product_ref",
    "resolve_category",
    "snapshot_dir",
    "subcategories",
    "suggest",
    "top_level_categories",
    "write_snapshot",
]
