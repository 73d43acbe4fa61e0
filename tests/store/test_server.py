"""Server-only behaviour: alias switches seen by other processes, collection setup, failures."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import AsyncQdrantClient, models

from indexer.config import ConfigError, StoreSettings, load_settings
from indexer.store import Catalog, CatalogError, SearchQuery, StoreUnavailableError, open_catalog
from indexer.store.server import open_server_catalog

from .conftest import MODEL_A, MODEL_B, MODEL_C, Data, build, exact_ranking, make_data, random_vectors

QUERY = random_vectors(1, seed=42)[0]


@pytest.fixture
async def client() -> AsyncIterator[AsyncQdrantClient]:
    shared = AsyncQdrantClient(location=":memory:")
    try:
        yield shared
    finally:
        await shared.close()


async def open_server(client: AsyncQdrantClient, **options: Any) -> Catalog:
    settings = StoreSettings(url=":memory:", **options.pop("settings", {}))
    return await open_server_catalog(
        settings, client=client, refresh_seconds=options.pop("refresh_seconds", 0)
    )


async def test_open_catalog_with_a_url_is_the_server_backend() -> None:
    catalog = await open_catalog(StoreSettings(url=":memory:"))
    try:
        assert catalog.backend == "server"
        assert catalog.version is None
    finally:
        await catalog.close()


async def test_the_server_url_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[store]\nurl = "qdrant:6333"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"store\.url: .*http"):
        load_settings(path)
    assert StoreSettings(url="http://qdrant:6333/").url == "http://qdrant:6333"


async def test_a_serving_process_follows_a_switch_made_by_another(
    client: AsyncQdrantClient, data: Data
) -> None:
    bot = await open_server(client)
    scheduler = await open_server(client)
    first = await build(scheduler, data)
    assert bot.version is None
    assert await bot.refresh() is True and bot.version == first

    wide = make_data(count=12, dimension=MODEL_B.dimension, seed=5, first_id=3000)
    second = await build(scheduler, wide, MODEL_B)
    # The bot keeps its resolved collection (and model) until it looks again.
    assert bot.version == first
    assert [h.product.id for h in await bot.search(SearchQuery(QUERY, limit=3))] == exact_ranking(
        data.vectors, data.ids, QUERY
    )[:3]
    assert await bot.refresh() is True
    assert bot.version == second and bot.version.model_name == MODEL_B.name
    assert await bot.refresh() is False
    assert await bot.optimize(force=True) is False  # the server indexes in the background


async def test_the_alias_is_checked_on_reads_every_refresh_period(
    client: AsyncQdrantClient, data: Data
) -> None:
    bot = await open_server(client, refresh_seconds=1e-9)  # every read looks at the alias
    scheduler = await open_server(client)
    await build(scheduler, data)
    assert await bot.count() == len(data.ids)
    third = await build(scheduler, make_data(count=4, seed=2), MODEL_C)
    assert await bot.count() == 4 and bot.version == third


async def test_reads_follow_when_the_held_collection_was_removed(
    client: AsyncQdrantClient, data: Data
) -> None:
    bot = await open_server(client)
    scheduler = await open_server(client)
    await build(scheduler, data)
    await bot.refresh()
    await build(scheduler, make_data(count=5, seed=2), MODEL_C)
    latest = await build(scheduler, make_data(count=6, seed=3))  # removes the collection the bot holds
    assert await bot.count() == 6
    assert bot.version == latest


async def test_collections_are_set_up_before_the_first_upload(client: AsyncQdrantClient, data: Data) -> None:
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def spy(name: str) -> None:
        real = getattr(client, name)

        async def recording(*args: Any, **kwargs: Any) -> Any:
            calls.append((name, args, kwargs))
            return await real(*args, **kwargs)

        setattr(client, name, recording)

    for name in ("create_collection", "create_payload_index", "upsert"):
        spy(name)
    catalog = await open_server(client, settings={"shards": 6, "replication_factor": 2})
    await build(catalog, data)
    names = [name for name, _, _ in calls]
    assert names.index("create_collection") < names.index("create_payload_index")
    assert len(names) - names[::-1].index("create_payload_index") - 1 < names.index("upsert")
    indexes = {args[1]: args[2] for name, args, _ in calls if name == "create_payload_index"}
    assert indexes == {
        "category_path": models.PayloadSchemaType.KEYWORD,
        "category_top": models.PayloadSchemaType.KEYWORD,
        "effective_price": models.PayloadSchemaType.INTEGER,
        "brand": models.PayloadSchemaType.KEYWORD,
        "sold_out": models.PayloadSchemaType.BOOL,
        "gender": models.PayloadSchemaType.KEYWORD,
        "text_terms": models.PayloadSchemaType.INTEGER,
    }
    created = next(kwargs for name, _, kwargs in calls if name == "create_collection")
    assert (created["shard_number"], created["replication_factor"]) == (6, 2)
    quantization = created["quantization_config"]
    assert isinstance(quantization, models.ScalarQuantization)
    assert quantization.scalar.type == models.ScalarType.INT8
    assert created["vectors_config"]["image"].size == MODEL_A.dimension
    assert created["vectors_config"]["image"].distance == models.Distance.COSINE
    assert created["metadata"]["snapfit"]["model_id"] == MODEL_A.id
    uploads = [kwargs for name, _, kwargs in calls if name == "upsert"]
    assert sum(len(upload["points"]) for upload in uploads) == len(data.ids)
    assert all(upload["wait"] for upload in uploads)


async def test_quantization_can_be_switched_off(client: AsyncQdrantClient, data: Data) -> None:
    seen: dict[str, Any] = {}
    real = client.create_collection

    async def recording(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return await real(*args, **kwargs)

    client.create_collection = recording  # type: ignore[method-assign]
    catalog = await open_server(client, settings={"quantization": "none"})
    await build(catalog, data)
    assert seen["quantization_config"] is None


async def test_a_collection_named_like_the_alias_is_reported(client: AsyncQdrantClient) -> None:
    await client.create_collection("products", vectors_config=models.VectorParams(size=4, distance="Cosine"))
    with pytest.raises(CatalogError, match=r"collection named 'products'.*alias"):
        await open_server(client)


async def test_an_unreachable_server_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(StoreUnavailableError, match=f"cannot reach the Qdrant server at {url}"):
        await open_catalog(StoreSettings(url=url, timeout_seconds=2))
