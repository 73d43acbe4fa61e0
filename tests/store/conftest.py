"""Fixtures for the product-index tests: both backends behind one harness, tiny vectors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import AsyncQdrantClient

from indexer.config import StoreSettings
from indexer.product import Product
from indexer.store import Catalog, CatalogVersion, open_catalog
from indexer.store.server import open_server_catalog

DIM = 16


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    dimension: int


MODEL_A = Model("tiny-clip-a@squash@fp32", "tiny-clip-a", DIM)
MODEL_B = Model("tiny-clip-b@squash@fp32", "tiny-clip-b", 24)
MODEL_C = Model("tiny-clip-c@squash@fp32", "tiny-clip-c", DIM)

CATEGORIES = ["001004", "001005", "002001", "003002", "003"]


def make_product(pid: int, category: str | None = None, **changes: object) -> Product:
    """A product shaped like the crawler's, with varied prices and an extra discount on some."""
    price = 10_000 + 1_000 * (pid % 37)
    fields: dict[str, object] = {
        "id": pid,
        "name": f"오버핏 후드 {pid}",
        "brand": f"brand{pid % 4}",
        "brand_name": f"브랜드 {pid % 4}",
        "category": category or CATEGORIES[pid % len(CATEGORIES)],
        "price": price,
        "normal_price": price + 5_000,
        "sale_rate": 10,
        "final_price": price - 700 if pid % 3 == 0 else None,
        "image_url": f"https://image.msscdn.net/images/goods_img/{pid}_500.jpg",
        "url": f"https://www.musinsa.com/products/{pid}",
        "gender": "M",
        "sold_out": pid % 11 == 0,
        "review_count": pid * 3,
        "rating": 4.5,
        "crawled_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    fields.update(changes)
    return Product.model_validate(fields)


def random_vectors(count: int, dimension: int = DIM, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)


def exact_ranking(matrix: np.ndarray, ids: Sequence[int], query: np.ndarray) -> list[int]:
    """Ids by exact cosine similarity to ``query``, best first (numpy, float64)."""
    unit = matrix.astype(np.float64) / np.linalg.norm(matrix.astype(np.float64), axis=1, keepdims=True)
    scores = unit @ (query.astype(np.float64) / np.linalg.norm(query))
    return [ids[i] for i in np.argsort(-scores, kind="stable")]


@dataclass
class Data:
    products: list[Product]
    vectors: np.ndarray

    @property
    def ids(self) -> list[int]:
        return [product.id for product in self.products]

    def items(self) -> list[tuple[Product, np.ndarray]]:
        return list(zip(self.products, self.vectors, strict=True))

    def subset(self, keep: Sequence[bool]) -> Data:
        chosen = [i for i, flag in enumerate(keep) if flag]
        return Data([self.products[i] for i in chosen], self.vectors[chosen])


def make_data(count: int = 60, dimension: int = DIM, seed: int = 7, first_id: int = 1000) -> Data:
    products = [make_product(first_id + i) for i in range(count)]
    return Data(products, random_vectors(count, dimension, seed))


async def build(catalog: Catalog, data: Data, model: Model = MODEL_A) -> CatalogVersion:
    rebuild = await catalog.begin_rebuild(model.id, model.name, model.dimension)
    await rebuild.upsert(data.items(), model_id=model.id)
    return await rebuild.commit()


@dataclass
class Harness:
    """Opens catalogs of one backend on one shared storage (a folder, or one local-mode client)."""

    kind: str
    settings: StoreSettings
    client: AsyncQdrantClient | None = None
    opened: list[Catalog] = field(default_factory=list)

    async def open(self) -> Catalog:
        catalog: Catalog
        if self.kind == "edge":
            catalog = await open_catalog(self.settings)
        else:
            catalog = await open_server_catalog(self.settings, client=self.client, refresh_seconds=0)
        self.opened.append(catalog)
        return catalog

    async def close_all(self) -> None:
        for catalog in self.opened:
            await catalog.close()
        if self.client is not None:
            await self.client.close()


@pytest.fixture(params=["edge", "server"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    if request.param == "edge":
        made = Harness("edge", StoreSettings(path=str(tmp_path / "qdrant")))
    else:
        made = Harness("server", StoreSettings(url=":memory:"), client=AsyncQdrantClient(location=":memory:"))
    try:
        yield made
    finally:
        await made.close_all()


@pytest.fixture
async def catalog(harness: Harness) -> Catalog:
    return await harness.open()


@pytest.fixture
def data() -> Data:
    return make_data()


@pytest.fixture
async def filled(catalog: Catalog, data: Data) -> Catalog:
    await build(catalog, data)
    return catalog
