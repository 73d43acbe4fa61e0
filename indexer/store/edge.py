"""The embedded backend: Qdrant Edge (the real Qdrant engine, in-process) in ``[store].path``.

Threading (measured on the shared 2-core dev machine, 768-d vectors; bench/store.py):

- Every qdrant-edge-py call holds the GIL until it returns: while one runs, no other Python
  thread runs, the event loop included. A worker thread cannot hide a long call, so the
  serving process only ever makes short ones.
- Writes go to the engine ``WRITE_BATCH`` (128) points at a time, ~6-9 ms each, and the loop
  runs between them. Payloads are built on the worker thread, where plain Python still
  yields the GIL every 5 ms.
- A flush holds the GIL ~40 ms plus ~20 ms per 1000 pending points, so writes do not flush
  each time: when a write call returns, its points are in Qdrant's WAL, which survives a
  crash of the process (tested by killing one mid-rebuild). Segments are flushed once
  ``FLUSH_POINTS`` (2048) points are pending (~0.1 s), after ``FLUSH_INTERVAL`` seconds with
  anything pending, on ``flush()``, before a copy, at commit and at close.
- ``EdgeShard.optimize()`` (the HNSW build: 2.6 s at 10k clustered points, 25 s at 20k random
  ones, with no other Python thread running meanwhile) never runs in the serving process.
  A rebuild's ``commit`` and ``Catalog.optimize()`` run it in a child process
  (``edge_optimize.py``) on a version folder nothing else has open and await it without
  blocking; then the new shard is loaded and the ``CURRENT`` pointer replaced atomically.
  That switch is the one pause: ~0.15 s at 10k points (closing the built shard, which
  flushes it, then loading it; closing the old one after the calls already queued on it).
- bench/store.py at 10k x 768: longest event-loop stall ~120 ms during a bulk upsert (a
  flush) and ~120-150 ms during a commit; an in-process optimize would have been 3 s.
- Each open shard has its own single worker thread, so engine calls on a shard never overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeVectorParams,
    FacetRequest,
    FieldCondition,
    Filter,
    HasIdCondition,
    MatchAny,
    MatchValue,
    PayloadSchemaType,
    Point,
    QuantizationSearchParams,
    Query,
    QueryRequest,
    RangeFloat,
    ScalarQuantizationConfig,
    ScalarType,
    ScrollRequest,
    SearchParams,
    UpdateOperation,
)

from indexer.config import StoreSettings
from indexer.product import Product
from indexer.store.base import CatalogBase, Hit, RebuildBase, VersionStore
from indexer.store.catalog import CatalogVersion
from indexer.store.edge_layout import EdgeLayout, OwnerLock
from indexer.store.edge_shard import ShardHandle
from indexer.store.errors import CatalogClosedError, CatalogError, CatalogLockedError, RebuildInProgressError
from indexer.store.payload import INDEXED_FIELDS, REF_FIELDS, VECTOR_NAME, SearchFilter, to_payload
from indexer.store.versions import check_model, new_version_name

log = logging.getLogger(__name__)

WRITE_BATCH = 128  # points per engine call: ~6-9 ms at 768-d, so the event loop is never held long
# A flush holds the GIL for ~40 ms plus ~20 ms per 1000 points written since the last one
# (measured with our payload indexes), so writes do not flush each time: when a write call
# returns its points are already in Qdrant's WAL, which survives a crash of the process
# (replayed on load). Segments are flushed once FLUSH_POINTS points are pending (a ~0.1 s
# pause), after FLUSH_INTERVAL seconds with anything pending, on flush(), before a copy,
# at commit and at close.
FLUSH_POINTS = 2048
FLUSH_INTERVAL = 30.0
PAYLOAD_BATCH = 256  # payload overwrites per engine call (~20 ms)
READ_BATCH = 1000  # ids per retrieve/delete call
# Catalog.optimize() leaves the current version alone while fewer vectors than this wait
# unindexed: brute force over them costs a few ms, less than a copy and a switch.
OPTIMIZE_MIN_UNINDEXED = 2000
HNSW_EF = 128
OPTIMIZER_SCRIPT = Path(__file__).with_name("edge_optimize.py")
_SCHEMA = {
    "keyword": PayloadSchemaType.Keyword,
    "integer": PayloadSchemaType.Integer,
    "bool": PayloadSchemaType.Bool,
}


def edge_config(dimension: int, quantization: str) -> EdgeConfig:
    return EdgeConfig(
        vectors={VECTOR_NAME: EdgeVectorParams(size=dimension, distance=Distance.Cosine, on_disk=True)},
        quantization_config=(
            ScalarQuantizationConfig(type=ScalarType.Int8, quantile=0.99, always_ram=True)
            if quantization == "int8"
            else None
        ),
    )


def edge_filter(where: SearchFilter) -> Filter | None:
    must: list[Any] = []
    if len(where.categories) == 1:
        must.append(FieldCondition(key="category_path", match=MatchValue(where.categories[0])))
    elif where.categories:
        must.append(FieldCondition(key="category_path", match=MatchAny(list(where.categories))))
    if where.min_price is not None or where.max_price is not None:
        low = float(where.min_price) if where.min_price is not None else None
        high = float(where.max_price) if where.max_price is not None else None
        must.append(FieldCondition(key="effective_price", range=RangeFloat(gte=low, lte=high)))
    must_not = [HasIdCondition(set(where.exclude_ids))] if where.exclude_ids else None
    if not must and not must_not:
        return None
    return Filter(must=must or None, must_not=must_not)


def category_filter(category: str | None) -> Filter | None:
    return edge_filter(SearchFilter(categories=(category,))) if category else None


async def run_optimizer(shard_dir: Path) -> dict[str, Any]:
    """Build the shard's HNSW graph in a child process; the event loop stays free meanwhile."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",  # do not put this package's folder first on the child's sys.path
        str(OPTIMIZER_SCRIPT),
        str(shard_dir),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await process.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        detail = err.decode("utf-8", "replace").strip()[-800:] or f"exit status {process.returncode}"
        raise CatalogError(f"building the search index of {shard_dir} failed: {detail}")
    report: dict[str, Any] = json.loads(out.decode("utf-8").strip().splitlines()[-1])
    return report


class EdgeVersionStore(VersionStore):
    """One version's shard; all engine calls short and on the shard's own thread."""

    backend = "edge"

    def __init__(self, version: CatalogVersion, handle: ShardHandle) -> None:
        super().__init__(version)
        self._handle = handle
        self._flushed_at = time.monotonic()
        self._pending = 0  # points written since the last flush

    @classmethod
    async def create(cls, layout: EdgeLayout, version: CatalogVersion, quantization: str) -> EdgeVersionStore:
        handle = await ShardHandle.open(
            layout.shard_dir(version.name),
            edge_config(version.dimension, quantization),
            version.name,
            layout.root,
        )
        store = cls(version, handle)
        await store._ensure_indexes()
        return store

    @classmethod
    async def load(cls, layout: EdgeLayout, version: CatalogVersion) -> EdgeVersionStore:
        shard_dir = layout.shard_dir(version.name)
        if not shard_dir.is_dir():
            raise CatalogError(f"index version {version.name} has no shard folder {shard_dir}")
        store = cls(version, await ShardHandle.open(shard_dir, None, version.name, layout.root))
        await store._ensure_indexes()
        return store

    def with_version(self, version: CatalogVersion) -> None:
        self._version = version

    async def _ensure_indexes(self) -> None:
        """Payload indexes before the first point (and again on resume, in case a crash came first)."""

        def ensure(shard: EdgeShard) -> None:
            present = set(shard.info().payload_schema)
            for key, kind in INDEXED_FIELDS:
                if key not in present:
                    shard.update(UpdateOperation.create_field_index(key, _SCHEMA[kind]))

        await self._handle.run(ensure, "create payload indexes")

    async def close(self, *, catalog_closed: bool = False) -> None:
        await self._handle.close(catalog_closed=catalog_closed)

    async def flush(self) -> None:
        await self._handle.run(lambda shard: shard.flush(), "flush")
        self._flushed_at = time.monotonic()
        self._pending = 0

    async def _wrote(self, points: int) -> None:
        """Count written points; flush when enough are pending that the flush stays short."""
        self._pending += points
        if self._pending >= FLUSH_POINTS or (
            self._pending and time.monotonic() - self._flushed_at >= FLUSH_INTERVAL
        ):
            await self.flush()

    async def unindexed(self) -> int:
        info = await self._handle.run(lambda shard: shard.info(), "read shard info")
        return max(0, info.points_count - info.indexed_vectors_count)

    async def _write(self, products: list[Product], vectors: np.ndarray) -> None:
        for start in range(0, len(products), WRITE_BATCH):
            chunk = products[start : start + WRITE_BATCH]
            rows = vectors[start : start + WRITE_BATCH]

            def upsert(shard: EdgeShard, chunk: list[Product] = chunk, rows: np.ndarray = rows) -> None:
                points = [
                    Point(product.id, {VECTOR_NAME: row.tolist()}, to_payload(product))
                    for product, row in zip(chunk, rows, strict=True)
                ]
                shard.update(UpdateOperation.upsert_points(points))

            await self._handle.run(upsert, "upsert points")
            await self._wrote(len(chunk))

    async def _update_payloads(self, products: list[Product]) -> list[int]:
        missing: list[int] = []
        for start in range(0, len(products), PAYLOAD_BATCH):
            chunk = products[start : start + PAYLOAD_BATCH]

            def overwrite(shard: EdgeShard, chunk: list[Product] = chunk) -> list[int]:
                # set/overwrite_payload fail on a missing id after changing the others, so check first.
                stored = {record.id for record in shard.retrieve([p.id for p in chunk], False, False)}
                for product in chunk:
                    if product.id in stored:
                        shard.update(UpdateOperation.overwrite_payload([product.id], to_payload(product)))
                return [product.id for product in chunk if product.id not in stored]

            skipped = await self._handle.run(overwrite, "update payloads")
            await self._wrote(len(chunk) - len(skipped))
            missing += skipped
        return missing

    async def _delete(self, ids: list[int]) -> None:
        for start in range(0, len(ids), READ_BATCH):
            chunk = ids[start : start + READ_BATCH]
            await self._handle.run(
                lambda shard, chunk=chunk: shard.update(UpdateOperation.delete_points(list(chunk))),
                "delete points",
            )
            await self._wrote(len(chunk))

    async def _retrieve(
        self, ids: list[int], with_vectors: bool
    ) -> list[tuple[int, dict[str, Any], np.ndarray | None]]:
        found: list[tuple[int, dict[str, Any], np.ndarray | None]] = []
        for start in range(0, len(ids), READ_BATCH):
            chunk = ids[start : start + READ_BATCH]
            records = await self._handle.run(
                lambda shard, chunk=chunk: shard.retrieve(
                    list(chunk), with_payload=True, with_vector=[VECTOR_NAME] if with_vectors else False
                ),
                "retrieve points",
            )
            for record in records:
                vector = None
                if with_vectors and isinstance(record.vector, dict) and VECTOR_NAME in record.vector:
                    vector = np.asarray(record.vector[VECTOR_NAME], dtype=np.float32)
                found.append((int(record.id), record.payload or {}, vector))
        return found

    async def _query(self, vector: np.ndarray, where: SearchFilter, limit: int, offset: int) -> list[Hit]:
        request = QueryRequest(
            limit=limit,
            offset=offset,
            query=Query.Nearest(vector.tolist(), using=VECTOR_NAME),
            filter=edge_filter(where),
            with_payload=True,
            with_vector=False,
            params=SearchParams(
                hnsw_ef=max(HNSW_EF, limit + offset),
                quantization=QuantizationSearchParams(rescore=True, oversampling=2.0),
            ),
        )
        points = await self._handle.run(lambda shard: shard.query(request), "search")
        return [(int(point.id), float(point.score), point.payload or {}) for point in points]

    async def _count(self, category: str | None) -> int:
        request = CountRequest(exact=True, filter=category_filter(category))
        return await self._handle.run(lambda shard: shard.count(request), "count points")

    async def _scroll(
        self, start: int | None, limit: int
    ) -> tuple[list[tuple[int, dict[str, Any]]], int | None]:
        request = ScrollRequest(offset=start, limit=limit, with_payload=REF_FIELDS, with_vector=False)
        records, next_start = await self._handle.run(lambda shard: shard.scroll(request), "list points")
        page = [(int(record.id), record.payload or {}) for record in records]
        return page, int(next_start) if next_start is not None else None

    async def _category_counts(self) -> dict[str, int]:
        request = FacetRequest(key="category_top", limit=10_000, exact=True)
        response = await self._handle.run(lambda shard: shard.facet(request), "count categories")
        return {str(hit.value): int(hit.count) for hit in response.hits}


class EdgeCatalog(CatalogBase):
    """The current version of an Edge index folder, owned by this process alone."""

    backend = "edge"

    def __init__(
        self, layout: EdgeLayout, lock: OwnerLock, quantization: str, store: EdgeVersionStore | None
    ):
        super().__init__()
        self._layout = layout
        self._lock = lock
        self._quantization = quantization
        self._store = store
        self._rebuild: EdgeRebuild | None = None
        self._switch_lock = asyncio.Lock()

    @classmethod
    async def open(cls, settings: StoreSettings) -> EdgeCatalog:
        """Open ``[store].path`` (created when missing), or fail clearly if another process owns it."""
        layout = EdgeLayout(Path(settings.path), settings.collection)
        layout.prepare()
        lock = OwnerLock.acquire(layout.root)
        try:
            await asyncio.to_thread(layout.empty_trash)
            store = await cls._load_current(layout)
        except BaseException:
            lock.release()
            raise
        return cls(layout, lock, settings.quantization, store)

    @staticmethod
    async def _load_current(layout: EdgeLayout) -> EdgeVersionStore | None:
        name = layout.read_current()
        if name is None:
            return None
        if not layout.version_dir(name).is_dir():
            raise CatalogError(
                f"{layout.root}/CURRENT names index version {name}, but {layout.version_dir(name)} "
                f"does not exist: write the name of a folder in {layout.versions_dir} into CURRENT, "
                "or delete CURRENT to start empty"
            )
        version = layout.read_version(name)
        store = await EdgeVersionStore.load(layout, version)
        if version.state != "ready":  # the process died between the switch and marking it ready
            ready = dataclasses.replace(version, state="ready")
            await asyncio.to_thread(layout.write_version, ready)
            store.with_version(ready)
        return store

    @property
    def path(self) -> Path:
        return self._layout.root

    def _current(self) -> EdgeVersionStore | None:
        return self._store

    async def begin_rebuild(self, model_id: str, model_name: str, dimension: int) -> EdgeRebuild:
        self._check_open()
        check_model(model_id, model_name, dimension)
        async with self._switch_lock:
            if self._rebuild is not None:
                raise RebuildInProgressError(
                    f"a rebuild ({self._rebuild.version.name}) is already open: "
                    "commit, abort or close it first"
                )
            current = self._store.version.name if self._store else None
            resumable = [
                version
                for version in self._layout.list_versions()
                if version.state == "building"
                and version.name != current
                and version.model_id == model_id
                and version.dimension == dimension
            ]
            store: EdgeVersionStore | None = None
            if resumable:
                try:
                    store = await EdgeVersionStore.load(self._layout, resumable[-1])
                except CatalogLockedError:
                    raise
                except CatalogError as exc:  # damaged by a crash before its shard existed: start over
                    log.warning(
                        "cannot resume index version %s (%s): starting a new one", resumable[-1].name, exc
                    )
                    await asyncio.to_thread(self._layout.remove_version, resumable[-1].name)
            resumed = store is not None
            if store is None:
                store = await self._create_version(model_id, model_name, dimension)
            self._rebuild = EdgeRebuild(self, store, resumed)
            log.info(
                "%s index version %s for model %s",
                "resuming" if resumed else "building",
                store.version.name,
                model_id,
            )
            return self._rebuild

    async def _create_version(self, model_id: str, model_name: str, dimension: int) -> EdgeVersionStore:
        name = new_version_name(self._layout.collection, model_id, self._layout.version_names())
        version = CatalogVersion(name, model_id, model_name, dimension, created_at=_now(), state="building")
        await asyncio.to_thread(self._layout.write_version, version)
        return await EdgeVersionStore.create(self._layout, version, self._quantization)

    async def _finish_rebuild(self, rebuild: EdgeRebuild, store: EdgeVersionStore) -> CatalogVersion:
        """Close the rebuild's shard, index it in a child process, and switch to it."""
        try:
            expected = await store.count()
            if expected == 0:
                raise CatalogError(f"refusing to switch to {store.version.name}: it holds no products")
            await store.close()
            report = await run_optimizer(self._layout.shard_dir(store.version.name))
            if report["points"] != expected:
                raise CatalogError(
                    f"index version {store.version.name} holds {report['points']} points after indexing, "
                    f"expected {expected}: not switching (the rebuild can be resumed)"
                )
            async with self._switch_lock, self._write_lock:
                return await self._switch(store.version)
        finally:
            if self._rebuild is rebuild:
                self._rebuild = None

    def _forget_rebuild(self, rebuild: EdgeRebuild) -> None:
        if self._rebuild is rebuild:
            self._rebuild = None

    async def _switch(self, version: CatalogVersion) -> CatalogVersion:
        """Make ``version`` current: load it, replace the pointer, retire the old shard, drop old versions.

        The caller holds the switch and write locks, so no write lands on the old version after
        the copy or rebuild it replaces was taken.
        """
        if self._closed:
            raise CatalogClosedError(f"the catalog was closed before switching to {version.name}")
        fresh = await EdgeVersionStore.load(self._layout, version)
        try:
            # The switch: one atomic rename, fsynced; a crash leaves the old or the new pointer.
            await asyncio.to_thread(self._layout.write_current, version.name)
        except BaseException:
            await fresh.close()  # release its WAL so the rebuild can be resumed
            raise
        ready = dataclasses.replace(version, state="ready")
        try:
            await asyncio.to_thread(self._layout.write_version, ready)
        except OSError as exc:  # the pointer decides; the next open marks it ready
            log.warning("could not mark index version %s ready: %s", ready.name, exc)
        fresh.with_version(ready)
        old, self._store = self._store, fresh
        if old is not None:
            await old.close()  # runs after the searches already queued on it
        keep = {ready.name} | ({old.version.name} if old else set())
        await self._remove_versions(keep)
        log.info("index version %s is now current (model %s)", ready.name, ready.model_id)
        return ready

    async def _remove_versions(self, keep: set[str]) -> None:
        if self._rebuild is not None:
            keep = keep | {self._rebuild.version.name}
        for name in self._layout.version_names():
            if name not in keep:
                try:
                    await asyncio.to_thread(self._layout.remove_version, name)
                except OSError as exc:
                    log.warning("could not remove old index version %s: %s", name, exc)

    async def refresh(self) -> bool:
        self._check_open()
        name = self._layout.read_current()
        if name is None or (self._store is not None and self._store.version.name == name):
            return False
        version = self._layout.read_version(name)
        async with self._switch_lock, self._write_lock:
            fresh = await EdgeVersionStore.load(self._layout, version)
            old, self._store = self._store, fresh
            if old is not None:
                await old.close()
        return True

    async def optimize(self, *, force: bool = False) -> bool:
        self._check_open()
        store = self._store
        if store is None or (not force and await store.unindexed() < OPTIMIZE_MIN_UNINDEXED):
            return False
        # Writes wait (awaiting, not blocking the loop) from the copy until the switch; reads go on.
        async with self._switch_lock, self._write_lock:
            store = self._store
            if store is None:
                return False
            await store.flush()
            expected = await store.count()
            copy = await self._copy_version(store.version, self._layout.shard_dir(store.version.name))
            try:
                report = await run_optimizer(self._layout.shard_dir(copy.name))
                if report["points"] != expected:
                    raise CatalogError(
                        f"the optimized copy holds {report['points']} points, expected {expected}"
                    )
            except BaseException:
                await asyncio.to_thread(self._layout.remove_version, copy.name)
                raise
            if not report["changed"] and not force:
                await asyncio.to_thread(self._layout.remove_version, copy.name)
                return False
            await self._switch(copy)
            return True

    async def _copy_version(self, version: CatalogVersion, source: Path) -> CatalogVersion:
        """A building copy of a flushed, write-locked shard; the file copy releases the GIL."""
        name = new_version_name(self._layout.collection, version.model_id, self._layout.version_names())
        copy = dataclasses.replace(version, name=name, created_at=_now(), state="building")
        await asyncio.to_thread(self._layout.write_version, copy)
        try:
            await asyncio.to_thread(shutil.copytree, source, self._layout.shard_dir(name))
        except BaseException:
            await asyncio.to_thread(self._layout.remove_version, name)
            raise
        return copy

    async def versions(self) -> list[CatalogVersion]:
        self._check_open()
        return self._layout.list_versions()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._rebuild is not None:
                await self._rebuild.close()
            if self._store is not None:
                await self._store.close(catalog_closed=True)
        finally:
            self._lock.release()


class EdgeRebuild(RebuildBase):
    """A new version folder being filled; ``commit`` indexes it in a child process and switches."""

    def __init__(self, catalog: EdgeCatalog, store: EdgeVersionStore, resumed: bool) -> None:
        super().__init__(store, resumed)
        self._catalog = catalog
        self._edge_store = store

    async def _finish(self) -> CatalogVersion:
        return await self._catalog._finish_rebuild(self, self._edge_store)

    def _forget(self) -> None:
        self._catalog._forget_rebuild(self)

    async def _discard(self) -> None:
        with contextlib.suppress(CatalogError):
            await self._edge_store.close()
        await asyncio.to_thread(self._catalog._layout.remove_version, self.version.name)

    async def _release(self) -> None:
        await self._edge_store.close()


def _now() -> datetime:
    return datetime.now(UTC)
