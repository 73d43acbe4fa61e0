"""What the catalog needs from a vector engine: primitives only, no checks and no version policy.

Two engines implement it: Qdrant Edge, embedded (``edge.py``), and a Qdrant server (``server.py``).
Input checks, the model guard, rebuilds, switches and the removal of old versions are the catalog's
(``catalog.py``), written once for both.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, TypeVar

import numpy as np

from indexer.product import Product
from indexer.store.query import SearchQuery, TextQuery
from indexer.store.versions import CatalogVersion
from indexer.text import SparseTerms

Backend = Literal["edge", "server"]
Hit = tuple[int, float, dict[str, Any]]  # (id, score, payload)
Record = tuple[int, dict[str, Any], np.ndarray | None]  # (id, payload, vector when asked)
RefPage = tuple[list[tuple[int, dict[str, Any]]], int | None]  # (id, ref fields) in id order, next start


class VersionHandle(Protocol):
    """The data of one open index version; inputs arrive checked."""

    async def write(
        self, products: list[Product], vectors: np.ndarray, terms: list[SparseTerms] | None
    ) -> None:
        """Insert or replace products with their vectors (and text terms, for a text-indexed version)."""

    async def update_payloads(self, products: list[Product], terms: list[SparseTerms] | None) -> list[int]:
        """Overwrite the payload (and the text vector when ``terms``) of the stored ones; return the
        ids that are not stored."""

    async def enable_text(self) -> None:
        """Add the sparse "text" vector (IDF) and the payload indexes that older versions lack."""

    async def set_text(self, products: list[Product], terms: list[SparseTerms]) -> None:
        """Store the text vector and ``text_terms`` of stored products, nothing else."""

    async def query_text(self, query: TextQuery, every_term: bool, limit: int) -> list[Hit]:
        """The first ``limit`` hits of one tier: products holding every term of the query, or the others."""

    async def count_text(self, query: TextQuery) -> int:
        """Products in the query's scope that hold every term."""

    async def delete(self, ids: list[int]) -> None: ...

    async def retrieve(self, ids: list[int], with_vectors: bool) -> list[Record]: ...

    async def query(self, query: SearchQuery) -> list[Hit]: ...

    async def count(self, category: str | None) -> int: ...

    async def scroll(self, start: int | None, limit: int) -> RefPage: ...

    async def category_counts(self) -> dict[str, int]:
        """Products per top-level category."""

    async def flush(self) -> None: ...

    async def close(self, *, catalog_closed: bool = False) -> None:
        """Let go of the version; later calls raise ``VersionGoneError`` (``CatalogClosedError``
        when the whole catalog is closing)."""


H = TypeVar("H", bound=VersionHandle)


class Engine(Protocol[H]):
    """Where versions live, and how one becomes current (Edge: a pointer file; server: an alias)."""

    backend: Backend
    collection: str

    async def current_name(self) -> str | None:
        """The version the pointer or alias names now (None: none yet); follows switches made elsewhere."""

    async def read_version(self, name: str) -> CatalogVersion: ...

    async def versions(self) -> list[CatalogVersion]:
        """Every readable version, oldest first (unreadable ones are skipped with a warning)."""

    async def names(self) -> list[str]:
        """The names of every version held, readable or not."""

    async def create(self, version: CatalogVersion) -> H:
        """A new, empty version with its payload indexes."""

    async def open(self, version: CatalogVersion) -> H: ...

    async def resume(self, version: CatalogVersion) -> H | None:
        """An unfinished version, to go on filling it; None when it is too damaged (it is then removed)."""

    async def drop(self, name: str) -> None: ...

    async def build_index(self, version: CatalogVersion, handle: H, expected: int) -> None:
        """Make a finished version (of ``expected`` products) fast to search before it becomes current."""

    async def make_current(self, version: CatalogVersion) -> CatalogVersion:
        """Point at ``version`` in one atomic step and record it as ready; returns the ready version."""

    async def mark_ready(self, version: CatalogVersion) -> CatalogVersion: ...

    async def save_version(self, version: CatalogVersion) -> None:
        """Record changed metadata of a version (its ``text_index`` flag)."""

    async def optimized_copy(
        self, version: CatalogVersion, handle: H, *, force: bool
    ) -> CatalogVersion | None:
        """A freshly indexed copy of the current version to switch to, or None when nothing is gained."""

    async def close(self) -> None:
        """Release what the engine holds (the Edge folder lock, the server client)."""
