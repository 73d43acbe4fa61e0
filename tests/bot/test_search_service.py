"""The search service the bot and the CLI share, against the session's real index and fake Musinsa."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest

from bot.handlers.results import error_text
from bot.search import (
    BadImageError,
    CatalogEmptyError,
    IndexRebuildingError,
    InvalidProductRefError,
    SearchBusyError,
    SearchService,
    UnknownProductError,
)
from bot.services import BotServices
from bot.timing import StageTimings
from indexer.config import DataSettings, ModelSettings, Settings, StoreSettings
from indexer.embedding import Encoder, MicroBatcher
from indexer.images import ImageDecoder
from indexer.store import open_catalog
from tests.bot.conftest import World
from tests.bot.world import image_settings
from tests.image_corpus import case
from tests.tiny_model import build_tiny_model


@pytest.fixture
def make_service_settings(world: World, store_dir: Path, tmp_path: Path) -> Callable[..., Settings]:
    def make(*, store: Path = store_dir, model_dir: Path = world.model_dir) -> Settings:
        return Settings(
            musinsa=world.musinsa.musinsa_settings(),
            images=image_settings(),
            model=ModelSettings(name=f"local-dir:{model_dir}"),
            store=StoreSettings(path=str(store)),
            data=DataSettings(dir=str(tmp_path / "data")),
        )

    return make


@pytest.fixture
async def services(make_service_settings: Callable[..., Settings]) -> AsyncIterator[BotServices]:
    opened = await BotServices.open(make_service_settings())
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(scope="module")
def other_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Same architecture as the tiny model, other weights: another model id."""
    return build_tiny_model(tmp_path_factory.mktemp("other-model") / "tiny-clip", seed=1)


async def test_a_products_own_photo_is_its_best_match(services: BotServices, world: World) -> None:
    target = world.products[3]
    timings = StageTimings()
    result = await services.search.search_image(
        world.musinsa.image_bytes(target.id), limit=5, timings=timings
    )
    assert result.items[0].product.id == target.id
    assert result.items[0].score == pytest.approx(1.0, abs=1e-3)
    assert len(result.items) == 5
    assert result.query.model_id == services.encoder.model_id
    assert set(timings.seconds) == {"decode", "embed", "search"}
    assert all(seconds >= 0 for seconds in timings.seconds.values())


async def test_category_filter_is_hierarchical(services: BotServices, world: World) -> None:
    tops = {product.id for product in world.in_category("001") if not product.sold_out}  # sold out: hidden
    assert len(tops) >= 4
    photo = world.musinsa.image_bytes(world.in_category("003")[0].id)  # a pair of pants
    result = await services.search.search_image(photo, category="001", limit=100)
    assert {item.product.id for item in result.items} == tops


async def test_pages_do_not_overlap(services: BotServices, world: World) -> None:
    photo = world.musinsa.image_bytes(world.products[0].id)
    first = await services.search.search_image(photo, limit=6)
    second = await services.search.search_vector(first.query, limit=6, offset=6)
    everything = await services.search.search_vector(first.query, limit=12)
    assert [i.product.id for i in first.items + second] == [i.product.id for i in everything]


async def test_similar_by_id_and_by_link(services: BotServices, world: World) -> None:
    target = world.products[7]
    by_id = await services.search.similar(str(target.id), limit=4)
    assert by_id.indexed and by_id.source.id == target.id and by_id.query is None
    ids = [item.product.id for item in by_id.items]
    assert target.id not in ids and len(ids) == 4
    assert ids == [item.product.id for item in await services.catalog.similar(target.id, limit=4)]
    for link in (
        f"{world.musinsa.url}/products/{target.id}",
        f"https://www.musinsa.com/products/{target.id}?utm_source=x",
        f"https://www.musinsa.com/app/goods/{target.id}",
        target.id,
    ):
        result = await services.search.similar(link, limit=4)
        assert [item.product.id for item in result.items] == ids, link


async def test_similar_of_a_product_not_indexed_fetches_it_from_musinsa(
    services: BotServices, world: World
) -> None:
    goods_no = world.not_indexed[0]
    before = len(world.musinsa.requests_to(f"/products/{goods_no}"))
    timings = StageTimings()
    result = await services.search.similar(goods_no, limit=5, timings=timings)
    assert not result.indexed
    assert result.source.id == goods_no
    assert result.query is not None
    assert len(result.items) == 5 and goods_no not in [item.product.id for item in result.items]
    assert len(world.musinsa.requests_to(f"/products/{goods_no}")) == before + 1
    assert "download" in timings.seconds
    # The fetched product is searched with the vector of its own image.
    decoder = ImageDecoder(image_settings(), services.encoder.image_size)
    expected = services.encoder.embed_image(decoder.decode(world.musinsa.image_bytes(goods_no)))
    assert np.allclose(result.query.vector, expected, atol=1e-5)


async def test_unknown_and_invalid_products(services: BotServices, world: World) -> None:
    with pytest.raises(UnknownProductError) as unknown:
        await services.search.similar(1234, limit=3)
    assert unknown.value.goods_no == 1234
    assert "1234" in error_text("en", unknown.value) and "1234" in error_text("ko", unknown.value)
    for ref in ("hello", "https://example.com/products/1", "0", "https://global.musinsa.com/products/1", -3):
        with pytest.raises(InvalidProductRefError):
            await services.search.similar(ref, limit=3)


async def test_bad_photo_is_a_typed_error(services: BotServices) -> None:
    with pytest.raises(BadImageError) as raised:
        await services.search.search_image(case("truncated_jpeg").data)
    assert raised.value.image_code == "truncated"


async def test_empty_catalog(make_service_settings: Callable[..., Settings], tmp_path: Path) -> None:
    services = await BotServices.open(make_service_settings(store=tmp_path / "empty"))
    try:
        with pytest.raises(CatalogEmptyError):
            await services.search.search_image(case("webp").data)
        with pytest.raises(CatalogEmptyError):
            await services.search.similar(1234)
        assert "catalog is being built" in error_text("en", CatalogEmptyError())
    finally:
        await services.close()


async def test_index_of_another_model_is_queried_with_that_model(
    make_service_settings: Callable[..., Settings], other_model_dir: Path, world: World
) -> None:
    services = await BotServices.open(make_service_settings(model_dir=other_model_dir))
    try:
        assert services.catalog.version is not None
        assert services.encoder.model_id != services.catalog.version.model_id
        target = world.products[2]
        result = await services.search.search_image(world.musinsa.image_bytes(target.id), limit=3)
        assert result.items[0].product.id == target.id
        assert result.query.model_id == services.catalog.version.model_id
    finally:
        await services.close()


@pytest.mark.parametrize("recorded_name", ["local-dir:/nonexistent/model", "other"])
async def test_index_of_a_model_that_cannot_be_loaded_says_rebuilding(
    recorded_name: str,
    make_service_settings: Callable[..., Settings],
    other_model_dir: Path,
    tiny_encoder: Encoder,
    world: World,
    tmp_path: Path,
) -> None:
    # An index whose recorded open_clip name does not give back its model: a missing folder, or
    # a folder holding other weights.
    name = f"local-dir:{other_model_dir}" if recorded_name == "other" else recorded_name
    store = tmp_path / "orphan"
    catalog = await open_catalog(StoreSettings(path=str(store)))
    decoder = ImageDecoder(image_settings(), tiny_encoder.image_size)
    products = world.products[:3]
    vectors = tiny_encoder.embed_images([decoder.decode(world.musinsa.image_bytes(p.id)) for p in products])
    rebuild = await catalog.begin_rebuild(tiny_encoder.model_id, name, tiny_encoder.dimension)
    await rebuild.upsert(list(zip(products, vectors, strict=True)))
    await rebuild.commit()
    await catalog.close()

    services = await BotServices.open(make_service_settings(store=store, model_dir=other_model_dir))
    try:
        for _ in range(2):  # the failed load is remembered, not retried on every photo
            with pytest.raises(IndexRebuildingError):
                await services.search.search_image(world.musinsa.image_bytes(products[0].id))
        # Similar products of an indexed one need no query model.
        similar = await services.search.similar(products[0].id, limit=2)
        assert len(similar.items) == 2
    finally:
        await services.close()


async def test_full_encoder_queue_is_busy(services: BotServices, world: World) -> None:
    # One slot, and a long batching window that keeps the first request in flight meanwhile.
    batcher = MicroBatcher(services.encoder, max_queue=1, max_wait_ms=2000)
    search = SearchService(
        catalog=services.catalog,
        encoder=services.encoder,
        batcher=batcher,
        images=services.settings.images,
        model=services.settings.model,
        musinsa=services.settings.musinsa,
        product_pages=services.product_pages,
        image_downloads=services.image_downloads,
    )
    photo = world.musinsa.image_bytes(world.products[0].id)
    decoder = ImageDecoder(image_settings(), services.encoder.image_size)
    image = decoder.decode(photo)
    try:
        outcomes = await asyncio.gather(
            batcher.embed(image), search.search_image(photo, limit=1), return_exceptions=True
        )
    finally:
        await batcher.close()
    assert isinstance(outcomes[0], np.ndarray)
    assert isinstance(outcomes[1], SearchBusyError)
    assert "try again" in error_text("en", outcomes[1])


async def test_a_query_of_another_model_is_stale(services: BotServices, world: World) -> None:
    from bot.search import QueryVector, StaleSearchError

    query = await services.search.embed_bytes(world.musinsa.image_bytes(world.products[0].id))
    with pytest.raises(StaleSearchError):
        await services.search.search_vector(QueryVector(query.vector, "another-model@x/y/fp32"))
    with pytest.raises(StaleSearchError):
        await services.search.search_vector(QueryVector(np.ones(8, dtype=np.float32), query.model_id))
    with pytest.raises(StaleSearchError):
        await services.search.similar_stored(999_999_999)
