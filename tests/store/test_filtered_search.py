"""Filtered search stays exact (issue 18): every shopper filter answers the true nearest matching
products on both engines, and new Edge versions get the filter-aware index config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from qdrant_edge import EdgeConfig

from indexer.config import StoreSettings
from indexer.product import Product
from indexer.store import Catalog, SearchQuery, open_catalog, tuning
from indexer.store import edge as edge_module
from indexer.store.edge_layout import EdgeLayout
from indexer.store.filters import DEFAULT_FILTERS, NO_FILTERS, SearchFilters

from .conftest import MODEL_B, Data, Harness, build, exact_ranking, make_product, random_vectors

LABELS = ("남성", "여성", "공용", None)
QUERIES = random_vectors(4, seed=99)


def shopper_data(count: int = 240) -> Data:
    """Products with Musinsa gender labels (some missing), sold-out ones and spread prices."""
    products = [
        make_product(
            2000 + i,
            gender=LABELS[i % 4],
            sold_out=i % 7 == 0,
            price=10_000 + 2_500 * (i % 41),
            normal_price=10_000 + 2_500 * (i % 41),
            final_price=None,
        )
        for i in range(count)
    ]
    return Data(products, random_vectors(count, seed=3))


def matches(product: Product, category: str | None, filters: SearchFilters) -> bool:
    """The filter's meaning, written out: what the engines must agree with."""
    if category is not None and not product.category.startswith(category):
        return False
    if filters.min_price is not None and product.effective_price < filters.min_price:
        return False
    if filters.max_price is not None and product.effective_price > filters.max_price:
        return False
    if not filters.include_sold_out and product.sold_out:
        return False
    if filters.gender == "men" and product.gender == "여성":
        return False
    return not (filters.gender == "women" and product.gender == "남성")


CASES: list[tuple[str | None, SearchFilters]] = [
    (None, NO_FILTERS),
    (None, DEFAULT_FILTERS),
    ("001", NO_FILTERS),
    ("001004", NO_FILTERS),
    (None, NO_FILTERS.replace(min_price=30_000, max_price=80_000)),
    (None, NO_FILTERS.replace(gender="women")),
    (None, NO_FILTERS.replace(gender="men")),
    ("003", DEFAULT_FILTERS.replace(max_price=60_000, gender="women")),
    ("001", DEFAULT_FILTERS.replace(min_price=40_000, gender="men")),
]


@pytest.mark.parametrize(("category", "filters"), CASES)
async def test_every_filter_answers_the_exact_nearest_matching_products(
    harness: Harness, category: str | None, filters: SearchFilters
) -> None:
    data = shopper_data()
    catalog = await harness.open()
    await build(catalog, data)
    keep = [matches(product, category, filters) for product in data.products]
    assert sum(keep) > 10  # enough matching products to rank ten
    chosen = data.subset(keep)
    for query in QUERIES:
        hits = await catalog.search(SearchQuery(query, categories=category, filters=filters, limit=10))
        assert [hit.product.id for hit in hits] == exact_ranking(chosen.vectors, chosen.ids, query)[:10]
        assert all(matches(hit.product, category, filters) for hit in hits)


def stored_config(settings: StoreSettings, catalog: Catalog) -> dict[str, object]:
    """The config Qdrant Edge persisted in the current version's shard folder."""
    assert catalog.version is not None
    layout = EdgeLayout(Path(settings.path), settings.collection)
    config: dict[str, object] = json.loads(
        (layout.shard_dir(catalog.version.name) / "edge_config.json").read_text("utf-8")
    )
    return config


EXPECTED_HNSW = {
    "m": tuning.HNSW_M,
    "ef_construct": tuning.HNSW_EF_CONSTRUCT,
    "full_scan_threshold": tuning.FULL_SCAN_KB,
    "payload_m": tuning.HNSW_PAYLOAD_M,
}


def hnsw_of(config: dict[str, object]) -> dict[str, object] | None:
    hnsw = config.get("hnsw_config")
    return {key: hnsw[key] for key in EXPECTED_HNSW} if isinstance(hnsw, dict) else None


async def test_new_edge_versions_get_the_filter_aware_index_config(tmp_path: Path) -> None:
    settings = StoreSettings(path=str(tmp_path / "qdrant"))
    catalog = await open_catalog(settings)
    try:
        await build(catalog, shopper_data(60))
        assert hnsw_of(stored_config(settings, catalog)) == EXPECTED_HNSW
        assert tuning.FULL_SCAN_KB > 10_000  # above Qdrant's default, where top-level categories lost recall
    finally:
        await catalog.close()


async def test_a_version_built_with_the_old_config_still_serves_and_the_next_one_gets_the_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Edge keeps each shard's config on disk: an old version opens as it was built."""
    settings = StoreSettings(path=str(tmp_path / "qdrant"))

    current = edge_module.edge_config

    def before_issue_18(dimension: int, quantization: str, **options: Any) -> EdgeConfig:
        """Today's config without the HNSW settings: what versions built before them hold."""
        made = current(dimension, quantization, **options)
        return EdgeConfig(
            vectors=made.vectors,
            sparse_vectors=made.sparse_vectors or None,
            quantization_config=made.quantization_config,
        )

    data = shopper_data(60)
    with monkeypatch.context() as patch:
        patch.setattr(edge_module, "edge_config", before_issue_18)
        catalog = await open_catalog(settings)
        await build(catalog, data)
        await catalog.close()

    reopened = await open_catalog(settings)
    try:
        assert hnsw_of(stored_config(settings, reopened)) != EXPECTED_HNSW
        hits = await reopened.search(SearchQuery(QUERIES[0], filters=NO_FILTERS, limit=10))
        assert [hit.product.id for hit in hits] == exact_ranking(data.vectors, data.ids, QUERIES[0])[:10]
        other = Data(data.products, random_vectors(len(data.ids), MODEL_B.dimension, seed=5))
        await build(reopened, other, MODEL_B)
        assert hnsw_of(stored_config(settings, reopened)) == EXPECTED_HNSW
        assert reopened.version is not None and reopened.version.model_id == MODEL_B.id
    finally:
        await reopened.close()


async def test_new_server_collections_ask_for_the_same_index_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Qdrant server builds the graph from the collection's config: the request carries Edge's
    settings (local mode accepts them but stores its defaults, so the request itself is checked)."""
    catalog = await open_catalog(StoreSettings(url=":memory:"))
    client = catalog._engine._client
    created: list[Any] = []
    original = client.create_collection

    async def recording(*args: Any, **kwargs: Any) -> Any:
        created.append(kwargs.get("hnsw_config"))
        return await original(*args, **kwargs)

    monkeypatch.setattr(client, "create_collection", recording)
    try:
        await build(catalog, shopper_data(20))
        assert created, "no collection was created"
        assert {key: getattr(created[-1], key) for key in EXPECTED_HNSW} == EXPECTED_HNSW
    finally:
        await catalog.close()
