"""Shared machinery of both backends: one version's validated data operations, and forwarding.

``VersionStore`` implements every ``ProductIndex`` method once (input checks, payload
conversion, the model guard) on top of a few engine primitives that each backend supplies.
``CatalogBase`` and ``RebuildBase`` forward to a ``VersionStore``: the catalog to whichever
version is current (or behaves as an empty index when there is none), a rebuild to its own.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Literal, TypeVar

import numpy as np

from indexer.product import Product
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
    ModelMismatchError,
    NoIndexError,
    ProductNotFoundError,
    VersionGoneError,
)
from indexer.store.payload import (
    SearchFilter,
    check_categories,
    check_category,
    check_ids,
    check_items,
    check_page,
    check_products,
    check_vector,
    from_payload,
)

T = TypeVar("T")
Backend = Literal["edge", "server"]
Hit = tuple[int, float, dict[str, Any]]


class VersionStore(ProductIndex):
    """The data of one version, reached through a handful of engine primitives."""

    backend: Backend

    def __init__(self, version: CatalogVersion) -> None:
        self._version = version

    @property
    def version(self) -> CatalogVersion:
        return self._version

    # ---- engine primitives -------------------------------------------------------------

    @abstractmethod
    async def _write(self, products: list[Product], vectors: np.ndarray) -> None: ...

    @abstractmethod
    async def _update_payloads(self, products: list[Product]) -> list[int]:
        """Overwrite the payload of the stored ones; return the ids that are not stored."""

    @abstractmethod
    async def _delete(self, ids: list[int]) -> None: ...

    @abstractmethod
    async def _retrieve(
        self, ids: list[int], with_vectors: bool
    ) -> list[tuple[int, dict[str, Any], np.ndarray | None]]: ...

    @abstractmethod
    async def _query(self, vector: np.ndarray, where: SearchFilter, limit: int, offset: int) -> list[Hit]: ...

    @abstractmethod
    async def _count(self, category: str | None) -> int: ...

    @abstractmethod
    async def _scroll(
        self, start: int | None, limit: int
    ) -> tuple[list[tuple[int, dict[str, Any]]], int | None]:
        """One page of (id, {image_url, fingerprint}) in id order, and where the next one starts."""

    @abstractmethod
    async def _category_counts(self) -> dict[str, int]: ...

    # ---- ProductIndex ------------------------------------------------------------------

    def _guard_model(self, model_id: str | None) -> None:
        if model_id is not None and model_id != self._version.model_id:
            raise ModelMismatchError(
                f"vectors of model {model_id!r} cannot be used with index version {self._version.name}, "
                f"built with {self._version.model_id!r}: rebuild the index or load that model"
            )

    async def upsert(
        self, items: Sequence[tuple[Product, np.ndarray]], *, model_id: str | None = None
    ) -> int:
        self._guard_model(model_id)
        products, vectors = check_items(items, self._version.dimension)
        if products:
            await self._write(products, vectors)
        return len(products)

    async def update_payload(self, products: Sequence[Product]) -> PayloadUpdate:
        checked = check_products(products)
        if not checked:
            return PayloadUpdate(0, ())
        missing = await self._update_payloads(checked)
        return PayloadUpdate(len(checked) - len(missing), tuple(missing))

    async def delete(self, ids: Sequence[int]) -> None:
        checked = check_ids(ids)
        if checked:
            await self._delete(checked)

    async def get(self, ids: Sequence[int], *, with_vectors: bool = False) -> list[StoredProduct]:
        checked = check_ids(ids)
        if not checked:
            return []
        found = {
            pid: (payload, vector) for pid, payload, vector in await self._retrieve(checked, with_vectors)
        }
        return [
            StoredProduct(from_payload(pid, found[pid][0]), found[pid][1] if with_vectors else None)
            for pid in checked
            if pid in found
        ]

    async def count(self, category: str | None = None) -> int:
        return await self._count(check_category(category))

    async def refs(self, *, page_size: int = 1000) -> AsyncIterator[ProductRef]:
        if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 10_000:
            raise ValueError(f"page_size must be an integer from 1 to 10000, got {page_size!r}")
        start: int | None = None
        while True:
            page, start = await self._scroll(start, page_size)
            for pid, payload in page:
                yield ProductRef(
                    id=pid,
                    image_url=str(payload.get("image_url", "")),
                    fingerprint=str(payload.get("fingerprint", "")),
                    model_id=self._version.model_id,
                )
            if start is None:
                return

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
        self._guard_model(model_id)
        query = check_vector(vector, self._version.dimension)
        where = SearchFilter.build(category, min_price, max_price, exclude_ids)
        check_page(limit, offset)
        return self._scored(await self._query(query, where, limit, offset))

    async def similar(
        self, product_id: int, *, category: Categories = None, limit: int = 10, offset: int = 0
    ) -> list[ScoredProduct]:
        (checked,) = check_ids([product_id])
        where = SearchFilter.build(category, exclude_ids=(checked,))
        check_page(limit, offset)
        found = await self._retrieve([checked], True)
        if not found or found[0][2] is None:
            raise ProductNotFoundError(checked)
        return self._scored(await self._query(found[0][2], where, limit, offset))

    async def stats(self) -> CatalogStats:
        by_category = await self._category_counts()
        return CatalogStats(
            total=await self._count(None),
            by_category=dict(sorted(by_category.items())),
            model_id=self._version.model_id,
            model_name=self._version.model_name,
            dimension=self._version.dimension,
            version=self._version.name,
            backend=self.backend,
        )

    async def flush(self) -> None:
        """Nothing to do unless the backend buffers writes (Edge does)."""

    @staticmethod
    def _scored(hits: list[Hit]) -> list[ScoredProduct]:
        return [ScoredProduct(from_payload(pid, payload), score) for pid, score, payload in hits]


class CatalogBase(Catalog):
    """A catalog forwards data operations to its current version (an empty index without one)."""

    backend: Backend

    def __init__(self) -> None:
        self._closed = False
        # Writes wait here while the current version is being replaced, then go to the new one.
        self._write_lock = asyncio.Lock()

    @abstractmethod
    def _current(self) -> VersionStore | None: ...

    async def _before_read(self) -> None:
        """Hook: a backend may check here whether another process switched versions."""

    def _check_open(self) -> None:
        if self._closed:
            raise CatalogClosedError("the catalog is closed")

    @property
    def version(self) -> CatalogVersion | None:
        store = self._current()
        return store.version if store is not None else None

    async def _read(self, operation: Callable[[VersionStore], Awaitable[T]], empty: Callable[[], T]) -> T:
        self._check_open()
        await self._before_read()
        store = self._current()
        if store is None:
            return empty()
        try:
            return await operation(store)
        except VersionGoneError:
            # The version we held was replaced (and closed or removed) meanwhile: follow the switch once.
            await self.refresh()
            fresh = self._current()
            if fresh is None or fresh is store:
                raise
            return await operation(fresh)

    def _writable(self) -> VersionStore:
        self._check_open()
        store = self._current()
        if store is None:
            raise NoIndexError(
                "the catalog has no index yet: build one with begin_rebuild(model_id, model_name, dimension)"
            )
        return store

    async def upsert(
        self, items: Sequence[tuple[Product, np.ndarray]], *, model_id: str | None = None
    ) -> int:
        async with self._write_lock:
            return await self._writable().upsert(items, model_id=model_id)

    async def update_payload(self, products: Sequence[Product]) -> PayloadUpdate:
        async with self._write_lock:
            self._check_open()
            store = self._current()
            if store is None:
                checked = check_products(products)
                return PayloadUpdate(0, tuple(product.id for product in checked))
            return await store.update_payload(products)

    async def delete(self, ids: Sequence[int]) -> None:
        async with self._write_lock:
            self._check_open()
            store = self._current()
            if store is None:
                check_ids(ids)
                return
            await store.delete(ids)

    async def flush(self) -> None:
        async with self._write_lock:
            self._check_open()
            store = self._current()
            if store is not None:
                await store.flush()

    async def get(self, ids: Sequence[int], *, with_vectors: bool = False) -> list[StoredProduct]:
        check_ids(ids)
        return await self._read(lambda store: store.get(ids, with_vectors=with_vectors), list)

    async def count(self, category: str | None = None) -> int:
        check_category(category)
        return await self._read(lambda store: store.count(category), int)

    async def refs(self, *, page_size: int = 1000) -> AsyncIterator[ProductRef]:
        self._check_open()
        await self._before_read()
        store = self._current()
        if store is None:
            return
        async for ref in store.refs(page_size=page_size):
            yield ref

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
        SearchFilter.build(category, min_price, max_price, exclude_ids)
        check_page(limit, offset)
        return await self._read(
            lambda store: store.search(
                vector,
                category=category,
                limit=limit,
                offset=offset,
                exclude_ids=exclude_ids,
                min_price=min_price,
                max_price=max_price,
                model_id=model_id,
            ),
            list,
        )

    async def similar(
        self, product_id: int, *, category: Categories = None, limit: int = 10, offset: int = 0
    ) -> list[ScoredProduct]:
        (checked,) = check_ids([product_id])
        check_categories(category)
        check_page(limit, offset)

        def nothing_stored() -> list[ScoredProduct]:
            raise ProductNotFoundError(checked)

        return await self._read(
            lambda store: store.similar(checked, category=category, limit=limit, offset=offset),
            nothing_stored,
        )

    async def stats(self) -> CatalogStats:
        return await self._read(
            lambda store: store.stats(),
            lambda: CatalogStats(0, {}, None, None, None, None, self.backend),
        )


class RebuildBase(CatalogRebuild):
    """A rebuild forwards data operations to the version it builds, until commit/abort/close."""

    def __init__(self, store: VersionStore, resumed: bool) -> None:
        self._store = store
        self._resumed = resumed
        self._state: Literal["open", "committing", "committed", "closed", "aborted"] = "open"
        # commit/abort/close take this lock, so they never cut a write batch in half.
        self._write_lock = asyncio.Lock()

    @property
    def version(self) -> CatalogVersion:
        return self._store.version

    @property
    def resumed(self) -> bool:
        return self._resumed

    def _open_store(self) -> VersionStore:
        if self._state != "open":
            raise CatalogClosedError(f"the rebuild of {self._store.version.name} is {self._state}")
        return self._store

    async def upsert(
        self, items: Sequence[tuple[Product, np.ndarray]], *, model_id: str | None = None
    ) -> int:
        async with self._write_lock:
            return await self._open_store().upsert(items, model_id=model_id)

    async def update_payload(self, products: Sequence[Product]) -> PayloadUpdate:
        async with self._write_lock:
            return await self._open_store().update_payload(products)

    async def delete(self, ids: Sequence[int]) -> None:
        async with self._write_lock:
            await self._open_store().delete(ids)

    async def flush(self) -> None:
        async with self._write_lock:
            await self._open_store().flush()

    async def get(self, ids: Sequence[int], *, with_vectors: bool = False) -> list[StoredProduct]:
        return await self._open_store().get(ids, with_vectors=with_vectors)

    async def count(self, category: str | None = None) -> int:
        return await self._open_store().count(category)

    async def refs(self, *, page_size: int = 1000) -> AsyncIterator[ProductRef]:
        async for ref in self._open_store().refs(page_size=page_size):
            yield ref

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
        return await self._open_store().search(
            vector,
            category=category,
            limit=limit,
            offset=offset,
            exclude_ids=exclude_ids,
            min_price=min_price,
            max_price=max_price,
            model_id=model_id,
        )

    async def similar(
        self, product_id: int, *, category: Categories = None, limit: int = 10, offset: int = 0
    ) -> list[ScoredProduct]:
        return await self._open_store().similar(product_id, category=category, limit=limit, offset=offset)

    async def stats(self) -> CatalogStats:
        return await self._open_store().stats()

    # ---- lifecycle: the same state machine for both backends, engine work in the hooks ----

    @abstractmethod
    async def _finish(self) -> CatalogVersion:
        """Index the finished version and make it current."""

    @abstractmethod
    def _forget(self) -> None:
        """Tell the owning catalog that this rebuild is no longer in progress."""

    @abstractmethod
    async def _discard(self) -> None:
        """Remove the version's data for good (abort)."""

    @abstractmethod
    async def _release(self) -> None:
        """Let go of the version without removing it, so a later rebuild resumes it (close)."""

    async def commit(self) -> CatalogVersion:
        async with self._write_lock:
            self._open_store()
            self._state = "committing"
            try:
                version = await self._finish()
            except BaseException:
                self._state = "closed"  # the version stays: a later begin_rebuild resumes it
                raise
            self._state = "committed"
            return version

    async def abort(self) -> None:
        async with self._write_lock:
            if self._state == "committed":
                raise CatalogError(f"index version {self.version.name} is already committed (and current)")
            if self._state == "aborted":
                return
            self._state = "aborted"
            self._forget()
            await self._discard()

    async def close(self) -> None:
        async with self._write_lock:
            if self._state != "open":
                return
            self._state = "closed"
            self._forget()
            await self._release()
