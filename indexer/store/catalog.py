"""The Catalog interface: what the bot and sync may ask of the product index, whatever the backend.

Three abstract types:

- ``ProductIndex``: the data operations on one index version (write, read, search).
- ``Catalog``: the *current* version, plus model-versioning: ``begin_rebuild`` starts a new
  version (a different embedding model, a different dimension, or a fresh compacted copy)
  that becomes current only on ``commit``, while searches keep using the old one.
- ``CatalogRebuild``: a version being built; the same data operations plus ``commit``/``abort``.

Results are plain frozen dataclasses around ``Product`` so callers never see engine types.
All methods are coroutines: the bot awaits them on its event loop. How each backend keeps
that loop responsive is described in ``indexer.store`` (the package docstring).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np

from indexer.product import Product

VersionState = Literal["building", "ready"]
# A search's category scope: one code, several (a product in any of them matches), or None (all).
Categories = str | Sequence[str] | None


@dataclass(frozen=True)
class CatalogVersion:
    """One index version: which embedding model made its vectors, and their dimension.

    ``model_name`` is the open_clip name, so a process can load the matching encoder to query
    an older version during a transition; ``model_id`` is the exact identity (name, weights,
    preprocessing) that decides whether vectors may be mixed.
    """

    name: str
    model_id: str
    model_name: str
    dimension: int
    created_at: datetime
    state: VersionState = "building"


@dataclass(frozen=True)
class ScoredProduct:
    product: Product
    score: float


@dataclass(frozen=True)
class StoredProduct:
    product: Product
    vector: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ProductRef:
    """What sync needs to diff a crawl against the index, without loading full payloads.

    ``fingerprint`` is ``product_fingerprint(product)`` of the stored product: equal
    fingerprints mean the indexed fields are unchanged; a different ``image_url`` means the
    vector must be recomputed; a different fingerprint alone means ``update_payload``.
    """

    id: int
    image_url: str
    fingerprint: str
    model_id: str


@dataclass(frozen=True)
class PayloadUpdate:
    """Outcome of ``update_payload``: ids that were not stored are reported, not fatal."""

    updated: int
    missing: tuple[int, ...]


@dataclass(frozen=True)
class CatalogStats:
    total: int
    by_category: dict[str, int]
    model_id: str | None
    model_name: str | None
    dimension: int | None
    version: str | None
    backend: Literal["edge", "server"]


class ProductIndex(ABC):
    """Data operations on one index version."""

    @property
    @abstractmethod
    def version(self) -> CatalogVersion | None:
        """The version these operations act on (None: nothing indexed yet)."""

    @abstractmethod
    async def upsert(
        self, items: Sequence[tuple[Product, np.ndarray]], *, model_id: str | None = None
    ) -> int:
        """Store products with their vectors (insert or replace); returns how many were written.

        ``model_id``, when given, must equal the version's model: a guard against mixing vectors
        of two models. Vectors must have the version's dimension, be finite and non-zero.
        A product id given twice keeps its last occurrence.
        """

    @abstractmethod
    async def update_payload(self, products: Sequence[Product]) -> PayloadUpdate:
        """Replace the stored metadata of products without touching their vectors.

        Ids that are not stored are skipped and reported in ``PayloadUpdate.missing``.
        """

    @abstractmethod
    async def delete(self, ids: Sequence[int]) -> None:
        """Remove products; ids that are not stored are ignored."""

    @abstractmethod
    async def get(self, ids: Sequence[int], *, with_vectors: bool = False) -> list[StoredProduct]:
        """Stored products in the order asked, missing ids omitted."""

    @abstractmethod
    async def count(self, category: str | None = None) -> int:
        """Products stored, optionally only those in ``category`` or below it."""

    @abstractmethod
    def refs(self, *, page_size: int = 1000) -> AsyncIterator[ProductRef]:
        """Every stored product's id, image URL, fingerprint and model id, in id order."""

    @abstractmethod
    async def search(
        self,
        vector: np.ndarray,
        *,
        category: Categories = None,
        limit: int = 10,
        offset: int = 0,
        exclude_ids: Sequence[int] = (),
        min_price: int | None = None,
        max_price: int | None = None,
        model_id: str | None = None,
    ) -> list[ScoredProduct]:
        """Products closest to ``vector`` (cosine), best first.

        ``category`` is hierarchical ('001' also matches products under '001004'); several codes
        match a product in any of them (a garment of tops or outerwear: ``("001", "002")``); the price
        range applies to ``Product.effective_price`` (inclusive). ``model_id``, when given,
        must equal the version's model (else ``ModelMismatchError``).
        """

    @abstractmethod
    async def similar(
        self, product_id: int, *, category: Categories = None, limit: int = 10, offset: int = 0
    ) -> list[ScoredProduct]:
        """Neighbours of a stored product, never the product itself (``ProductNotFoundError``)."""

    @abstractmethod
    async def stats(self) -> CatalogStats:
        """Totals per top-level category, and the version's model and dimension."""

    @abstractmethod
    async def flush(self) -> None:
        """Persist everything written so far (call it at the end of a sync).

        Writes are already safe against a crash of the process when they return (Edge: Qdrant's
        WAL; server: ``wait=True``). Edge also writes its segments out, which holds the engine
        ~40 ms plus ~20 ms per 1000 pending points; it does so by itself every 2048 points,
        after 30 s, at commit and at close.
        """


class Catalog(ProductIndex):
    """The live product index: its current version, and the means to replace it."""

    @abstractmethod
    async def begin_rebuild(self, model_id: str, model_name: str, dimension: int) -> CatalogRebuild:
        """Start (or resume) building a new version; the current one keeps serving meanwhile.

        An unfinished rebuild for the same model and dimension (a crash, a stopped process) is
        resumed with what it already holds: diff against ``rebuild.refs()`` to skip finished work.
        """

    @abstractmethod
    async def refresh(self) -> bool:
        """Follow a switch made elsewhere (another process's commit); True when the version changed."""

    @abstractmethod
    async def optimize(self, *, force: bool = False) -> bool:
        """Make recent bulk writes fast to search, without blocking the serving process.

        True when a new, optimized version was switched in. Edge: copies the current version,
        builds its HNSW graph in a child process and switches to it (skipped when few vectors
        are unindexed, unless ``force``). Server: Qdrant optimizes in the background: no-op.
        """

    @abstractmethod
    async def versions(self) -> list[CatalogVersion]:
        """All versions kept (current, the previous one for rollback, unfinished rebuilds)."""

    @abstractmethod
    async def close(self) -> None:
        """Release the index (and an open rebuild, left resumable). Idempotent."""


class CatalogRebuild(ProductIndex):
    """A version under construction. It becomes current only on ``commit``."""

    @property
    @abstractmethod
    def version(self) -> CatalogVersion: ...

    @property
    @abstractmethod
    def resumed(self) -> bool:
        """True when this continues an interrupted rebuild (it may already hold products)."""

    @abstractmethod
    async def commit(self) -> CatalogVersion:
        """Index, validate and switch to this version; keep the previous one, drop older ones."""

    @abstractmethod
    async def abort(self) -> None:
        """Discard this version and everything written to it."""

    @abstractmethod
    async def close(self) -> None:
        """Stop writing but keep the version, so a later ``begin_rebuild`` resumes it."""
