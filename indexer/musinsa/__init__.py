"""Musinsa: the listing API, product pages, image CDN and robots.txt, behind one polite client.

The names other parts of snapfit use are re-exported here; see each module for the details.
"""

from indexer.categories import (
    Category,
    UnknownCategory,
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
    Blocked,
    ImageError,
    ImageNotFound,
    ImageTooLarge,
    MalformedBody,
    MusinsaError,
    NotAnImage,
    PlaceholderImage,
    ProductNotFound,
    RequestFailed,
    ResultNotSuccess,
    RobotsDisallowed,
    UnexpectedResponse,
)
from indexer.musinsa.models import CategoryCrawl, ListingPage, RequestStats, SkippedItem
from indexer.musinsa.refs import InvalidProductRef, parse_product_ref
from indexer.musinsa.snapshot import (
    SnapshotError,
    latest_snapshot,
    list_snapshots,
    load_snapshot,
    snapshot_dir,
    write_snapshot,
)

__all__ = [
    "Blocked",
    "CatalogCrawl",
    "Category",
    "CategoryCrawl",
    "ImageError",
    "ImageNotFound",
    "ImageTooLarge",
    "InvalidProductRef",
    "ListingPage",
    "MalformedBody",
    "MusinsaClient",
    "MusinsaError",
    "NotAnImage",
    "PlaceholderImage",
    "ProductNotFound",
    "RequestFailed",
    "RequestStats",
    "ResultNotSuccess",
    "RobotsDisallowed",
    "SkippedItem",
    "SnapshotError",
    "UnexpectedResponse",
    "UnknownCategory",
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
