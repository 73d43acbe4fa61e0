"""The product index: one ``Catalog`` interface over Qdrant Edge (embedded) or a Qdrant server.

``await open_catalog(settings.store)`` returns ``EdgeCatalog`` (``[store].path``, the default)
or, when ``[store].url`` is set, ``ServerCatalog`` (``":memory:"`` selects qdrant-client's
in-process local mode, for tests and development only).

Versions. Every index version records the embedding model id, its open_clip name and the
dimension. Vectors of two models are never mixed: a new model (or dimension) is built with
``begin_rebuild`` into a new version (Edge: a folder plus an atomic ``CURRENT`` pointer;
server: a collection ``<collection>_<model-hash>_<timestamp>`` plus an alias swap) while the
current version keeps serving; ``commit`` switches, keeps the previous version for rollback
and removes older ones. An interrupted rebuild of the same model is resumed.

Threading: the bot's event loop never waits on a long write.

- Server: ``AsyncQdrantClient`` is asynchronous; uploads go in batches of 128 points, four in
  flight, and the server builds its indexes in the background.
- Edge: qdrant-edge-py holds the GIL for the whole of every call (measured: a Python ticker
  thread got no time at all during a 25 s ``optimize()``), so a worker thread cannot hide a
  long call. The serving process therefore only makes short calls, one thread per shard:
  writes go in engine calls of 128 points (~6-9 ms at 768-d) and a flush every 2048 points
  (~0.1 s; a returned write is already in the WAL, safe from a crash of the process);
  searches take 1-2 ms. Building the HNSW graph runs in a child process on a version folder
  nothing else has open (a rebuild's ``commit``, or ``Catalog.optimize()`` on a copy after a
  bulk load); the serving process awaits it, then switches, which costs one pause (closing
  the built shard and loading it: ~0.15 s at 10k vectors). It never optimizes the shard it
  serves. Measured on 10k x 768 (bench/store.py): the event loop's longest stall was ~120 ms
  during a bulk upsert and ~120-150 ms during a commit, against 3 s for an in-process optimize.

One process owns an Edge folder (an flock on ``<path>/.lock``): a second opener gets
``CatalogLockedError`` naming the folder. Run the bot and the nightly sync in one process
and share the one ``Catalog`` object; use a Qdrant server to share an index between processes.
A process that did not make a switch itself follows it with ``refresh()`` (the server backend
also checks the alias on its own every ``refresh_seconds``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.store.catalog import (
    Catalog,
    CatalogRebuild,
    CatalogStats,
    CatalogVersion,
    Categories,
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
    VersionGoneError,
)
from indexer.store.payload import product_fingerprint

if TYPE_CHECKING:
    from indexer.config import StoreSettings

__all__ = [
    "Catalog",
    "CatalogClosedError",
    "CatalogError",
    "CatalogLockedError",
    "CatalogRebuild",
    "CatalogStats",
    "CatalogVersion",
    "Categories",
    "DimensionMismatchError",
    "ModelMismatchError",
    "NoIndexError",
    "PayloadUpdate",
    "ProductIndex",
    "ProductNotFoundError",
    "ProductRef",
    "RebuildInProgressError",
    "ScoredProduct",
    "StoreUnavailableError",
    "StoredProduct",
    "VersionGoneError",
    "open_catalog",
    "product_fingerprint",
]


async def open_catalog(settings: StoreSettings) -> Catalog:
    """The configured backend's catalog, at its current version (empty when none exists yet)."""
    if settings.url:
        from indexer.store.server import ServerCatalog

        return await ServerCatalog.open(settings)
    from indexer.store.edge import EdgeCatalog

    return await EdgeCatalog.open(settings)
