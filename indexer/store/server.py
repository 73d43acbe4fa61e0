"""The server backend: a Qdrant server (or cluster) through ``AsyncQdrantClient``.

Versions are collections named ``<collection>_<model-hash>_<timestamp>``; the alias
``<collection>`` names the current one and moves in one atomic call on commit. Each version
carries its model id, open_clip name, dimension and state in the collection's metadata.

A process reads from the collection it resolved (not through the alias), so a switch by
another process (``snapfit schedule``) never sends a query to vectors of another model
mid-flight: the catalog re-checks the alias every ``refresh_seconds`` (or on ``refresh()``,
or when its collection has been removed) and then moves over as a whole.

``[store].url = ":memory:"`` runs qdrant-client's local mode in-process: a Python
re-implementation for tests and development (no real indexes, whole index in RAM, one
process); never for production.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.metadata
import logging
import time
import warnings
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
from qdrant_client import AsyncQdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from indexer.config import StoreSettings
from indexer.product import Product
from indexer.store.base import CatalogBase, Hit, RebuildBase, VersionStore
from indexer.store.catalog import CatalogVersion
from indexer.store.errors import (
    CatalogClosedError,
    CatalogError,
    RebuildInProgressError,
    StoreUnavailableError,
    VersionGoneError,
)
from indexer.store.payload import INDEXED_FIELDS, REF_FIELDS, VECTOR_NAME, SearchFilter, to_payload
from indexer.store.versions import (
    check_model,
    new_version_name,
    version_from_json,
    version_pattern,
    version_to_json,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

LOCAL_MODE = ":memory:"
UPLOAD_BATCH = 128  # points per request: small requests keep JSON encoding off the loop for long
UPLOAD_PARALLEL = 4  # requests in flight during an upload
PAYLOAD_BATCH = 256
READ_BATCH = 1000
HNSW_EF = 128
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


def server_filter(where: SearchFilter) -> models.Filter | None:
    must: list[models.Condition] = []
    if len(where.categories) == 1:
        match_one = models.MatchValue(value=where.categories[0])
        must.append(models.FieldCondition(key="category_path", match=match_one))
    elif where.categories:
        match_any = models.MatchAny(any=list(where.categories))
        must.append(models.FieldCondition(key="category_path", match=match_any))
    if where.min_price is not None or where.max_price is not None:
        must.append(
            models.FieldCondition(
                key="effective_price", range=models.Range(gte=where.min_price, lte=where.max_price)
            )
        )
    must_not: list[models.Condition] = (
        [models.HasIdCondition(has_id=list(where.exclude_ids))] if where.exclude_ids else []
    )
    if not must and not must_not:
        return None
    return models.Filter(must=must or None, must_not=must_not or None)


class ServerVersionStore(VersionStore):
    """One versioned collection."""

    backend = "server"

    def __init__(self, version: CatalogVersion, client: AsyncQdrantClient, url: str, quantized: bool) -> None:
        super().__init__(version)
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
        return await call(request, what, self._url, self._version.name)

    async def _write(self, products: list[Product], vectors: np.ndarray) -> None:
        gate = asyncio.Semaphore(UPLOAD_PARALLEL)

        async def upload(start: int) -> None:
            async with gate:
                points = [
                    models.PointStruct(
                        id=product.id, vector={VECTOR_NAME: row.tolist()}, payload=to_payload(product)
                    )
                    for product, row in zip(
                        products[start : start + UPLOAD_BATCH],
                        vectors[start : start + UPLOAD_BATCH],
                        strict=True,
                    )
                ]
                await self._call(
                    self._client.upsert(self._version.name, points=points, wait=True), "upload points"
                )

        await asyncio.gather(*(upload(start) for start in range(0, len(products), UPLOAD_BATCH)))

    async def _stored_ids(self, ids: list[int]) -> set[int]:
        records = await self._call(
            self._client.retrieve(self._version.name, ids, with_payload=False, with_vectors=False),
            "look up points",
        )
        return {int(record.id) for record in records}

    async def _update_payloads(self, products: list[Product]) -> list[int]:
        missing: list[int] = []
        for start in range(0, len(products), PAYLOAD_BATCH):
            chunk = products[start : start + PAYLOAD_BATCH]
            for attempt in range(2):
                stored = await self._stored_ids([product.id for product in chunk])
                operations = [
                    models.OverwritePayloadOperation(
                        overwrite_payload=models.SetPayload(payload=to_payload(product), points=[product.id])
                    )
                    for product in chunk
                    if product.id in stored
                ]
                try:
                    if operations:
                        await self._call(
                            self._client.batch_update_points(self._version.name, operations, wait=True),
                            "update payloads",
                        )
                    break
                except CatalogError:
                    if attempt:  # a point vanished between the look-up and the update: look again once
                        raise
            missing += [product.id for product in chunk if product.id not in stored]
        return missing

    async def _delete(self, ids: list[int]) -> None:
        for start in range(0, len(ids), READ_BATCH):
            selector = models.PointIdsList(points=list(ids[start : start + READ_BATCH]))
            await self._call(
                self._client.delete(self._version.name, points_selector=selector, wait=True), "delete points"
            )

    async def _retrieve(
        self, ids: list[int], with_vectors: bool
    ) -> list[tuple[int, dict[str, Any], np.ndarray | None]]:
        found: list[tuple[int, dict[str, Any], np.ndarray | None]] = []
        for start in range(0, len(ids), READ_BATCH):
            records = await self._call(
                self._client.retrieve(
                    self._version.name,
                    ids[start : start + READ_BATCH],
                    with_payload=True,
                    with_vectors=[VECTOR_NAME] if with_vectors else False,
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
        params = (
            self._search_params.model_copy(update={"hnsw_ef": max(HNSW_EF, limit + offset)})
            if self._search_params is not None
            else None
        )
        response = await self._call(
            self._client.query_points(
                self._version.name,
                query=vector.tolist(),
                using=VECTOR_NAME,
                query_filter=server_filter(where),
                limit=limit,
                offset=offset,
                with_payload=True,
                with_vectors=False,
                search_params=params,
            ),
            "search",
        )
        return [(int(point.id), float(point.score), point.payload or {}) for point in response.points]

    async def _count(self, category: str | None) -> int:
        where = server_filter(SearchFilter(categories=(category,))) if category else None
        result = await self._call(
            self._client.count(self._version.name, count_filter=where, exact=True), "count points"
        )
        return int(result.count)

    async def _scroll(
        self, start: int | None, limit: int
    ) -> tuple[list[tuple[int, dict[str, Any]]], int | None]:
        records, next_start = await self._call(
            self._client.scroll(
                self._version.name, limit=limit, offset=start, with_payload=REF_FIELDS, with_vectors=False
            ),
            "list points",
        )
        page = [(int(record.id), record.payload or {}) for record in records]
        return page, int(next_start) if next_start is not None else None

    async def _category_counts(self) -> dict[str, int]:
        response = await self._call(
            self._client.facet(self._version.name, key="category_top", limit=10_000, exact=True),
            "count categories",
        )
        return {str(hit.value): int(hit.count) for hit in response.hits}


class ServerCatalog(CatalogBase):
    """The collection the alias ``[store].collection`` points to, followed across switches."""

    backend = "server"

    def __init__(
        self,
        client: AsyncQdrantClient,
        settings: StoreSettings,
        *,
        owns_client: bool,
        refresh_seconds: float,
        index_wait_seconds: float,
    ) -> None:
        super().__init__()
        self._client = client
        self._settings = settings
        self._url = settings.url
        self._alias = settings.collection
        self._pattern = version_pattern(settings.collection)
        self._owns_client = owns_client
        self._refresh_seconds = refresh_seconds
        self._index_wait_seconds = index_wait_seconds
        self._store: ServerVersionStore | None = None
        self._checked_at = 0.0
        self._rebuild: ServerRebuild | None = None
        self._switch_lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        settings: StoreSettings,
        *,
        client: AsyncQdrantClient | None = None,
        refresh_seconds: float = 30.0,
        index_wait_seconds: float = 3600.0,
    ) -> ServerCatalog:
        """Connect and resolve the alias. ``client`` lets tests share one local-mode client."""
        owns_client = client is None
        if client is None:
            if settings.url == LOCAL_MODE:
                client = AsyncQdrantClient(location=LOCAL_MODE)
            else:
                # The client's own version check is a blocking request in a thread of its own at
                # construction; ours below is one awaited request that also proves the server is there.
                client = AsyncQdrantClient(
                    url=settings.url,
                    api_key=settings.api_key or None,
                    timeout=max(1, round(settings.timeout_seconds)),
                    check_compatibility=False,
                )
        catalog = cls(
            client,
            settings,
            owns_client=owns_client,
            refresh_seconds=refresh_seconds,
            index_wait_seconds=index_wait_seconds,
        )
        try:
            if settings.url != LOCAL_MODE:
                await catalog._check_server_version()
            await catalog.refresh()
        except BaseException:
            if owns_client:
                await client.close()
            raise
        return catalog

    def _current(self) -> ServerVersionStore | None:
        return self._store

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

    async def _call(self, request: Awaitable[T], what: str) -> T:
        return await call(request, what, self._url)

    async def _resolve(self) -> str | None:
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

    async def _read_version(self, name: str) -> CatalogVersion:
        info = await call(self._client.get_collection(name), "read collection info", self._url, name)
        metadata = (info.config.metadata or {}).get(METADATA_KEY)
        try:
            return version_from_json(metadata)
        except ValueError as exc:
            raise CatalogError(
                f"collection {name} on {self._url} is not a snapfit index version: {exc}"
            ) from None

    def _version_store(self, version: CatalogVersion) -> ServerVersionStore:
        return ServerVersionStore(version, self._client, self._url, self._settings.quantization == "int8")

    async def _before_read(self) -> None:
        if self._refresh_seconds > 0 and time.monotonic() - self._checked_at >= self._refresh_seconds:
            await self.refresh()

    async def refresh(self) -> bool:
        self._check_open()
        async with self._switch_lock:
            name = await self._resolve()
            self._checked_at = time.monotonic()
            if name == (self._store.version.name if self._store else None):
                return False
            store = None
            if name is not None:
                version = await self._read_version(name)
                if version.state != "ready":  # a switcher died between the alias swap and marking it
                    version = await self._mark_ready(version)
                store = self._version_store(version)
            async with self._write_lock:
                self._store = store
            log.info("following index version %s", name)
            return True

    async def _mark_ready(self, version: CatalogVersion) -> CatalogVersion:
        ready = dataclasses.replace(version, state="ready")
        await call(
            self._client.update_collection(version.name, metadata={METADATA_KEY: version_to_json(ready)}),
            "record the version as ready",
            self._url,
            version.name,
        )
        return ready

    async def versions(self) -> list[CatalogVersion]:
        self._check_open()
        response = await self._call(self._client.get_collections(), "list collections")
        found = []
        for name in sorted(c.name for c in response.collections if self._pattern.match(c.name)):
            try:
                found.append(await self._read_version(name))
            except (CatalogError, VersionGoneError) as exc:
                log.warning("ignoring collection %s: %s", name, exc)
        return found

    async def begin_rebuild(self, model_id: str, model_name: str, dimension: int) -> ServerRebuild:
        self._check_open()
        check_model(model_id, model_name, dimension)
        async with self._switch_lock:
            if self._rebuild is not None:
                raise RebuildInProgressError(
                    f"a rebuild ({self._rebuild.version.name}) is already open: "
                    "commit, abort or close it first"
                )
            current = await self._resolve()
            existing = await self.versions()
            resumable = [
                version
                for version in existing
                if version.state == "building"
                and version.name != current
                and version.model_id == model_id
                and version.dimension == dimension
            ]
            if resumable:
                version = resumable[-1]
                await self._ensure_indexes(version.name)
            else:
                name = new_version_name(self._alias, model_id, [v.name for v in existing])
                version = CatalogVersion(name, model_id, model_name, dimension, datetime.now(UTC), "building")
                await self._create_collection(version)
            self._rebuild = ServerRebuild(self, self._version_store(version), bool(resumable))
            log.info(
                "%s collection %s for model %s",
                "resuming" if resumable else "building",
                version.name,
                model_id,
            )
            return self._rebuild

    async def _create_collection(self, version: CatalogVersion) -> None:
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
        await call(
            self._client.create_collection(
                version.name,
                vectors_config={
                    VECTOR_NAME: models.VectorParams(
                        size=version.dimension, distance=models.Distance.COSINE, on_disk=True
                    )
                },
                shard_number=settings.shards,
                replication_factor=settings.replication_factor,
                quantization_config=quantization,
                metadata={METADATA_KEY: version_to_json(version)},
            ),
            "create a collection",
            self._url,
        )
        await self._ensure_indexes(version.name)

    async def _ensure_indexes(self, name: str) -> None:
        """Payload indexes before the first upload (the server then builds filter-aware HNSW links)."""
        info = await call(self._client.get_collection(name), "read collection info", self._url, name)
        present = set(info.payload_schema or {})
        for key, kind in INDEXED_FIELDS:
            if key in present:
                continue
            with warnings.catch_warnings():
                # Local mode (":memory:") says its indexes have no effect: expected there, noise here.
                warnings.filterwarnings(
                    "ignore", message="Payload indexes have no effect in the local Qdrant"
                )
                await call(
                    self._client.create_payload_index(name, key, _SCHEMA[kind], wait=True),
                    f"create the payload index {key}",
                    self._url,
                    name,
                )

    async def _wait_until_indexed(self, name: str) -> None:
        """Wait while the server is still optimizing (yellow); refuse a red collection."""
        deadline = time.monotonic() + self._index_wait_seconds
        while True:
            info = await call(self._client.get_collection(name), "read collection info", self._url, name)
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

    async def _finish_rebuild(self, rebuild: ServerRebuild, store: ServerVersionStore) -> CatalogVersion:
        try:
            if await store.count() == 0:
                raise CatalogError(f"refusing to switch to {store.version.name}: it holds no products")
            await self._wait_until_indexed(store.version.name)
            async with self._switch_lock, self._write_lock:
                return await self._switch(store.version)
        finally:
            if self._rebuild is rebuild:
                self._rebuild = None

    def _forget_rebuild(self, rebuild: ServerRebuild) -> None:
        if self._rebuild is rebuild:
            self._rebuild = None

    async def _switch(self, version: CatalogVersion) -> CatalogVersion:
        """Move the alias in one atomic call, then drop versions but the new and the previous one."""
        if self._closed:
            raise CatalogClosedError(f"the catalog was closed before switching to {version.name}")
        previous = await self._resolve()
        operations: list[models.AliasOperations] = []
        if previous is not None:
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
        ready = await self._mark_ready(version)
        self._store = self._version_store(ready)
        self._checked_at = time.monotonic()
        keep = {ready.name, previous}
        if self._rebuild is not None:
            keep.add(self._rebuild.version.name)
        for old in await self.versions():
            if old.name not in keep:
                try:
                    await self._call(
                        self._client.delete_collection(old.name), f"delete the old collection {old.name}"
                    )
                except CatalogError as exc:
                    log.warning("could not delete old collection %s: %s", old.name, exc)
        log.info("alias %s now points to %s (model %s)", self._alias, ready.name, ready.model_id)
        return ready

    async def _drop(self, name: str) -> None:
        await self._call(self._client.delete_collection(name), f"delete the collection {name}")

    async def optimize(self, *, force: bool = False) -> bool:
        """The server optimizes in the background; nothing to do here."""
        self._check_open()
        return False

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._rebuild = None
        if self._owns_client:
            await self._client.close()


class ServerRebuild(RebuildBase):
    """A collection being filled; ``commit`` waits for the server's indexing and swaps the alias."""

    def __init__(self, catalog: ServerCatalog, store: ServerVersionStore, resumed: bool) -> None:
        super().__init__(store, resumed)
        self._catalog = catalog
        self._server_store = store

    async def _finish(self) -> CatalogVersion:
        return await self._catalog._finish_rebuild(self, self._server_store)

    def _forget(self) -> None:
        self._catalog._forget_rebuild(self)

    async def _discard(self) -> None:
        await self._catalog._drop(self.version.name)

    async def _release(self) -> None:
        """Nothing to let go of: the collection stays on the server for a later resume."""
