"""The embedded engine: Qdrant Edge (the real Qdrant engine, in-process) in ``[store].path``.

A version is a shard folder and the ``CURRENT`` pointer file plays the alias (``edge_layout.py``).
qdrant-edge-py holds the GIL for the whole of each call, so the serving process only makes short
ones: writes go in small batches, segments are flushed now and then rather than per write, and the
HNSW graph is built in a child process (``edge_optimize.py``) on a folder nothing else has open.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FacetRequest,
    FieldCondition,
    Filter,
    Fusion,
    HasIdCondition,
    HnswIndexConfig,
    MatchAny,
    MatchValue,
    Modifier,
    PayloadSchemaType,
    Point,
    PointVectors,
    Prefetch,
    QuantizationSearchParams,
    Query,
    QueryRequest,
    RangeFloat,
    ScalarQuantizationConfig,
    ScalarType,
    ScrollRequest,
    SearchParams,
    SparseVector,
    UpdateOperation,
)

from indexer.config import StoreSettings
from indexer.product import Product
from indexer.store.catalog import Catalog
from indexer.store.edge_layout import EdgeLayout, OwnerLock, optimizer_pid_path
from indexer.store.edge_shard import ShardHandle
from indexer.store.engine import Backend, Hit, Record, RefPage
from indexer.store.errors import CatalogError, CatalogLockedError
from indexer.store.filters import NO_FILTERS, SearchFilters
from indexer.store.payload import (
    INDEXED_FIELDS,
    REF_FIELDS,
    TERMS_FIELD,
    TEXT_VECTOR,
    VECTOR_NAME,
    stored_vector,
    to_payload,
)
from indexer.store.query import SearchQuery, TextQuery
from indexer.store.text import FUSION_DEPTH, RRF_K
from indexer.store.tuning import (
    FULL_SCAN_KB,
    HNSW_EF,
    HNSW_EF_CONSTRUCT,
    HNSW_M,
    HNSW_PAYLOAD_M,
    search_ef,
)
from indexer.store.versions import CatalogVersion, new_version_name
from indexer.text import SparseTerms

log = logging.getLogger(__name__)

WRITE_BATCH = 128  # points per engine call: short enough that the event loop is never held long
FLUSH_POINTS = 2048  # flush the segments once this many written points are pending...
FLUSH_INTERVAL = 30.0  # ...or this many seconds after a write
PAYLOAD_BATCH = 256  # payload overwrites per engine call
# Text vectors added to stored points per engine call: each point moves out of its indexed segment
# (copy on write), ~0.2-2 ms a point at 100 k, and the call holds the GIL throughout.
TEXT_BATCH = 64
READ_BATCH = 1000  # ids per retrieve/delete call
OPTIMIZE_MIN_UNINDEXED = 2000  # below this, brute force over the unindexed vectors is cheaper than a copy
OPTIMIZER_SCRIPT = Path(__file__).with_name("edge_optimize.py")
_SCHEMA = {
    "keyword": PayloadSchemaType.Keyword,
    "integer": PayloadSchemaType.Integer,
    "bool": PayloadSchemaType.Bool,
}


async def open_edge_catalog(settings: StoreSettings) -> Catalog:
    """The catalog in ``[store].path`` (created when missing), owned by this process alone."""
    return await Catalog.open(await EdgeEngine.acquire(settings))


def edge_config(dimension: int, quantization: str, *, text: bool = True) -> EdgeConfig:
    return EdgeConfig(
        vectors={VECTOR_NAME: EdgeVectorParams(size=dimension, distance=Distance.Cosine, on_disk=True)},
        sparse_vectors={TEXT_VECTOR: EdgeSparseVectorParams(modifier=Modifier.Idf)} if text else None,
        quantization_config=(
            ScalarQuantizationConfig(type=ScalarType.Int8, quantile=0.99, always_ram=True)
            if quantization == "int8"
            else None
        ),
        hnsw_config=HnswIndexConfig(
            m=HNSW_M,
            ef_construct=HNSW_EF_CONSTRUCT,
            full_scan_threshold=FULL_SCAN_KB,
            payload_m=HNSW_PAYLOAD_M,
        ),
    )


def edge_filter(
    categories: Sequence[str],
    filters: SearchFilters = NO_FILTERS,
    exclude_ids: Sequence[int] = (),
) -> Filter | None:
    must: list[Any] = []
    must_not: list[Any] = []
    if len(categories) == 1:
        must.append(FieldCondition(key="category_path", match=MatchValue(categories[0])))
    elif categories:
        must.append(FieldCondition(key="category_path", match=MatchAny(list(categories))))
    if filters.has_price:
        low = float(filters.min_price) if filters.min_price is not None else None
        high = float(filters.max_price) if filters.max_price is not None else None
        must.append(FieldCondition(key="effective_price", range=RangeFloat(gte=low, lte=high)))
    if not filters.include_sold_out:
        # qdrant-edge-py reads a Python bool as an integer (never a JSON boolean); numpy's bool as a bool.
        must.append(FieldCondition(key="sold_out", match=MatchValue(np.False_)))
    if filters.excluded_gender_label is not None:
        must_not.append(FieldCondition(key="gender", match=MatchValue(filters.excluded_gender_label)))
    if exclude_ids:
        must_not.append(HasIdCondition(set(exclude_ids)))
    if not must and not must_not:
        return None
    return Filter(must=must or None, must_not=must_not or None)


def edge_text_filter(query: TextQuery, every_term: bool) -> Filter:
    """The query's scope, and then either every term present (tier 1) or not all of them (tier 2)."""
    base = edge_filter(query.categories or (), query.filters, query.exclude_ids)
    holds = [FieldCondition(key=TERMS_FIELD, match=MatchValue(term)) for term in query.terms.indices]
    scope = [base] if base is not None else []
    if every_term:
        return Filter(must=holds + scope)
    return Filter(must=scope or None, must_not=[Filter(must=holds)])


def sparse_vector(terms: SparseTerms) -> SparseVector:
    return SparseVector(list(terms.indices), list(terms.values))


def _vectors(row: np.ndarray, terms: SparseTerms | None) -> dict[str, Any]:
    vectors: dict[str, Any] = {VECTOR_NAME: row.tolist()}
    if terms:
        vectors[TEXT_VECTOR] = sparse_vector(terms)
    return vectors


def _text_operations(
    products: list[Product], terms: list[SparseTerms], with_payload: bool
) -> list[UpdateOperation]:
    """Each product's text vector (removed when it has no terms), and its ``text_terms`` when
    ``with_payload`` (otherwise its whole payload is overwritten beside)."""
    operations = []
    with_terms = [(p, t) for p, t in zip(products, terms, strict=True) if t]
    if with_terms:
        operations.append(
            UpdateOperation.update_vectors(
                [PointVectors(p.id, {TEXT_VECTOR: sparse_vector(t)}) for p, t in with_terms]
            )
        )
    without = [p.id for p, t in zip(products, terms, strict=True) if not t]
    if without:
        operations.append(UpdateOperation.delete_vectors(without, [TEXT_VECTOR]))
    if with_payload:
        for product, term in zip(products, terms, strict=True):
            fields = {TERMS_FIELD: list(term.indices)}
            operations.append(UpdateOperation.set_payload([product.id], fields))
    return operations


async def run_optimizer(shard_dir: Path) -> dict[str, Any]:
    """Build the shard's HNSW graph in a child process; the event loop stays free meanwhile.

    The child dies with this process (``edge_optimize.die_with_parent``) and its pid is recorded
    beside the shard while it runs, so that a lock it holds can be traced to it.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",  # do not put this package's folder first on the child's sys.path
        str(OPTIMIZER_SCRIPT),
        str(shard_dir),
        str(os.getpid()),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    pid_file = optimizer_pid_path(shard_dir)
    try:
        with contextlib.suppress(OSError):  # only a better error message depends on it
            pid_file.write_text(f"{process.pid}\n", encoding="utf-8")
        out, err = await process.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    finally:
        pid_file.unlink(missing_ok=True)
    if process.returncode != 0:
        detail = err.decode("utf-8", "replace").strip()[-800:] or f"exit status {process.returncode}"
        raise CatalogError(f"building the search index of {shard_dir} failed: {detail}")
    report: dict[str, Any] = json.loads(out.decode("utf-8").strip().splitlines()[-1])
    return report


class EdgeVersion:
    """One version's shard: short engine calls on the shard's own thread, flushed now and then."""

    def __init__(self, handle: ShardHandle) -> None:
        self._handle = handle
        self._flushed_at = time.monotonic()
        self._pending = 0  # points written since the last flush

    @classmethod
    async def open(cls, layout: EdgeLayout, name: str, config: EdgeConfig | None = None) -> EdgeVersion:
        """Create the shard (``config`` given) or load it, with its payload indexes."""
        shard_dir = layout.shard_dir(name)
        if config is None and not shard_dir.is_dir():
            raise CatalogError(f"index version {name} has no shard folder {shard_dir}")
        version = cls(await ShardHandle.open(shard_dir, config, name, layout.root))
        await version._ensure_indexes()
        return version

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

    async def write(
        self, products: list[Product], vectors: np.ndarray, terms: list[SparseTerms] | None
    ) -> None:
        for start in range(0, len(products), WRITE_BATCH):
            chunk = products[start : start + WRITE_BATCH]
            rows = vectors[start : start + WRITE_BATCH]
            texts: list[SparseTerms | None] = (
                list(terms[start : start + WRITE_BATCH]) if terms is not None else [None] * len(chunk)
            )

            def upsert(
                shard: EdgeShard,
                chunk: list[Product] = chunk,
                rows: np.ndarray = rows,
                texts: list[SparseTerms | None] = texts,
            ) -> None:
                points = [
                    Point(product.id, _vectors(row, text), to_payload(product, text))
                    for product, row, text in zip(chunk, rows, texts, strict=True)
                ]
                shard.update(UpdateOperation.upsert_points(points))

            await self._handle.run(upsert, "upsert points")
            await self._wrote(len(chunk))

    async def update_payloads(self, products: list[Product], terms: list[SparseTerms] | None) -> list[int]:
        missing: list[int] = []
        for start in range(0, len(products), PAYLOAD_BATCH):
            chunk = products[start : start + PAYLOAD_BATCH]
            texts = list(terms[start : start + PAYLOAD_BATCH]) if terms is not None else None

            def overwrite(
                shard: EdgeShard, chunk: list[Product] = chunk, texts: list[SparseTerms] | None = texts
            ) -> list[int]:
                # set/overwrite_payload fail on a missing id after changing the others, so check first.
                stored = {record.id for record in shard.retrieve([p.id for p in chunk], False, False)}
                kept = [i for i, product in enumerate(chunk) if product.id in stored]
                for i in kept:
                    text = texts[i] if texts is not None else None
                    shard.update(UpdateOperation.overwrite_payload([chunk[i].id], to_payload(chunk[i], text)))
                if texts is not None:
                    kept_products = [chunk[i] for i in kept]
                    for operation in _text_operations(kept_products, [texts[i] for i in kept], False):
                        shard.update(operation)
                return [product.id for product in chunk if product.id not in stored]

            skipped = await self._handle.run(overwrite, "update payloads")
            await self._wrote(len(chunk) - len(skipped))
            missing += skipped
        return missing

    async def enable_text(self) -> None:
        await self._handle.run(
            lambda shard: shard.update(
                UpdateOperation.create_sparse_vector(TEXT_VECTOR, modifier=Modifier.Idf)
            ),
            "add the text vector",
        )
        await self._ensure_indexes()

    async def set_text(self, products: list[Product], terms: list[SparseTerms]) -> None:
        for start in range(0, len(products), TEXT_BATCH):
            operations = _text_operations(
                products[start : start + TEXT_BATCH], terms[start : start + TEXT_BATCH], True
            )

            def apply(shard: EdgeShard, operations: list[UpdateOperation] = operations) -> None:
                for operation in operations:
                    shard.update(operation)

            await self._handle.run(apply, "store text vectors")
            await self._wrote(min(TEXT_BATCH, len(products) - start))

    async def query_text(self, query: TextQuery, every_term: bool, limit: int) -> list[Hit]:
        where = edge_text_filter(query, every_term)
        sparse = Query.Nearest(sparse_vector(query.terms), using=TEXT_VECTOR)
        if query.vector is None:
            request = QueryRequest(
                limit=limit, query=sparse, filter=where, with_payload=False, with_vector=False
            )
        else:
            dense = Query.Nearest(query.vector.tolist(), using=VECTOR_NAME)
            params = SearchParams(
                hnsw_ef=max(HNSW_EF, FUSION_DEPTH),
                quantization=QuantizationSearchParams(rescore=True, oversampling=2.0),
            )
            request = QueryRequest(
                limit=limit,
                prefetches=[
                    Prefetch(limit=FUSION_DEPTH, query=sparse, filter=where),
                    Prefetch(limit=FUSION_DEPTH, query=dense, filter=where, params=params),
                ],
                query=Fusion.Rrf(k=RRF_K),
                with_payload=False,
                with_vector=False,
            )
        points = await self._handle.run(lambda shard: shard.query(request), "search text")
        return [(int(point.id), float(point.score), point.payload or {}) for point in points]

    async def count_text(self, query: TextQuery) -> int:
        request = CountRequest(exact=True, filter=edge_text_filter(query, True))
        return await self._handle.run(lambda shard: shard.count(request), "count text matches")

    async def delete(self, ids: list[int]) -> None:
        for start in range(0, len(ids), READ_BATCH):
            chunk = ids[start : start + READ_BATCH]
            await self._handle.run(
                lambda shard, chunk=chunk: shard.update(UpdateOperation.delete_points(list(chunk))),
                "delete points",
            )
            await self._wrote(len(chunk))

    async def retrieve(self, ids: list[int], with_vectors: bool) -> list[Record]:
        found: list[Record] = []
        for start in range(0, len(ids), READ_BATCH):
            chunk = ids[start : start + READ_BATCH]
            records = await self._handle.run(
                lambda shard, chunk=chunk: shard.retrieve(
                    list(chunk), with_payload=True, with_vector=[VECTOR_NAME] if with_vectors else False
                ),
                "retrieve points",
            )
            found += [
                (int(record.id), record.payload or {}, stored_vector(record.vector)) for record in records
            ]
        return found

    async def query(self, query: SearchQuery) -> list[Hit]:
        request = QueryRequest(
            limit=query.limit,
            offset=query.offset,
            query=Query.Nearest(query.vector.tolist(), using=VECTOR_NAME),
            filter=edge_filter(query.categories or (), query.filters, query.exclude_ids),
            with_payload=True,
            with_vector=False,
            params=SearchParams(
                hnsw_ef=search_ef(query),
                quantization=QuantizationSearchParams(rescore=True, oversampling=2.0),
            ),
        )
        points = await self._handle.run(lambda shard: shard.query(request), "search")
        return [(int(point.id), float(point.score), point.payload or {}) for point in points]

    async def count(self, category: str | None) -> int:
        request = CountRequest(exact=True, filter=edge_filter((category,) if category else ()))
        return await self._handle.run(lambda shard: shard.count(request), "count points")

    async def scroll(self, start: int | None, limit: int) -> RefPage:
        request = ScrollRequest(offset=start, limit=limit, with_payload=REF_FIELDS, with_vector=False)
        records, next_start = await self._handle.run(lambda shard: shard.scroll(request), "list points")
        page = [(int(record.id), record.payload or {}) for record in records]
        return page, int(next_start) if next_start is not None else None

    async def category_counts(self) -> dict[str, int]:
        request = FacetRequest(key="category_top", limit=10_000, exact=True)
        response = await self._handle.run(lambda shard: shard.facet(request), "count categories")
        return {str(hit.value): int(hit.count) for hit in response.hits}


class EdgeEngine:
    """The versions in one Edge index folder, which this process owns (an flock on ``.lock``)."""

    backend: Backend = "edge"

    def __init__(self, layout: EdgeLayout, lock: OwnerLock, quantization: str) -> None:
        self._layout = layout
        self._lock = lock
        self._quantization = quantization
        self.collection = layout.collection

    @classmethod
    async def acquire(cls, settings: StoreSettings) -> EdgeEngine:
        """Take ``[store].path`` (created when missing), or fail clearly if another process owns it."""
        layout = EdgeLayout(Path(settings.path), settings.collection)
        layout.prepare()
        lock = OwnerLock.acquire(layout.root)
        try:
            await asyncio.to_thread(layout.empty_trash)
        except BaseException:
            lock.release()
            raise
        return cls(layout, lock, settings.quantization)

    async def current_name(self) -> str | None:
        layout = self._layout
        name = layout.read_current()
        if name is not None and not layout.version_dir(name).is_dir():
            raise CatalogError(
                f"{layout.root}/CURRENT names index version {name}, but {layout.version_dir(name)} "
                f"does not exist: write the name of a folder in {layout.versions_dir} into CURRENT, "
                "or delete CURRENT to start empty"
            )
        return name

    async def read_version(self, name: str) -> CatalogVersion:
        return self._layout.read_version(name)

    async def versions(self) -> list[CatalogVersion]:
        return self._layout.list_versions()

    async def names(self) -> list[str]:
        return self._layout.version_names()

    async def create(self, version: CatalogVersion) -> EdgeVersion:
        await asyncio.to_thread(self._layout.write_version, version)
        # text_index False: the layout of versions made before text search (tests build them).
        config = edge_config(version.dimension, self._quantization, text=version.text_index)
        return await EdgeVersion.open(self._layout, version.name, config)

    async def open(self, version: CatalogVersion) -> EdgeVersion:
        return await EdgeVersion.open(self._layout, version.name)

    async def resume(self, version: CatalogVersion) -> EdgeVersion | None:
        try:
            return await self.open(version)
        except CatalogLockedError:
            raise
        except CatalogError as exc:  # damaged by a crash before its shard existed: start over
            log.warning("cannot resume index version %s (%s): starting a new one", version.name, exc)
            await self.drop(version.name)
            return None

    async def drop(self, name: str) -> None:
        await asyncio.to_thread(self._layout.remove_version, name)

    async def build_index(self, version: CatalogVersion, handle: EdgeVersion, expected: int) -> None:
        """Close the version's shard and build its HNSW graph in a child process."""
        await handle.close()
        report = await run_optimizer(self._layout.shard_dir(version.name))
        if report["points"] != expected:
            raise CatalogError(
                f"index version {version.name} holds {report['points']} points after indexing, "
                f"expected {expected}: not switching (the rebuild can be resumed)"
            )

    async def make_current(self, version: CatalogVersion) -> CatalogVersion:
        # One atomic rename, fsynced: a crash leaves the old or the new pointer.
        await asyncio.to_thread(self._layout.write_current, version.name)
        try:
            return await self.mark_ready(version)
        except OSError as exc:  # the pointer decides; the next open marks it ready
            log.warning("could not mark index version %s ready: %s", version.name, exc)
            return dataclasses.replace(version, state="ready")

    async def mark_ready(self, version: CatalogVersion) -> CatalogVersion:
        ready = dataclasses.replace(version, state="ready")
        await asyncio.to_thread(self._layout.write_version, ready)
        return ready

    async def save_version(self, version: CatalogVersion) -> None:
        await asyncio.to_thread(self._layout.write_version, version)

    async def optimized_copy(
        self, version: CatalogVersion, handle: EdgeVersion, *, force: bool
    ) -> CatalogVersion | None:
        """Copy the (write-locked) version and build the copy's HNSW graph in a child process."""
        if not force and await handle.unindexed() < OPTIMIZE_MIN_UNINDEXED:
            return None
        await handle.flush()
        expected = await handle.count(None)
        copy = await self._copy(version)
        try:
            report = await run_optimizer(self._layout.shard_dir(copy.name))
            if report["points"] != expected:
                raise CatalogError(f"the optimized copy holds {report['points']} points, expected {expected}")
        except BaseException:
            await self.drop(copy.name)
            raise
        if not report["changed"] and not force:
            await self.drop(copy.name)
            return None
        return copy

    async def _copy(self, version: CatalogVersion) -> CatalogVersion:
        """A building copy of a flushed version; the file copy releases the GIL."""
        name = new_version_name(self.collection, version.model_id, self._layout.version_names())
        copy = dataclasses.replace(version, name=name, created_at=datetime.now(UTC), state="building")
        await asyncio.to_thread(self._layout.write_version, copy)
        try:
            await asyncio.to_thread(
                shutil.copytree, self._layout.shard_dir(version.name), self._layout.shard_dir(name)
            )
        except BaseException:
            await self.drop(name)
            raise
        return copy

    async def close(self) -> None:
        self._lock.release()
