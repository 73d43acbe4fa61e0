"""The server engine: a Qdrant server (or cluster) through ``AsyncQdrantClient``.

A version is a collection; the alias ``[store].collection`` names the current one and moves in one
atomic call. ``[store].url = ":memory:"`` runs qdrant-client's local mode in-process: for tests and
development only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.metadata
import logging
import time
import warnings
from collections.abc import Awaitable, Sequence
from typing import TypeVar

import numpy as np
from qdrant_client import AsyncQdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from indexer.config import StoreSettings
from indexer.product import Product
from indexer.store.catalog import Catalog
from indexer.store.engine import Backend, Hit, Record, RefPage
from indexer.store.errors import CatalogError, StoreUnavailableError, VersionGoneError
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
from indexer.store.versions import CatalogVersion, version_from_json, version_pattern, version_to_json
from indexer.text import SparseTerms

log = logging.getLogger(__name__)
T = TypeVar("T")

LOCAL_MODE = ":memory:"
UPLOAD_BATCH = 128  # points per request: small requests keep JSON encoding short
UPLOAD_PARALLEL = 4  # requests in flight during an upload
PAYLOAD_BATCH = 256
READ_BATCH = 1000
METADATA_KEY = "snapfit"
_SCHEMA = {
    "keyword": models.PayloadSchemaType.KEYWORD,
    "integer": models.PayloadSchemaType.INTEGER,
    "bool": models.PayloadSchemaType.BOOL,
}


def _missing_collection(exc: BaseException) -> bool:
    if isinstance(exc, UnexpectedResponse):
        return exc.status_code == 404 and b"ollection" in exc.content
    return isinstance(exc, ValueError) and str(exc).startswith("Collection ") and "not found" in str(exc)


async def call(request: Awaitable[T], what: str, url: str, collection: str | None = None) -> T:
    """Await one client request and translate its failures into the catalog's errors."""
    try:
        return await request
    except (UnexpectedResponse, ValueError) as exc:
        if collection is not None and _missing_collection(exc):
            raise VersionGoneError(f"collection {collection} no longer exists on {url}") from None
        if isinstance(exc, UnexpectedResponse):
            detail = exc.content[:300].decode("utf-8", "replace")
            raise CatalogError(
                f"the Qdrant server at {url} refused to {what}: {exc.status_code} {detail}"
            ) from None
        raise CatalogError(f"Qdrant ({url}) could not {what}: {exc}") from None
    except KeyError as exc:  # local mode's way of saying a point id is missing
        raise CatalogError(f"Qdrant ({url}) could not {what}: no point with id {exc}") from None
    except (ResponseHandlingException, OSError) as exc:
        source = exc.source if isinstance(exc, ResponseHandlingException) else exc
        raise StoreUnavailableError(
            f"cannot reach the Qdrant server at {url} to {what}: {source!r}"
        ) from None


def server_filter(
    categories: Sequence[str],
    filters: SearchFilters = NO_FILTERS,
    exclude_ids: Sequence[int] = (),
) -> models.Filter | None:
    must: list[models.Condition] = []
    must_not: list[models.Condition] = []
    if len(categories) == 1:
        match_one = models.MatchValue(value=categories[0])
        must.append(models.FieldCondition(key="category_path", match=match_one))
    elif categories:
        match_any = models.MatchAny(any=list(categories))
        must.append(models.FieldCondition(key="category_path", match=match_any))
    if filters.has_price:
        price_range = models.Range(gte=filters.min_price, lte=filters.max_price)
        must.append(models.FieldCondition(key="effective_price", range=price_range))
    if not filters.include_sold_out:
        must.append(models.FieldCondition(key="sold_out", match=models.MatchValue(value=False)))
    if filters.excluded_gender_label is not None:
        excluded = models.MatchValue(value=filters.excluded_gender_label)
        must_not.append(models.FieldCondition(key="gender", match=excluded))
    if exclude_ids:
        must_not.append(models.HasIdCondition(has_id=list(exclude_ids)))
    if not must and not must_not:
        return None
    return models.Filter(must=must or None, must_not=must_not or None)


def server_text_filter(query: TextQuery, every_term: bool) -> models.Filter:
    """The query's scope, and then either every term present (tier 1) or not all of them (tier 2)."""
    base = server_filter(query.categories or (), query.filters, query.exclude_ids)
    holds: list[models.Condition] = [
        models.FieldCondition(key=TERMS_FIELD, match=models.MatchValue(value=term))
        for term in query.terms.indices
    ]
    scope: list[models.Condition] = [base] if base is not None else []
    if every_term:
        return models.Filter(must=holds + scope)
    return models.Filter(must=scope or None, must_not=[models.Filter(must=holds)])


def sparse_vector(terms: SparseTerms) -> models.SparseVector:
    return models.SparseVector(indices=list(terms.indices), values=list(terms.values))


def _vectors(row: np.ndarray, terms: SparseTerms | None) -> dict[str, models.Vector]:
    vectors: dict[str, models.Vector] = {VECTOR_NAME: row.tolist()}
    if terms:
        vectors[TEXT_VECTOR] = sparse_vector(terms)
    return vectors


def _text_operations(
    products: list[Product], terms: list[SparseTerms], with_payload: bool
) -> list[models.UpdateOperation]:
    """Each product's text vector (removed when it has no terms), and its ``text_terms``
    when ``with_payload`` (otherwise its whole payload is overwritten beside)."""
    operations: list[models.UpdateOperation] = []
    with_terms = [(p, t) for p, t in zip(products, terms, strict=True) if t]
    if with_terms:
        operations.append(
            models.UpdateVectorsOperation(
                update_vectors=models.UpdateVectors(
                    points=[
                        models.PointVectors(id=p.id, vector={TEXT_VECTOR: sparse_vector(t)})
                        for p, t in with_terms
                    ]
                )
            )
        )
    without = [p.id for p, t in zip(products, terms, strict=True) if not t]
    if without:
        operations.append(
            models.DeleteVectorsOperation(
                delete_vectors=models.DeleteVectors(points=without, vector=[TEXT_VECTOR])
            )
        )
    if with_payload:
        for product, term in zip(products, terms, strict=True):
            fields = {TERMS_FIELD: list(term.indices)}
            operations.append(
                models.SetPayloadOperation(set_payload=models.SetPayload(payload=fields, points=[product.id]))
            )
    return operations


class ServerCollection:
    """One version's collection, addressed by its own name (never through the alias)."""

    def __init__(self, name: str, client: AsyncQdrantClient, url: str, quantized: bool) -> None:
        self._name = name
        self._client = client
        self._url = url
        # Local mode searches exhaustively and warns about any search_params, so it gets none.
        self._search_params = (
            None
            if url == LOCAL_MODE
            else models.SearchParams(
                hnsw_ef=HNSW_EF,
                quantization=models.QuantizationSearchParams(rescore=True, oversampling=2.0)
                if quantized
                else None,
            )
        )

    async def _call(self, request: Awaitable[T], what: str) -> T:
        return await call(request, what, self._url, self._name)

    async def write(
        self, products: list[Product], vectors: np.ndarray, terms: list[SparseTerms] | None
    ) -> None:
        gate = asyncio.Semaphore(UPLOAD_PARALLEL)
        texts: list[SparseTerms | None] = list(terms) if terms is not None else [None] * len(products)

        async def upload(start: int) -> None:
            async with gate:
                points = [
                    models.PointStruct(
                        id=product.id, vector=_vectors(row, text), payload=to_payload(product, text)
                    )
                    for product, row, text in zip(
                        products[start : start + UPLOAD_BATCH],
                        vectors[start : start + UPLOAD_BATCH],
                        texts[start : start + UPLOAD_BATCH],
                        strict=True,
                    )
                ]
                await self._call(self._client.upsert(self._name, points=points, wait=True), "upload points")

        await asyncio.gather(*(upload(start) for start in range(0, len(products), UPLOAD_BATCH)))

    async def _stored_ids(self, ids: list[int]) -> set[int]:
        records = await self._call(
            self._client.retrieve(self._name, ids, with_payload=False, with_vectors=False),
            "look up points",
        )
        return {int(record.id) for record in records}

    async def update_payloads(self, products: list[Product], terms: list[SparseTerms] | None) -> list[int]:
        missing: list[int] = []
        for start in range(0, len(products), PAYLOAD_BATCH):
            chunk = products[start : start + PAYLOAD_BATCH]
            texts = list(terms[start : start + PAYLOAD_BATCH]) if terms is not None else None
            for attempt in range(2):
                stored = await self._stored_ids([product.id for product in chunk])
                kept = [i for i, product in enumerate(chunk) if product.id in stored]
                operations: list[models.UpdateOperation] = [
                    models.OverwritePayloadOperation(
                        overwrite_payload=models.SetPayload(
                            payload=to_payload(chunk[i], texts[i] if texts is not None else None),
                            points=[chunk[i].id],
                        )
                    )
                    for i in kept
                ]
                if texts is not None:
                    operations += _text_operations([chunk[i] for i in kept], [texts[i] for i in kept], False)
                try:
                    if operations:
                        await self._call(
                            self._client.batch_update_points(self._name, operations, wait=True),
                            "update payloads",
                        )
                    break
                except CatalogError:
                    if attempt:  # a point vanished between the look-up and the update: look again once
                        raise
            missing += [product.id for product in chunk if product.id not in stored]
        return missing

    async def enable_text(self) -> None:
        info = await self._call(self._client.get_collection(self._name), "read collection info")
        if TEXT_VECTOR not in (info.config.params.sparse_vectors or {}):
            config = models.SparseVectorNameConfig(
                sparse=models.SparseVectorConfig(modifier=models.Modifier.IDF)
            )
            await self._call(
                self._client.create_vector_name(self._name, TEXT_VECTOR, config, wait=True),
                "add the text vector",
            )
        await ensure_payload_indexes(self._client, self._name, self._url, set(info.payload_schema or {}))

    async def set_text(self, products: list[Product], terms: list[SparseTerms]) -> None:
        for start in range(0, len(products), PAYLOAD_BATCH):
            operations = _text_operations(
                products[start : start + PAYLOAD_BATCH], terms[start : start + PAYLOAD_BATCH], True
            )
            await self._call(
                self._client.batch_update_points(self._name, operations, wait=True), "store text vectors"
            )

    async def query_text(self, query: TextQuery, every_term: bool, limit: int) -> list[Hit]:
        where = server_text_filter(query, every_term)
        sparse = sparse_vector(query.terms)
        if query.vector is None:
            request = self._client.query_points(
                self._name,
                query=sparse,
                using=TEXT_VECTOR,
                query_filter=where,
                limit=limit,
                with_payload=False,
            )
        else:
            params = (
                self._search_params.model_copy(update={"hnsw_ef": max(HNSW_EF, FUSION_DEPTH)})
                if self._search_params is not None
                else None
            )
            request = self._client.query_points(
                self._name,
                prefetch=[
                    models.Prefetch(query=sparse, using=TEXT_VECTOR, filter=where, limit=FUSION_DEPTH),
                    models.Prefetch(
                        query=query.vector.tolist(),
                        using=VECTOR_NAME,
                        filter=where,
                        limit=FUSION_DEPTH,
                        params=params,
                    ),
                ],
                query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
                limit=limit,
                with_payload=False,
            )
        response = await self._call(request, "search text")
        return [(int(point.id), float(point.score), point.payload or {}) for point in response.points]

    async def count_text(self, query: TextQuery) -> int:
        result = await self._call(
            self._client.count(self._name, count_filter=server_text_filter(query, True), exact=True),
            "count text matches",
        )
        return int(result.count)

    async def delete(self, ids: list[int]) -> None:
        for start in range(0, len(ids), READ_BATCH):
            selector = models.PointIdsList(points=list(ids[start : start + READ_BATCH]))
            await self._call(
                self._client.delete(self._name, points_selector=selector, wait=True), "delete points"
            )

    async def retrieve(self, ids: list[int], with_vectors: bool) -> list[Record]:
        found: list[Record] = []
        for start in range(0, len(ids), READ_BATCH):
            records = await self._call(
                self._client.retrieve(
                    self._name,
                    ids[start : start + READ_BATCH],
                    with_payload=True,
                    with_vectors=[VECTOR_NAME] if with_vectors else False,
                ),
                "retrieve points",
            )
            found += [
                (int(record.id), record.payload or {}, stored_vector(record.vector)) for record in records
            ]
        return found

    async def query(self, query: SearchQuery) -> list[Hit]:
        params = (
            self._search_params.model_copy(update={"hnsw_ef": search_ef(query)})
            if self._search_params is not None
            else None
        )
        response = await self._call(
            self._client.query_points(
                self._name,
                query=query.vector.tolist(),
                using=VECTOR_NAME,
                query_filter=server_filter(query.categories or (), query.filters, query.exclude_ids),
                limit=query.limit,
                offset=query.offset,
                with_payload=True,
                with_vectors=False,
                search_params=params,
            ),
            "search",
        )
        return [(int(point.id), float(point.score), point.payload or {}) for point in response.points]

    async def count(self, category: str | None) -> int:
        where = server_filter((category,)) if category else None
        result = await self._call(
            self._client.count(self._name, count_filter=where, exact=True), "count points"
        )
        return int(result.count)

    async def scroll(self, start: int | None, limit: int) -> RefPage:
        records, next_start = await self._call(
            self._client.scroll(
                self._name, limit=limit, offset=start, with_payload=REF_FIELDS, with_vectors=False
            ),
            "list points",
        )
        page = [(int(record.id), record.payload or {}) for record in records]
        return page, int(next_start) if next_start is not None else None

    async def category_counts(self) -> dict[str, int]:
        response = await self._call(
            self._client.facet(self._name, key="category_top", limit=10_000, exact=True),
            "count categories",
        )
        return {str(hit.value): int(hit.count) for hit in response.hits}

    async def flush(self) -> None:
        """Nothing to do: a write returns once the server has it (``wait=True``)."""

    async def close(self, *, catalog_closed: bool = False) -> None:
        """Nothing to let go of: the collection stays on the server."""


async def ensure_payload_indexes(client: AsyncQdrantClient, name: str, url: str, present: set[str]) -> None:
    """Create the payload indexes of ``INDEXED_FIELDS`` that the collection lacks."""
    for key, kind in INDEXED_FIELDS:
        if key in present:
            continue
        with warnings.catch_warnings():
            # Local mode (":memory:") says its indexes have no effect: expected there, noise here.
            warnings.filterwarnings("ignore", message="Payload indexes have no effect in the local Qdrant")
            await call(
                client.create_payload_index(name, key, _SCHEMA[kind], wait=True),
                f"create the payload index {key}",
                url,
                name,
            )


async def open_server_catalog(
    settings: StoreSettings,
    *,
    client: AsyncQdrantClient | None = None,
    refresh_seconds: float = 30.0,
    index_wait_seconds: float = 3600.0,
) -> Catalog:
    """The catalog behind the alias, re-checked every ``refresh_seconds`` on reads.

    ``client`` lets tests share one local-mode client (the catalog then leaves it open).
    """
    engine = await ServerEngine.connect(settings, client=client, index_wait_seconds=index_wait_seconds)
    return await Catalog.open(engine, refresh_seconds=refresh_seconds)


class ServerEngine:
    """The versioned collections of ``[store].collection`` on one server, and the alias between them."""

    backend: Backend = "server"

    def __init__(
        self,
        client: AsyncQdrantClient,
        settings: StoreSettings,
        *,
        owns_client: bool,
        index_wait_seconds: float,
    ) -> None:
        self._client = client
        self._settings = settings
        self._url = settings.url
        self._alias = settings.collection
        self._pattern = version_pattern(settings.collection)
        self._owns_client = owns_client
        self._index_wait_seconds = index_wait_seconds
        self.collection = settings.collection

    @classmethod
    async def connect(
        cls,
        settings: StoreSettings,
        *,
        client: AsyncQdrantClient | None = None,
        index_wait_seconds: float = 3600.0,
    ) -> ServerEngine:
        """Connect (a client of our own unless ``client`` is given) and check the server's version."""
        owns_client = client is None
        if client is None:
            if settings.url == LOCAL_MODE:
                client = AsyncQdrantClient(location=LOCAL_MODE)
            else:
                # The client's own check would block in a thread; ours is one awaited request.
                client = AsyncQdrantClient(
                    url=settings.url,
                    api_key=settings.api_key or None,
                    timeout=max(1, round(settings.timeout_seconds)),
                    check_compatibility=False,
                )
        engine = cls(client, settings, owns_client=owns_client, index_wait_seconds=index_wait_seconds)
        try:
            if settings.url != LOCAL_MODE:
                await engine._check_server_version()
        except BaseException:
            await engine.close()
            raise
        return engine

    async def _check_server_version(self) -> None:
        """Warn when client and server differ by a major or by more than one minor version."""
        server = (await self._call(self._client.info(), "read the server version")).version
        client = importlib.metadata.version("qdrant-client")
        try:
            server_major, server_minor = (int(part) for part in server.split(".")[:2])
            client_major, client_minor = (int(part) for part in client.split(".")[:2])
        except ValueError:
            log.warning("cannot compare Qdrant server version %r with qdrant-client %s", server, client)
            return
        if server_major != client_major or abs(server_minor - client_minor) > 1:
            log.warning(
                "Qdrant server %s and qdrant-client %s do not match: pin them together", server, client
            )

    async def _call(self, request: Awaitable[T], what: str, collection: str | None = None) -> T:
        return await call(request, what, self._url, collection)

    async def current_name(self) -> str | None:
        """The collection the alias points to now (None: no alias yet)."""
        response = await self._call(self._client.get_aliases(), "list aliases")
        for alias in response.aliases:
            if alias.alias_name == self._alias:
                return alias.collection_name
        collections = await self._call(self._client.get_collections(), "list collections")
        if any(collection.name == self._alias for collection in collections.collections):
            raise CatalogError(
                f"the Qdrant server at {self._url} has a collection named {self._alias!r}; snapfit serves "
                "its index through an alias of that name: rename or delete that collection, "
                "or set another [store].collection"
            )
        return None

    async def read_version(self, name: str) -> CatalogVersion:
        info = await self._call(self._client.get_collection(name), "read collection info", name)
        metadata = (info.config.metadata or {}).get(METADATA_KEY)
        try:
            return version_from_json(metadata)
        except ValueError as exc:
            raise CatalogError(
                f"collection {name} on {self._url} is not a snapfit index version: {exc}"
            ) from None

    async def names(self) -> list[str]:
        response = await self._call(self._client.get_collections(), "list collections")
        return sorted(c.name for c in response.collections if self._pattern.match(c.name))

    async def versions(self) -> list[CatalogVersion]:
        found = []
        for name in await self.names():
            try:
                found.append(await self.read_version(name))
            except (CatalogError, VersionGoneError) as exc:
                log.warning("ignoring collection %s: %s", name, exc)
        return found

    def _collection(self, name: str) -> ServerCollection:
        return ServerCollection(name, self._client, self._url, self._settings.quantization == "int8")

    async def create(self, version: CatalogVersion) -> ServerCollection:
        settings = self._settings
        quantization = (
            models.ScalarQuantization(
                scalar=models.ScalarQuantizationConfig(
                    type=models.ScalarType.INT8, quantile=0.99, always_ram=True
                )
            )
            if settings.quantization == "int8"
            else None
        )
        await self._call(
            self._client.create_collection(
                version.name,
                vectors_config={
                    VECTOR_NAME: models.VectorParams(
                        size=version.dimension, distance=models.Distance.COSINE, on_disk=True
                    )
                },
                sparse_vectors_config=(
                    {TEXT_VECTOR: models.SparseVectorParams(modifier=models.Modifier.IDF)}
                    if version.text_index
                    else None
                ),
                hnsw_config=models.HnswConfigDiff(
                    m=HNSW_M,
                    ef_construct=HNSW_EF_CONSTRUCT,
                    full_scan_threshold=FULL_SCAN_KB,
                    payload_m=HNSW_PAYLOAD_M,
                ),
                shard_number=settings.shards,
                replication_factor=settings.replication_factor,
                quantization_config=quantization,
                metadata={METADATA_KEY: version_to_json(version)},
            ),
            "create a collection",
        )
        return await self.resume(version)

    async def open(self, version: CatalogVersion) -> ServerCollection:
        return self._collection(version.name)

    async def resume(self, version: CatalogVersion) -> ServerCollection:
        """The collection, with its payload indexes (created before the first upload)."""
        name = version.name
        info = await self._call(self._client.get_collection(name), "read collection info", name)
        await ensure_payload_indexes(self._client, name, self._url, set(info.payload_schema or {}))
        return self._collection(name)

    async def drop(self, name: str) -> None:
        await self._call(self._client.delete_collection(name), f"delete the collection {name}")

    async def build_index(self, version: CatalogVersion, handle: ServerCollection, expected: int) -> None:
        """Wait while the server is still optimizing (yellow); refuse a red collection."""
        name = version.name
        deadline = time.monotonic() + self._index_wait_seconds
        while True:
            info = await self._call(self._client.get_collection(name), "read collection info", name)
            if info.status in (models.CollectionStatus.GREEN, models.CollectionStatus.GREY):
                return
            if info.status == models.CollectionStatus.RED:
                raise CatalogError(f"collection {name} on {self._url} is red (failed); not switching to it")
            if time.monotonic() >= deadline:
                raise CatalogError(
                    f"collection {name} is still being indexed after {self._index_wait_seconds:.0f} s; "
                    "commit again later (the rebuild is kept)"
                )
            await asyncio.sleep(1.0)

    async def make_current(self, version: CatalogVersion) -> CatalogVersion:
        """Move the alias in one atomic call."""
        operations: list[models.AliasOperations] = []
        if await self.current_name() is not None:
            operations.append(
                models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self._alias))
            )
        operations.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=version.name, alias_name=self._alias)
            )
        )
        await self._call(
            self._client.update_collection_aliases(change_aliases_operations=operations), "switch the alias"
        )
        ready = await self.mark_ready(version)
        log.info("alias %s now points to %s (model %s)", self._alias, ready.name, ready.model_id)
        return ready

    async def mark_ready(self, version: CatalogVersion) -> CatalogVersion:
        ready = dataclasses.replace(version, state="ready")
        await self.save_version(ready)
        return ready

    async def save_version(self, version: CatalogVersion) -> None:
        await self._call(
            self._client.update_collection(version.name, metadata={METADATA_KEY: version_to_json(version)}),
            "record the version's metadata",
            version.name,
        )

    async def optimized_copy(
        self, version: CatalogVersion, handle: ServerCollection, *, force: bool
    ) -> CatalogVersion | None:
        """The server optimizes in the background: nothing to switch to."""
        return None

    async def close(self) -> None:
        if self._owns_client:
            await self._client.close()
