"""The product index as the bot and sync see it, whatever the engine underneath.

``Catalog`` is the live index (its current version) and replaces it: ``begin_rebuild`` starts a new
version (another embedding model or dimension, or a fresh copy) that becomes current only when its
``CatalogRebuild`` is committed, while searches keep using the old one. Both share the data operations
of ``ProductIndex``. Results are frozen dataclasses around ``Product``: callers never see engine types.
Text search (``search_text``, see ``text.py``) needs the version's sparse text vectors; versions made
before it get them in place from ``add_text_index`` (the sync calls it), without new image vectors.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import numpy as np

from indexer.product import Product
from indexer.store.engine import Backend, Engine, Hit, VersionHandle
from indexer.store.errors import (
    CatalogClosedError,
    CatalogError,
    ModelMismatchError,
    NoIndexError,
    ProductNotFoundError,
    RebuildInProgressError,
    TextIndexMissingError,
    VersionGoneError,
)
from indexer.store.filters import DEFAULT_FILTERS, SearchFilters
from indexer.store.payload import (
    Categories,
    check_categories,
    check_category,
    check_dimension,
    check_ids,
    check_items,
    check_products,
    from_payload,
)
from indexer.store.query import SearchQuery, TextQuery, check_page
from indexer.store.text import tiered_page
from indexer.store.versions import CatalogVersion, check_model, new_version_name, same_model
from indexer.text import SparseTerms, product_terms

__all__ = [
    "Catalog",
    "CatalogRebuild",
    "CatalogStats",
    "CatalogVersion",
    "Categories",
    "PayloadUpdate",
    "ProductIndex",
    "ProductRef",
    "ScoredProduct",
    "StoredProduct",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


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

    Equal fingerprints (``product_fingerprint``) mean the indexed fields are unchanged; another
    ``image_url`` means the vector must be recomputed; another fingerprint alone, ``update_payload``.
    """

    id: int
    image_url: str
    fingerprint: str
    model_id: str
    effective_price: int | None = None  # what the shopper paid at the last sync (alerts compare it)
    sold_out: bool | None = None


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
    backend: Backend
    text_index: bool = False  # the version has text search (older ones get it from the next sync)


@dataclass(frozen=True)
class _Opened:
    """An open version: its metadata and the engine's handle on its data."""

    version: CatalogVersion
    handle: VersionHandle


def _guard_model(version: CatalogVersion, model_id: str | None) -> None:
    if model_id is not None and not same_model(model_id, version.model_id):
        raise ModelMismatchError(
            f"vectors of model {model_id!r} cannot be used with index version {version.name}, "
            f"built with {version.model_id!r}: rebuild the index or load that model"
        )


async def _terms_of(version: CatalogVersion, products: Sequence[Product]) -> list[SparseTerms] | None:
    """The text terms to store with ``products`` (None: the version has no text index yet).

    The Korean analyser runs in a thread: about 0.1 ms a product.
    """
    if not version.text_index or not products:
        return None
    return await asyncio.to_thread(lambda: [product_terms(product) for product in products])


def _scored(hits: list[Hit]) -> list[ScoredProduct]:
    return [ScoredProduct(from_payload(pid, payload), score) for pid, score, payload in hits]


class ProductIndex(ABC):
    """Data operations on one index version: the catalog's current one, or a rebuild's own.

    Inputs are checked here, once. Subclasses say which version to use: ``_reading`` and ``_writing``
    (None: no index yet, answered as an empty one), and ``_followed`` (the version to retry on after
    the one read from was replaced meanwhile).
    """

    def __init__(self, engine: Engine[Any]) -> None:
        self._engine = engine
        self._write_lock = asyncio.Lock()

    @abstractmethod
    async def _reading(self) -> _Opened | None: ...

    @abstractmethod
    def _writing(self) -> _Opened | None: ...

    async def _followed(self, stale: _Opened) -> _Opened | None:
        return None

    @abstractmethod
    def _text_added(self, opened: _Opened, version: CatalogVersion) -> None:
        """``opened``'s version now has its text index (``add_text_index``)."""

    async def _text_version(self, target: _Opened) -> CatalogVersion:
        """The version's metadata, re-read when it still lacks text (another process may have added it)."""
        return target.version

    @property
    def backend(self) -> Backend:
        return self._engine.backend

    async def _read(self, operation: Callable[[_Opened], Awaitable[T]], empty: Callable[[], T]) -> T:
        target = await self._reading()
        if target is None:
            return empty()
        try:
            return await operation(target)
        except VersionGoneError:
            fresh = await self._followed(target)
            if fresh is None:
                raise
            return await operation(fresh)

    async def upsert(
        self, items: Sequence[tuple[Product, np.ndarray]], *, model_id: str | None = None
    ) -> int:
        """Store products with their vectors (insert or replace); returns how many were written.

        ``model_id``, when given, must be the version's model. Vectors must have the version's
        dimension, be finite and non-zero. A product id given twice keeps its last occurrence.
        """
        async with self._write_lock:
            target = self._writing()
            if target is None:
                raise NoIndexError(
                    "the catalog has no index yet: "
                    "build one with begin_rebuild(model_id, model_name, dimension)"
                )
            _guard_model(target.version, model_id)
            products, vectors = check_items(items, target.version.dimension)
            if products:
                await target.handle.write(products, vectors, await _terms_of(target.version, products))
            return len(products)

    async def update_payload(self, products: Sequence[Product]) -> PayloadUpdate:
        """Replace the stored metadata of products and their text vectors (a name or brand may have
        changed), never their image vectors; ids not stored are reported."""
        async with self._write_lock:
            target = self._writing()
            checked = check_products(products)
            if target is None or not checked:
                return PayloadUpdate(0, tuple(product.id for product in checked))
            missing = await target.handle.update_payloads(checked, await _terms_of(target.version, checked))
            return PayloadUpdate(len(checked) - len(missing), tuple(missing))

    async def add_text_index(self, *, page_size: int = 512) -> int:
        """Give a version made before text search its text vectors, in place; returns how many products
        got them (0: the version already had them, or there is none).

        The image vectors stay as they are: each stored product's terms come from its stored name and
        brand. Safe to repeat after an interruption (it starts over); the version records
        ``text_index`` only once every product has its terms, and search_text refuses it until then.
        """
        async with self._write_lock:
            target = self._writing()
            if target is None or target.version.text_index:
                return 0
            log.info("adding text search to index version %s", target.version.name)
            handle = target.handle
            await handle.enable_text()
            done = 0
            start: int | None = None
            while True:
                page, start = await handle.scroll(start, page_size)
                ids = [pid for pid, _ in page]
                products = [
                    from_payload(pid, payload) for pid, payload, _ in await handle.retrieve(ids, False)
                ]
                if products:
                    terms = await asyncio.to_thread(
                        lambda products=products: [product_terms(p) for p in products]
                    )
                    await handle.set_text(products, terms)
                    done += len(products)
                if start is None:
                    break
            await handle.flush()
            version = dataclasses.replace(target.version, text_index=True)
            await self._engine.save_version(version)
            self._text_added(target, version)
            log.info("index version %s: text search added to %d products", version.name, done)
            return done

    async def delete(self, ids: Sequence[int]) -> None:
        """Remove products; ids that are not stored are ignored."""
        async with self._write_lock:
            target = self._writing()
            checked = check_ids(ids)
            if target is not None and checked:
                await target.handle.delete(checked)

    async def flush(self) -> None:
        """Persist everything written so far (call it at the end of a sync)."""
        async with self._write_lock:
            target = self._writing()
            if target is not None:
                await target.handle.flush()

    async def get(self, ids: Sequence[int], *, with_vectors: bool = False) -> list[StoredProduct]:
        """Stored products in the order asked, missing ids omitted."""
        checked = check_ids(ids)

        async def stored(target: _Opened) -> list[StoredProduct]:
            if not checked:
                return []
            records = await target.handle.retrieve(checked, with_vectors)
            found = {pid: (payload, vector) for pid, payload, vector in records}
            return [
                StoredProduct(from_payload(pid, found[pid][0]), found[pid][1] if with_vectors else None)
                for pid in checked
                if pid in found
            ]

        return await self._read(stored, list)

    async def count(self, category: str | None = None) -> int:
        """Products stored, optionally only those in ``category`` or below it."""
        checked = check_category(category)
        return await self._read(lambda target: target.handle.count(checked), int)

    async def refs(self, *, page_size: int = 1000) -> AsyncIterator[ProductRef]:
        """Every stored product's id, image URL, fingerprint and model id, in id order."""
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 10_000:
            raise ValueError(f"page_size must be an integer from 1 to 10000, got {page_size!r}")
        target = await self._reading()
        if target is None:
            return
        start: int | None = None
        while True:
            page, start = await target.handle.scroll(start, page_size)
            for pid, payload in page:
                yield ProductRef(
                    id=pid,
                    image_url=str(payload.get("image_url", "")),
                    fingerprint=str(payload.get("fingerprint", "")),
                    model_id=target.version.model_id,
                    effective_price=_int_or_none(payload.get("effective_price")),
                    sold_out=payload.get("sold_out") if isinstance(payload.get("sold_out"), bool) else None,
                )
            if start is None:
                return

    async def search(self, query: SearchQuery) -> list[ScoredProduct]:
        """The products closest to ``query.vector``, best first (see ``SearchQuery``)."""

        async def nearest(target: _Opened) -> list[ScoredProduct]:
            _guard_model(target.version, query.model_id)
            check_dimension(query.vector, target.version.dimension)
            return _scored(await target.handle.query(query))

        return await self._read(nearest, list)

    async def search_text(self, query: TextQuery) -> list[ScoredProduct]:
        """Products matching ``query``'s words: those holding every term first, then the others, each
        tier ranked by IDF-weighed term matches, fused with the image neighbours of ``query.vector``
        when given (see ``indexer.store.text``). ``TextIndexMissingError`` on a version made before text
        search (the next sync adds it); the model guard and dimension check apply to ``query.vector``.
        """
        if not isinstance(query, TextQuery):
            raise TypeError(f"search_text takes a TextQuery, got {type(query).__name__}")

        async def matched(target: _Opened) -> list[ScoredProduct]:
            version = await self._text_version(target)
            _guard_model(version, query.model_id)
            if query.vector is not None:
                check_dimension(query.vector, version.dimension)
            if not version.text_index:
                raise TextIndexMissingError(
                    f"index version {version.name} was built before text search: "
                    "the next sync adds it (without embedding images again)"
                )
            handle = target.handle
            hits = await tiered_page(
                query,
                lambda: handle.count_text(query),
                lambda every_term, limit: handle.query_text(query, every_term, limit),
            )
            records = await handle.retrieve([pid for pid, _, _ in hits], False) if hits else []
            payloads = {pid: payload for pid, payload, _ in records}
            return _scored([(pid, score, payloads[pid]) for pid, score, _ in hits if pid in payloads])

        return await self._read(matched, list)

    async def similar(
        self,
        product_id: int,
        *,
        category: Categories = None,
        filters: SearchFilters = DEFAULT_FILTERS,
        limit: int = 10,
        offset: int = 0,
    ) -> list[ScoredProduct]:
        """Neighbours of a stored product, never the product itself (``ProductNotFoundError``)."""
        (checked,) = check_ids([product_id])
        check_categories(category)
        check_page(limit, offset)

        async def neighbours(target: _Opened) -> list[ScoredProduct]:
            found = await target.handle.retrieve([checked], True)
            if not found or found[0][2] is None:
                raise ProductNotFoundError(checked)
            query = SearchQuery(found[0][2], category, limit, offset, exclude_ids=(checked,), filters=filters)
            return _scored(await target.handle.query(query))

        def nothing_stored() -> list[ScoredProduct]:
            raise ProductNotFoundError(checked)

        return await self._read(neighbours, nothing_stored)

    async def stats(self) -> CatalogStats:
        """Totals per top-level category, and the version's model and dimension."""

        async def summed(target: _Opened) -> CatalogStats:
            by_category = await target.handle.category_counts()
            version = target.version
            return CatalogStats(
                total=await target.handle.count(None),
                by_category=dict(sorted(by_category.items())),
                model_id=version.model_id,
                model_name=version.model_name,
                dimension=version.dimension,
                version=version.name,
                backend=self.backend,
                text_index=version.text_index,
            )

        return await self._read(summed, lambda: CatalogStats(0, {}, None, None, None, None, self.backend))


class Catalog(ProductIndex):
    """The live product index: its current version (empty when none), and the means to replace it.

    Open it with ``open_catalog``. ``refresh_seconds`` > 0 makes reads look that often whether another
    process switched versions (the server engine); a read whose version was replaced meanwhile follows
    the switch once.
    """

    def __init__(self, engine: Engine[Any], *, refresh_seconds: float = 0.0) -> None:
        super().__init__(engine)
        self._refresh_seconds = refresh_seconds
        self._checked_at = 0.0
        self._current: _Opened | None = None
        self._rebuild: CatalogRebuild | None = None
        self._closed = False
        self._switch_lock = asyncio.Lock()  # one switch, rebuild start or refresh at a time

    @classmethod
    async def open(cls, engine: Engine[Any], *, refresh_seconds: float = 0.0) -> Catalog:
        """The catalog at the engine's current version; the engine is closed if that fails."""
        catalog = cls(engine, refresh_seconds=refresh_seconds)
        try:
            await catalog.refresh()
        except BaseException:
            await engine.close()
            raise
        return catalog

    @property
    def version(self) -> CatalogVersion | None:
        """The current version (None: nothing indexed yet)."""
        return self._current.version if self._current is not None else None

    def _check_open(self) -> None:
        if self._closed:
            raise CatalogClosedError("the catalog is closed")

    async def _reading(self) -> _Opened | None:
        self._check_open()
        if self._refresh_seconds > 0 and time.monotonic() - self._checked_at >= self._refresh_seconds:
            await self.refresh()
        return self._current

    def _writing(self) -> _Opened | None:
        self._check_open()
        return self._current

    async def _followed(self, stale: _Opened) -> _Opened | None:
        await self.refresh()
        fresh = self._current
        return fresh if fresh is not None and fresh is not stale else None

    def _text_added(self, opened: _Opened, version: CatalogVersion) -> None:
        if self._current is opened:
            self._current = _Opened(version, opened.handle)

    async def _text_version(self, target: _Opened) -> CatalogVersion:
        if target.version.text_index:
            return target.version
        try:  # a sync in another process (server engine) may have added it since
            fresh = await self._engine.read_version(target.version.name)
        except (CatalogError, OSError) as exc:
            log.debug("could not re-read index version %s: %s", target.version.name, exc)
            return target.version
        if fresh.text_index and self._current is target:
            self._current = _Opened(dataclasses.replace(target.version, text_index=True), target.handle)
        return dataclasses.replace(target.version, text_index=fresh.text_index)

    async def refresh(self) -> bool:
        """Follow a switch made elsewhere (another process's commit); True when the version changed."""
        self._check_open()
        async with self._switch_lock:
            name = await self._engine.current_name()
            self._checked_at = time.monotonic()
            if name == (self._current.version.name if self._current is not None else None):
                return False
            version = await self._engine.read_version(name) if name is not None else None
            if version is not None and version.state != "ready":  # the switcher died before marking it
                version = await self._engine.mark_ready(version)
            async with self._write_lock:
                fresh = _Opened(version, await self._engine.open(version)) if version is not None else None
                old, self._current = self._current, fresh
                if old is not None:
                    await old.handle.close()
            log.info("following index version %s", name)
            return True

    async def versions(self) -> list[CatalogVersion]:
        """All versions kept (current, the previous one for rollback, unfinished rebuilds)."""
        self._check_open()
        return await self._engine.versions()

    async def begin_rebuild(
        self, model_id: str, model_name: str, dimension: int, *, text_index: bool = True
    ) -> CatalogRebuild:
        """Start (or resume) building a new version; the current one keeps serving meanwhile.

        An unfinished rebuild for the same model and dimension is resumed with what it holds:
        diff against ``rebuild.refs()`` to skip finished work. ``text_index=False`` lays the version
        out as before text search (no sparse vectors): only for tests of ``add_text_index``.
        """
        self._check_open()
        check_model(model_id, model_name, dimension)
        async with self._switch_lock:
            if self._rebuild is not None:
                raise RebuildInProgressError(
                    f"a rebuild ({self._rebuild.version.name}) is already open: "
                    "commit, abort or close it first"
                )
            current = await self._engine.current_name()
            resumable = [
                version
                for version in await self._engine.versions()
                if version.state == "building"
                and version.name != current
                and same_model(version.model_id, model_id)
                and version.dimension == dimension
            ]
            handle = await self._engine.resume(resumable[-1]) if resumable else None
            resumed = handle is not None
            if handle is not None:
                version = resumable[-1]
            else:
                name = new_version_name(self._engine.collection, model_id, await self._engine.names())
                version = CatalogVersion(
                    name, model_id, model_name, dimension, datetime.now(UTC), "building", text_index
                )
                handle = await self._engine.create(version)
            self._rebuild = CatalogRebuild(
                self._engine, _Opened(version, handle), resumed, switch=self._switch_to, forget=self._forget
            )
            log.info(
                "%s index version %s for model %s",
                "resuming" if resumed else "building",
                version.name,
                model_id,
            )
            return self._rebuild

    def _forget(self, rebuild: CatalogRebuild) -> None:
        if self._rebuild is rebuild:
            self._rebuild = None

    async def _switch_to(self, version: CatalogVersion) -> CatalogVersion:
        async with self._switch_lock, self._write_lock:
            return await self._switch(version)

    async def _switch(self, version: CatalogVersion) -> CatalogVersion:
        """Make ``version`` current, keep the previous one for rollback, remove older ones.

        The caller holds the switch and write locks: no write lands on the old version meanwhile.
        """
        if self._closed:
            raise CatalogClosedError(f"the catalog was closed before switching to {version.name}")
        previous = await self._engine.current_name()
        handle = await self._engine.open(version)
        try:
            ready = await self._engine.make_current(version)
        except BaseException:
            await handle.close()  # let go of it, so that the rebuild can be resumed
            raise
        old, self._current = self._current, _Opened(ready, handle)
        self._checked_at = time.monotonic()
        if old is not None:
            await old.handle.close()  # after the calls already queued on it
        keep = {ready.name, previous} | ({self._rebuild.version.name} if self._rebuild is not None else set())
        for name in await self._engine.names():
            if name not in keep:
                try:
                    await self._engine.drop(name)
                except (CatalogError, OSError) as exc:
                    log.warning("could not remove old index version %s: %s", name, exc)
        log.info("index version %s is now current (model %s)", ready.name, ready.model_id)
        return ready

    async def optimize(self, *, force: bool = False) -> bool:
        """Make recent bulk writes fast to search, without blocking the serving process.

        True when a freshly indexed copy was switched in (Edge, when enough vectors wait unindexed
        or ``force``); the server indexes in the background and answers False.
        """
        self._check_open()
        async with self._switch_lock, self._write_lock:  # writes wait from the copy to the switch
            current = self._current
            if current is None:
                return False
            copy = await self._engine.optimized_copy(current.version, current.handle, force=force)
            if copy is None:
                return False
            await self._switch(copy)
            return True

    async def close(self) -> None:
        """Release the index (and an open rebuild, left resumable). Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._rebuild is not None:
                await self._rebuild.close()
            if self._current is not None:
                await self._current.handle.close(catalog_closed=True)
        finally:
            await self._engine.close()


class CatalogRebuild(ProductIndex):
    """A version under construction; it becomes current only on ``commit``."""

    def __init__(
        self,
        engine: Engine[Any],
        opened: _Opened,
        resumed: bool,
        *,
        switch: Callable[[CatalogVersion], Awaitable[CatalogVersion]],
        forget: Callable[[CatalogRebuild], None],
    ) -> None:
        super().__init__(engine)
        self._opened = opened
        self._resumed = resumed
        self._switch = switch  # the catalog's: make a finished version current
        self._forget = forget  # the catalog's: this rebuild is no longer in progress
        self._state: Literal["open", "committing", "committed", "closed", "aborted"] = "open"

    @property
    def version(self) -> CatalogVersion:
        return self._opened.version

    @property
    def resumed(self) -> bool:
        """True when this continues an interrupted rebuild (it may already hold products)."""
        return self._resumed

    def _text_added(self, opened: _Opened, version: CatalogVersion) -> None:
        if self._opened is opened:
            self._opened = _Opened(version, opened.handle)

    def _writing(self) -> _Opened:
        if self._state != "open":
            raise CatalogClosedError(f"the rebuild of {self.version.name} is {self._state}")
        return self._opened

    async def _reading(self) -> _Opened:
        return self._writing()

    async def commit(self) -> CatalogVersion:
        """Index, validate and switch to this version; keep the previous one, drop older ones."""
        async with self._write_lock:
            opened = self._writing()
            self._state = "committing"
            try:
                expected = await opened.handle.count(None)
                if expected == 0:
                    raise CatalogError(f"refusing to switch to {opened.version.name}: it holds no products")
                await self._engine.build_index(opened.version, opened.handle, expected)
                version = await self._switch(opened.version)
            except BaseException:
                self._state = "closed"  # the version stays: a later begin_rebuild resumes it
                with contextlib.suppress(CatalogError):
                    await opened.handle.close()
                raise
            finally:
                self._forget(self)
            self._state = "committed"
            return version

    async def abort(self) -> None:
        """Discard this version and everything written to it."""
        async with self._write_lock:
            if self._state == "committed":
                raise CatalogError(f"index version {self.version.name} is already committed (and current)")
            if self._state == "aborted":
                return
            self._state = "aborted"
            self._forget(self)
            with contextlib.suppress(CatalogError):
                await self._opened.handle.close()
            await self._engine.drop(self.version.name)

    async def close(self) -> None:
        """Stop writing but keep the version, so that a later ``begin_rebuild`` resumes it."""
        async with self._write_lock:
            if self._state != "open":
                return
            self._state = "closed"
            self._forget(self)
            await self._opened.handle.close()


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
