"""The search service the bot's handlers and the CLI share: photo bytes or a product reference → products.

Photo search: decode (as the index decodes) → embed → ``catalog.search``. Similar: a Musinsa id or
URL → the stored product's neighbours, or (not indexed) the product fetched, embedded and searched.
Text search: words → Korean analyser terms (``indexer.text``) → ``catalog.search_text``, fused with
the index model's text-tower embedding of the words when they have Latin letters.
Queries are embedded by the index's own model, loaded by name when it differs from the configured
one (``IndexRebuildingError`` when it cannot be). Every failure a user can meet is a ``SearchError``
with a stable ``code``; each stage is timed into the caller's ``StageTimings``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

import numpy as np

from bot.timing import StageTimings
from indexer.config import ImageSettings, ModelSettings, MusinsaSettings
from indexer.embedding.errors import EncoderBusyError, EncoderClosedError
from indexer.images import ImageDecoder, ImageError
from indexer.musinsa import ImageDownloadError as DownloadError
from indexer.musinsa import MusinsaError, ProductPageNotFoundError, ProductRefSyntaxError, parse_product_ref
from indexer.product import Product
from indexer.store import (
    DEFAULT_FILTERS,
    Catalog,
    CatalogVersion,
    Categories,
    DimensionMismatchError,
    ModelMismatchError,
    ProductNotFoundError,
    ScoredProduct,
    SearchFilters,
    SearchQuery,
    TextIndexMissingError,
    TextQuery,
    same_model,
)
from indexer.store.query import MAX_QUERY_TERMS, MAX_TEXT_RESULTS
from indexer.text import MAX_QUERY_CHARS, SparseTerms, has_latin, sparse_terms, tokens

if TYPE_CHECKING:
    from indexer.embedding import Encoder, MicroBatcher
    from indexer.musinsa import MusinsaClient

log = logging.getLogger(__name__)

EncoderLoader = Callable[[ModelSettings], "Encoder"]


# ---------------------------------------------------------------------------------------------- errors


class SearchError(Exception):
    """A search that cannot give results; ``code`` is stable (the bot maps it to a text)."""

    code: ClassVar[str] = "search_error"


class CatalogEmptyError(SearchError):
    """Nothing is indexed yet (the first sync has not finished)."""

    code = "catalog_empty"


class IndexRebuildingError(SearchError):
    """The index was built by a model this process cannot load: wait for the rebuild to switch."""

    code = "index_rebuilding"


class StaleSearchError(SearchError):
    """A stored query no longer fits the index (another model now, or its product is gone)."""

    code = "stale"


class EmptyTextError(SearchError):
    """The text has no searchable word (empty, only symbols, punctuation or emoji)."""

    code = "empty_text"


class TextTooLongError(SearchError):
    """The text is longer than ``indexer.text.MAX_QUERY_CHARS``: a query, not a description."""

    code = "text_too_long"


class TextIndexPendingError(SearchError):
    """The index was built before text search; the next sync adds it (no image is embedded again)."""

    code = "text_index_pending"


class SearchBusyError(SearchError):
    """The encoder's queue is full: try again shortly."""

    code = "busy"


class BadImageError(SearchError):
    """The photo cannot be decoded; ``image_code`` is ``indexer.images.ImageError.code``."""

    code = "bad_image"

    def __init__(self, error: ImageError) -> None:
        super().__init__(error.message)
        self.image_code = error.code


class InvalidProductRefError(SearchError):
    """The text is not a Musinsa product number or link; ``detail`` says what is accepted (English)."""

    code = "invalid_ref"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _ProductError(SearchError):
    def __init__(self, goods_no: int, message: str) -> None:
        super().__init__(message)
        self.goods_no = goods_no


class UnknownProductError(_ProductError):
    """Neither the index nor Musinsa knows the product."""

    code = "unknown_product"


class MusinsaUnavailableError(_ProductError):
    """The product is not indexed and Musinsa cannot be asked about it now (down, blocked, robots.txt)."""

    code = "musinsa_unavailable"


class ProductImageUnavailableError(_ProductError):
    """The product exists but its image cannot be downloaded or decoded."""

    code = "product_image_unavailable"


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class QueryVector:
    """A query embedding and the model that made it (the index refuses vectors of another model)."""

    vector: np.ndarray
    model_id: str


@dataclass(frozen=True)
class SearchResult:
    items: list[ScoredProduct]
    query: QueryVector
    category: Categories
    limit: int
    offset: int
    filters: SearchFilters = DEFAULT_FILTERS


@dataclass(frozen=True)
class SimilarResult:
    """Neighbours of ``source``; ``query`` is set when the product was not indexed (page on with it)."""

    source: Product
    items: list[ScoredProduct]
    indexed: bool
    query: QueryVector | None
    category: str | None
    limit: int
    offset: int
    filters: SearchFilters = DEFAULT_FILTERS


@dataclass(frozen=True)
class TextSearchResult:
    """A page of products for ``words``; ``query_vector`` (the text-tower embedding, when the words
    have Latin letters and it could be made) pages on with ``search_text_page`` without embedding again."""

    items: list[ScoredProduct]
    words: str
    query_vector: QueryVector | None
    category: Categories
    filters: SearchFilters
    limit: int
    offset: int


def query_terms(words: str) -> SparseTerms:
    """The sparse query of ``words`` (at most ``MAX_QUERY_TERMS`` distinct terms, the first ones)."""
    found = tokens(words)
    kept = set(list(dict.fromkeys(found))[:MAX_QUERY_TERMS])
    return sparse_terms(term for term in found if term in kept)


def check_words(words: str) -> str:
    """``words`` stripped; ``TextTooLongError`` past ``MAX_QUERY_CHARS``, ``EmptyTextError`` when blank."""
    if not isinstance(words, str):
        raise TypeError(f"words must be a string, got {type(words).__name__}")
    text = words.strip()
    if len(text) > MAX_QUERY_CHARS:
        raise TextTooLongError(f"the text has {len(text)} characters, at most {MAX_QUERY_CHARS} are searched")
    if not text:
        raise EmptyTextError("the text is empty")
    return text


@dataclass
class _QueryModel:
    encoder: Encoder
    batcher: MicroBatcher
    decoder: ImageDecoder
    owned: bool  # a model loaded for an older index: this service closes its batcher

    @property
    def model_id(self) -> str:
        return self.encoder.model_id


# --------------------------------------------------------------------------------------------- service


class SearchService:
    """Photo and similar-product search over one catalog; see the module docstring."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        encoder: Encoder,
        batcher: MicroBatcher,
        images: ImageSettings,
        model: ModelSettings,
        musinsa: MusinsaSettings,
        product_pages: MusinsaClient,
        image_downloads: MusinsaClient,
        load_encoder: EncoderLoader | None = None,
    ) -> None:
        self.catalog = catalog
        self._images = images
        self._model_settings = model
        self._product_pages = product_pages
        self._image_downloads = image_downloads
        self._load_encoder = load_encoder
        self._main = _QueryModel(encoder, batcher, ImageDecoder(images, encoder.image_size), owned=False)
        self._older: dict[str, _QueryModel] = {}
        self._unloadable: set[str] = set()
        self._older_lock = asyncio.Lock()
        host = urlsplit(musinsa.web_url).hostname or ""
        self._extra_hosts = frozenset({host.lower()}) if host else frozenset()

    @property
    def model_id(self) -> str:
        """The configured encoder's model id."""
        return self._main.model_id

    async def close(self) -> None:
        """Stop the micro-batchers of models loaded for an older index (the main one is the caller's)."""
        older, self._older = self._older, {}
        for model in older.values():
            await model.batcher.close()

    # ------------------------------------------------------------------------------- photo search

    async def search_image(
        self,
        data: bytes,
        *,
        category: Categories = None,
        filters: SearchFilters = DEFAULT_FILTERS,
        limit: int = 10,
        offset: int = 0,
        timings: StageTimings | None = None,
    ) -> SearchResult:
        """Products that look like the photo in ``data``, best first; ``category``: one code or several."""
        timings = timings if timings is not None else StageTimings()
        query = await self.embed_bytes(data, timings=timings)
        scope = {"category": category, "filters": filters, "limit": limit, "offset": offset}
        try:
            items = await self.search_vector(query, timings=timings, **scope)
        except StaleSearchError:
            # The index switched models between embedding and searching: embed again, once.
            query = await self.embed_bytes(data, timings=timings)
            items = await self.search_vector(query, timings=timings, **scope)
        return SearchResult(items, query, category, limit, offset, filters)

    async def embed_bytes(self, data: bytes, *, timings: StageTimings | None = None) -> QueryVector:
        """Decode and embed a photo with the model the current index was built with."""
        timings = timings if timings is not None else StageTimings()
        model = await self._query_model()
        with timings.stage("decode"):
            try:
                image = await asyncio.to_thread(model.decoder.decode, bytes(data))
            except ImageError as exc:
                raise BadImageError(exc) from None
        with timings.stage("embed"):
            try:
                vector = await model.batcher.embed(image)
            except (EncoderBusyError, EncoderClosedError) as exc:
                raise SearchBusyError(str(exc)) from None
        return QueryVector(vector, model.model_id)

    async def search_vector(
        self,
        query: QueryVector,
        *,
        category: Categories = None,
        filters: SearchFilters = DEFAULT_FILTERS,
        limit: int = 10,
        offset: int = 0,
        exclude_ids: Sequence[int] = (),
        timings: StageTimings | None = None,
    ) -> list[ScoredProduct]:
        """A page of products near ``query``; ``StaleSearchError`` when the index has another model now."""
        timings = timings if timings is not None else StageTimings()
        self._require_index()
        with timings.stage("search"):
            try:
                return await self.catalog.search(
                    SearchQuery(
                        query.vector,
                        categories=category,
                        limit=limit,
                        offset=offset,
                        exclude_ids=exclude_ids,
                        filters=filters,
                        model_id=query.model_id,
                    )
                )
            except (ModelMismatchError, DimensionMismatchError):
                raise StaleSearchError("the index was rebuilt with another model since this query") from None

    # --------------------------------------------------------------------------------- text search

    async def search_text(
        self,
        words: str,
        *,
        category: Categories = None,
        filters: SearchFilters = DEFAULT_FILTERS,
        limit: int = 10,
        offset: int = 0,
        timings: StageTimings | None = None,
    ) -> TextSearchResult:
        """Products whose name and brand match ``words`` (Korean or English), those with every word first.

        ``EmptyTextError`` / ``TextTooLongError`` for text that cannot be a query; words with Latin
        letters are also embedded by the index model's text tower (a failure there: words only, logged).
        """
        timings = timings if timings is not None else StageTimings()
        text = check_words(words)
        self._require_index()
        with timings.stage("analyse"):
            terms = await asyncio.to_thread(query_terms, text)
        if not terms:
            raise EmptyTextError("the text has no searchable word")
        vector = await self._embed_words(text, timings) if has_latin(text) else None
        scope = {"category": category, "filters": filters, "limit": limit, "offset": offset}
        try:
            items = await self._search_terms(terms, vector, timings=timings, **scope)
        except StaleSearchError:
            if vector is None:
                raise
            # The index switched models between embedding and searching: embed again, once.
            vector = await self._embed_words(text, timings)
            items = await self._search_terms(terms, vector, timings=timings, **scope)
        return TextSearchResult(items, text, vector, category, filters, limit, offset)

    async def search_text_page(
        self,
        words: str,
        query_vector: QueryVector | None,
        *,
        category: Categories = None,
        filters: SearchFilters = DEFAULT_FILTERS,
        limit: int = 10,
        offset: int = 0,
        timings: StageTimings | None = None,
    ) -> list[ScoredProduct]:
        """Another page of a text search (More): the words' terms again, the stored vector as it is.

        ``StaleSearchError`` when the index has another model now (search again from the words).
        """
        timings = timings if timings is not None else StageTimings()
        text = check_words(words)
        self._require_index()
        with timings.stage("analyse"):
            terms = await asyncio.to_thread(query_terms, text)
        if not terms:
            raise EmptyTextError("the text has no searchable word")
        return await self._search_terms(
            terms,
            query_vector,
            category=category,
            filters=filters,
            limit=limit,
            offset=offset,
            timings=timings,
        )

    async def _embed_words(self, text: str, timings: StageTimings) -> QueryVector | None:
        """The text-tower embedding of ``text`` by the index's model; None when it cannot be made."""
        try:
            model = await self._query_model()
        except IndexRebuildingError:
            return None
        with timings.stage("embed"):
            try:
                vectors = await asyncio.to_thread(model.encoder.embed_texts, [text])
            except Exception as exc:  # text search still works on words alone
                log.warning(
                    "cannot embed the text query with %s, searching words only: %s", model.model_id, exc
                )
                return None
        return QueryVector(vectors[0], model.model_id)

    async def _search_terms(
        self,
        terms: SparseTerms,
        vector: QueryVector | None,
        *,
        category: Categories,
        filters: SearchFilters,
        limit: int,
        offset: int,
        timings: StageTimings,
    ) -> list[ScoredProduct]:
        if offset >= MAX_TEXT_RESULTS:  # text results end there
            return []
        limit = min(limit, MAX_TEXT_RESULTS - offset)
        with timings.stage("search"):
            try:
                return await self.catalog.search_text(
                    TextQuery(
                        terms,
                        vector.vector if vector is not None else None,
                        categories=category,
                        filters=filters,
                        limit=limit,
                        offset=offset,
                        model_id=vector.model_id if vector is not None else None,
                    )
                )
            except (ModelMismatchError, DimensionMismatchError):
                raise StaleSearchError("the index was rebuilt with another model since this query") from None
            except TextIndexMissingError as exc:
                raise TextIndexPendingError(str(exc)) from None

    # ----------------------------------------------------------------------------- similar products

    def parse_ref(self, ref: str | int) -> int:
        """A goodsNo from an id or a Musinsa URL; ``InvalidProductRefError`` otherwise."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            if ref <= 0:
                raise InvalidProductRefError(f"{ref} is not a Musinsa product number")
            return ref
        try:
            return parse_product_ref(str(ref), extra_hosts=self._extra_hosts)
        except ProductRefSyntaxError as exc:
            raise InvalidProductRefError(str(exc)) from None

    async def similar(
        self,
        ref: str | int,
        *,
        category: str | None = None,
        filters: SearchFilters = DEFAULT_FILTERS,
        limit: int = 10,
        offset: int = 0,
        timings: StageTimings | None = None,
    ) -> SimilarResult:
        """Products that look like the product ``ref`` (an id or a Musinsa link), never itself."""
        timings = timings if timings is not None else StageTimings()
        goods_no = self.parse_ref(ref)
        self._require_index()
        with timings.stage("search"):
            stored = await self.catalog.get([goods_no])
        if stored:
            try:
                items = await self.similar_stored(
                    goods_no, category=category, filters=filters, limit=limit, offset=offset, timings=timings
                )
            except StaleSearchError:
                pass  # removed between the two calls: look it up on Musinsa instead
            else:
                return SimilarResult(stored[0].product, items, True, None, category, limit, offset, filters)
        product = await self._fetch_product(goods_no, timings)
        data = await self._fetch_image(product, timings)
        try:
            query = await self.embed_bytes(data, timings=timings)
        except BadImageError as exc:
            raise ProductImageUnavailableError(
                goods_no, f"the image of {goods_no} is unusable: {exc}"
            ) from None
        items = await self.search_vector(
            query,
            category=category,
            filters=filters,
            limit=limit,
            offset=offset,
            exclude_ids=(goods_no,),
            timings=timings,
        )
        return SimilarResult(product, items, False, query, category, limit, offset, filters)

    async def similar_stored(
        self,
        goods_no: int,
        *,
        category: str | None = None,
        filters: SearchFilters = DEFAULT_FILTERS,
        limit: int = 10,
        offset: int = 0,
        timings: StageTimings | None = None,
    ) -> list[ScoredProduct]:
        """Neighbours of an indexed product; ``StaleSearchError`` when it is no longer indexed."""
        timings = timings if timings is not None else StageTimings()
        self._require_index()
        with timings.stage("search"):
            try:
                return await self.catalog.similar(
                    goods_no, category=category, filters=filters, limit=limit, offset=offset
                )
            except ProductNotFoundError:
                raise StaleSearchError(f"product {goods_no} is no longer indexed") from None

    async def _fetch_product(self, goods_no: int, timings: StageTimings) -> Product:
        with timings.stage("download"):
            try:
                return await self._product_pages.fetch_product(goods_no)
            except ProductPageNotFoundError:
                raise UnknownProductError(goods_no, f"Musinsa has no product {goods_no}") from None
            except MusinsaError as exc:
                log.warning("product %d is not indexed and Musinsa could not be asked: %s", goods_no, exc)
                raise MusinsaUnavailableError(goods_no, f"cannot look up {goods_no}: {exc}") from None

    async def _fetch_image(self, product: Product, timings: StageTimings) -> bytes:
        with timings.stage("download"):
            try:
                return await self._image_downloads.fetch_image(product.image_url)
            except (DownloadError, MusinsaError) as exc:
                log.warning("image of product %d unavailable: %s", product.id, exc)
                raise ProductImageUnavailableError(product.id, f"no image for {product.id}: {exc}") from None

    # ------------------------------------------------------------------------------- query models

    def _require_index(self) -> CatalogVersion:
        version = self.catalog.version
        if version is None:
            raise CatalogEmptyError("nothing is indexed yet")
        return version

    async def _query_model(self) -> _QueryModel:
        version = self._require_index()
        if same_model(version.model_id, self._main.model_id):
            if self._older:
                await self.close()
            return self._main
        return await self._older_model(version)

    async def _older_model(self, version: CatalogVersion) -> _QueryModel:
        async with self._older_lock:
            model = self._older.get(version.model_id)
            if model is not None:
                return model
            if version.model_id in self._unloadable or self._load_encoder is None:
                raise IndexRebuildingError(f"index {version.name} needs model {version.model_id}")
            settings = self._model_settings.model_copy(update={"name": version.model_name})
            try:
                encoder = await asyncio.to_thread(self._load_encoder, settings)
            except Exception as exc:  # any failure to load means the same to a user: wait for the rebuild
                self._unloadable.add(version.model_id)
                log.warning(
                    "index %s was built with %s, which cannot be loaded (%s): searches wait for the rebuild",
                    version.name,
                    version.model_id,
                    exc,
                )
                raise IndexRebuildingError(f"index {version.name} needs model {version.model_id}") from None
            if not same_model(encoder.model_id, version.model_id):
                self._unloadable.add(version.model_id)
                log.warning(
                    "index %s was built with %s; loading %r gives %s instead: searches wait for the rebuild",
                    version.name,
                    version.model_id,
                    version.model_name,
                    encoder.model_id,
                )
                raise IndexRebuildingError(f"index {version.name} needs model {version.model_id}")
            from indexer.embedding import MicroBatcher

            await self.close()  # a model loaded for an even older index is of no use any more
            model = _QueryModel(
                encoder, MicroBatcher(encoder), ImageDecoder(self._images, encoder.image_size), True
            )
            self._older[version.model_id] = model
            log.info(
                "querying index %s with its own model %s until the rebuild switches",
                version.name,
                version.model_id,
            )
            return model
