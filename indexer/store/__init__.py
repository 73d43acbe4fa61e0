"""The product index: one ``Catalog`` over Qdrant Edge (embedded, the default) or a Qdrant server.

``await open_catalog(settings.store)`` opens it at its current version. A search goes
``Catalog.search(SearchQuery(...))`` (words: ``Catalog.search_text(TextQuery(...))``) (``catalog.py``,
``query.py``, ``text.py``) to an engine (``edge.py`` or
``server.py``, the primitives of ``engine.py``). Versions never mix two embedding models: a new model
is built with ``begin_rebuild`` while the current version keeps serving, then committed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.store.catalog import (
    Catalog,
    CatalogRebuild,
    CatalogStats,
    PayloadUpdate,
    ProductIndex,
    ProductRef,
    ScoredProduct,
    StoredProduct,
)
from indexer.store.errors import (
    CatalogClosedError,
    CatalogError,
    CatalogLockedError,
    DimensionMismatchError,
    ModelMismatchError,
    NoIndexError,
    ProductNotFoundError,
    RebuildInProgressError,
    StoreUnavailableError,
    TextIndexMissingError,
    VersionGoneError,
)
from indexer.store.filters import DEFAULT_FILTERS, GENDERS, NO_FILTERS, FilterError, Gender, SearchFilters
from indexer.store.payload import Categories, product_fingerprint
from indexer.store.query import SearchQuery, TextQuery
from indexer.store.versions import CatalogVersion, same_model

if TYPE_CHECKING:
    from indexer.config import StoreSettings

__all__ = [
    "DEFAULT_FILTERS",
    "GENDERS",
    "NO_FILTERS",
    "Catalog",
    "CatalogClosedError",
    "CatalogError",
    "CatalogLockedError",
    "CatalogRebuild",
    "CatalogStats",
    "CatalogVersion",
    "Categories",
    "DimensionMismatchError",
    "FilterError",
    "Gender",
    "ModelMismatchError",
    "NoIndexError",
    "PayloadUpdate",
    "ProductIndex",
    "ProductNotFoundError",
    "ProductRef",
    "RebuildInProgressError",
    "ScoredProduct",
    "SearchFilters",
    "SearchQuery",
    "StoreUnavailableError",
    "StoredProduct",
    "TextIndexMissingError",
    "TextQuery",
    "VersionGoneError",
    "open_catalog",
    "product_fingerprint",
    "same_model",
]


async def open_catalog(settings: StoreSettings) -> Catalog:
    """The configured engine's catalog at its current version (empty when none exists yet).

    ``[store].url`` set: the Qdrant server (":memory:": qdrant-client's local mode, for tests);
    otherwise Qdrant Edge in ``[store].path``, which one process owns at a time.
    """
    if settings.url:
        from indexer.store.server import open_server_catalog

        return await open_server_catalog(settings)
    from indexer.store.edge import open_edge_catalog

    return await open_edge_catalog(settings)
