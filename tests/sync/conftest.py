"""Shared setup for the sync tests: a small fake Musinsa, both store backends, a counting encoder."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from indexer.config import DataSettings, ImageSettings, ModelSettings, Settings, StoreSettings, SyncSettings
from indexer.images import ImageDecoder
from indexer.product import Product
from indexer.store import Catalog, open_catalog
from tests.fakes.musinsa import FakeMusinsa
from tests.fakes.musinsa_catalog import FakeCatalog

# Three leaf categories under two crawled top-level codes: 001 (two subcategories) and 002.
LEAVES = ("001004", "001001", "002022")
CODES = ("001", "002")
COUNT = 36
FAST_IMAGES = ImageSettings(requests_per_second=50.0, download_concurrency=4)


class CountingEncoder:
    """The real encoder, counting its calls; ``crash_on_call`` raises on that call (1-based)."""

    def __init__(self, inner: Any, *, crash_on_call: int | None = None) -> None:
        self.inner = inner
        self.calls = 0
        self.images = 0
        self.crash_on_call = crash_on_call

    @property
    def model_id(self) -> str:
        return str(self.inner.model_id)

    @property
    def dimension(self) -> int:
        return int(self.inner.dimension)

    @property
    def image_size(self) -> int:
        return int(self.inner.image_size)

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray:
        self.calls += 1
        if self.crash_on_call is not None and self.calls >= self.crash_on_call:
            raise RuntimeError("injected crash in the encoder")
        self.images += len(images)
        return self.inner.embed_images(images)  # type: ignore[no-any-return]


def make_fake_catalog(count: int = COUNT, seed: int = 5) -> FakeCatalog:
    return FakeCatalog.generate(seed=seed, count=count, categories=LEAVES)


@pytest.fixture
async def fake() -> AsyncIterator[FakeMusinsa]:
    async with FakeMusinsa(make_fake_catalog()) as server:
        yield server


@pytest.fixture(params=["edge", "server"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> StoreSettings:
    if request.param == "edge":
        return StoreSettings(path=str(tmp_path / "qdrant"))
    return StoreSettings(url=":memory:")


@pytest.fixture
async def catalog(store_settings: StoreSettings) -> AsyncIterator[Catalog]:
    opened = await open_catalog(store_settings)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def encoder(tiny_encoder: Any) -> CountingEncoder:
    return CountingEncoder(tiny_encoder)


def make_config(
    fake: FakeMusinsa,
    data_dir: Path,
    model_dir: Path,
    *,
    categories: Sequence[str] = CODES,
    musinsa: dict[str, object] | None = None,
    **sync: Any,
) -> Settings:
    return Settings(
        musinsa=fake.musinsa_settings(
            # The sync rules are tested on exactly the crawled codes; expansion has its own test.
            **{
                "categories": list(categories),
                "expand_subcategories": False,
                "max_retries": 8,
                **(musinsa or {}),
            }
        ),
        images=FAST_IMAGES,
        sync=SyncSettings(**{"embed_batch_size": 4, **sync}),
        data=DataSettings(dir=str(data_dir)),
        model=ModelSettings(name=f"local-dir:{model_dir}"),
    )


@pytest.fixture
def config(fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path) -> Settings:
    return make_config(fake, tmp_path / "data", tiny_model_dir)


def expected_ids(fake: FakeMusinsa, codes: Sequence[str] = CODES) -> set[int]:
    return {pid for code in codes for pid in fake.listing_ids(code)}


async def contents(index: Any) -> dict[int, Product]:
    """Every stored product by id (and a check that refs and stored points agree)."""
    ids = [ref.id async for ref in index.refs()]
    assert len(ids) == len(set(ids)), "refs listed a product twice"
    stored = {item.product.id: item.product for item in await index.get(ids)}
    assert set(stored) == set(ids)
    assert await index.count() == len(ids)
    return stored


def assert_matches_fake(stored: dict[int, Product], fake: FakeMusinsa, codes: Sequence[str] = CODES) -> None:
    """The index holds exactly the fake's listed products, with their current price, flags and image."""
    assert set(stored) == expected_ids(fake, codes)
    for pid, product in stored.items():
        source = fake.catalog.get(pid)
        assert product.price == source.price, pid
        assert product.sold_out == source.sold_out, pid
        assert product.image_url.endswith(source.image_path), pid


async def stored_vector(index: Any, pid: int) -> np.ndarray:
    [item] = await index.get([pid], with_vectors=True)
    assert item.vector is not None
    return np.asarray(item.vector, dtype=np.float32)


def expected_vector(encoder: Any, fake: FakeMusinsa, pid: int) -> np.ndarray:
    """What the query path would compute for the product's current image."""
    image = ImageDecoder(ImageSettings(), encoder.image_size).decode(fake.image_bytes(pid))
    return np.asarray(encoder.embed_images([image])[0], dtype=np.float32)


def read_state(data_dir: Path, name: str) -> Any:
    return json.loads((data_dir / "state" / name).read_text(encoding="utf-8"))
