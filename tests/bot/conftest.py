"""Fixtures of the bot tests: one fake Musinsa and one product index per session, a running bot per test."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.app import build_application
from indexer.config import GarmentSettings, ScheduleSettings, Settings, StoreSettings
from indexer.product import Product
from tests.bot.world import bot_settings, build_index, image_settings, running
from tests.fakes.musinsa import FakeMusinsa
from tests.fakes.musinsa_catalog import DEFAULT_CATEGORIES, FakeCatalog
from tests.fakes.telegram import FakeTelegram

if TYPE_CHECKING:
    from telegram.ext import Application

    from indexer.embedding import Encoder

CATALOG_SIZE = 30
NOT_INDEXED = 2  # products the fake Musinsa sells that the index does not hold


@dataclass(frozen=True)
class World:
    musinsa: FakeMusinsa
    products: list[Product]  # indexed, in crawl order
    not_indexed: list[int]  # on the fake Musinsa only
    index_dir: Path  # the built index; tests open a copy (store_dir)
    model_dir: Path

    def product(self, goods_no: int) -> Product:
        return next(product for product in self.products if product.id == goods_no)

    def in_category(self, prefix: str) -> list[Product]:
        return [product for product in self.products if product.category.startswith(prefix)]

    @property
    def on_sale(self) -> list[Product]:
        """The indexed products a default search can find (sold-out ones are hidden unless asked for)."""
        return [product for product in self.products if not product.sold_out]

    @property
    def sold_out(self) -> list[Product]:
        return [product for product in self.products if product.sold_out]


@pytest.fixture(scope="session")
def world(
    tiny_model_dir: Path, tiny_encoder: Encoder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        patch.setenv("no_proxy", "127.0.0.1,localhost")
        with FakeMusinsa.in_thread(FakeCatalog.generate(seed=11, count=CATALOG_SIZE)) as musinsa:
            index_dir = tmp_path_factory.mktemp("bot-index") / "qdrant"
            skip = sorted(musinsa.catalog.ids())[-NOT_INDEXED:]
            products = asyncio.run(
                build_index(
                    musinsa=musinsa.musinsa_settings(),
                    images=image_settings(),
                    store=StoreSettings(path=str(index_dir)),
                    encoder=tiny_encoder,
                    model_name=f"local-dir:{tiny_model_dir}",
                    categories=DEFAULT_CATEGORIES,
                    skip_ids=skip,
                )
            )
            yield World(musinsa, products, skip, index_dir, tiny_model_dir)


@pytest.fixture
def store_dir(world: World, tmp_path: Path) -> Path:
    """A private copy of the session's index (a test may hold it open while another test runs later)."""
    target = tmp_path / "qdrant"
    shutil.copytree(world.index_dir, target, ignore=shutil.ignore_patterns(".lock"))
    return target


@pytest.fixture
def make_settings(
    fake_telegram: FakeTelegram, world: World, store_dir: Path, tmp_path: Path
) -> Callable[..., Settings]:
    """Settings aimed at this test's fake Telegram, the session's fake Musinsa and index copy."""

    def make(
        *,
        store: Path = store_dir,
        schedule: ScheduleSettings | None = None,
        garments: GarmentSettings | None = None,
        **telegram_overrides: Any,
    ) -> Settings:
        return bot_settings(
            telegram=fake_telegram,
            musinsa=world.musinsa,
            model_dir=world.model_dir,
            store_dir=store,
            data_dir=tmp_path / "data",
            schedule=schedule,
            garments=garments,
            **telegram_overrides,
        )

    return make


@pytest.fixture
async def bot(make_settings: Callable[..., Settings]) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The bot, built by the production factory and polling the fake Telegram."""
    async with running(build_application(make_settings())) as app:
        yield app
